"""The recordings' object store in development and tests: moto's S3 server on loopback, with the bucket made
(versioned, as an operator should make it) before it answers. Dev-only, like the other stand-ins."""

DEV_ACCESS_KEY = "devstorage"
DEV_SECRET = "devstorage-secret"  # noqa: S105 (moto checks no credentials: the pair only has to be well-formed)
