"""The recordings' bucket as sessions uses it: short-lived playback links (presigned locally, never stored), and the
erasure of every version of every object under an interview's prefix. aiobotocore (botocore's signer, retries and
pagination over aiohttp), one client for the app's life with explicit timeouts; every failure of the store is
`StorageUnavailable`."""

from types import TracebackType
from typing import Any, Self

import msgspec
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

DELETE_BATCH = 1000  # S3's DeleteObjects takes at most this many keys a call


class StorageUnavailable(Exception):
    """The object store could not answer, or refused part of what was asked."""


class Bucket(msgspec.Struct, frozen=True, kw_only=True):
    """Where recordings are kept: an empty `endpoint` is AWS's own for `region`."""

    endpoint: str
    name: str
    region: str
    force_path_style: bool


class RecordingStorage:
    """Open for the app's life (`async with`). Empty credentials are botocore's default chain (an instance or pod
    role)."""

    def __init__(self, bucket: Bucket, *, access_key: str, secret: str, timeout: float = 10.0) -> None:
        self.bucket = bucket.name
        self._options: dict[str, Any] = {
            "region_name": bucket.region,
            "endpoint_url": bucket.endpoint or None,
            "aws_access_key_id": access_key or None,
            "aws_secret_access_key": secret or None,
            "config": Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path" if bucket.force_path_style else "auto"},
                signature_version="s3v4",
            ),
        }
        self._context: Any = None
        self._client: Any = None

    async def __aenter__(self) -> Self:
        self._context = get_session().create_client("s3", **self._options)
        self._client = await self._context.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._context is not None:
            await self._context.__aexit__(kind, error, trace)

    async def playback_url(self, key: str, seconds: int) -> str:
        """A GET of `key` signed for `seconds` (no request is made: the signature is computed here)."""
        assert self._client is not None, "RecordingStorage used outside `async with`"
        url: str = await self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": "audio/ogg"},
            ExpiresIn=seconds,
        )
        return url

    async def delete_everything_under(self, prefix: str) -> int:
        """Delete every version and delete marker of every object whose key starts with `prefix` (a versioned
        bucket keeps an overwritten or deleted object as a version behind a marker); how many went. Done when it
        returns: a prefix with nothing under it is done too."""
        assert self._client is not None, "RecordingStorage used outside `async with`"
        deleted = 0
        try:
            paginator = self._client.get_paginator("list_object_versions")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                versions = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                for start in range(0, len(versions), DELETE_BATCH):
                    batch = versions[start : start + DELETE_BATCH]
                    objects = [{"Key": item["Key"], "VersionId": item["VersionId"]} for item in batch]
                    answer = await self._client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
                    )
                    if errors := answer.get("Errors"):
                        raise StorageUnavailable(f"the store refused {len(errors)} deletions ({errors[0].get('Code')})")
                    deleted += len(objects)
        except (BotoCoreError, ClientError, OSError, TimeoutError) as error:
            raise StorageUnavailable(f"the object store failed: {type(error).__name__}") from error
        return deleted
