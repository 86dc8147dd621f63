"""The recordings' object store from a test's side: moto's S3 server on loopback (never on every interface), a
fresh versioned bucket per test, and looks at what it holds (every version and delete marker)."""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from deploy.dev.standins.storage import DEV_ACCESS_KEY, DEV_SECRET


class ObjectStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.s3: Any = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=DEV_ACCESS_KEY,
            aws_secret_access_key=DEV_SECRET,
        )

    def new_bucket(self) -> str:
        """A fresh bucket, versioned as an operator should make it."""
        name = f"recordings-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=name)
        self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def settings(self, bucket: str) -> dict[str, Any]:
        """Sessions' recordings settings for `bucket` (as SessionsSettings fields)."""
        return {
            "recordings_s3_endpoint": self.url,
            "recordings_s3_bucket": bucket,
            "recordings_s3_access_key": DEV_ACCESS_KEY,
            "recordings_s3_secret": DEV_SECRET,
            "recordings_s3_force_path_style": True,
        }

    def environment(self, bucket: str) -> dict[str, str]:
        """The same, as the environment of a sessions process."""
        return {
            f"{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in self.settings(bucket).items()
        }

    def put(self, bucket: str, key: str, body: bytes = b"OggS audio") -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)

    def versions(self, bucket: str, prefix: str = "") -> list[str]:
        """Every version and delete marker under `prefix`, as `key@version`."""
        listed = self.s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        return [
            f"{item['Key']}@{item['VersionId']}"
            for item in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
        ]


@contextmanager
def object_store_on_loopback() -> Iterator[ObjectStore]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield ObjectStore(f"http://{host}:{port}")
    finally:
        server.stop()
