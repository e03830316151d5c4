"""File storage behind one small interface: a local folder (default, `./var/media`) or S3.

S3 is spoken through aioboto3 (botocore underneath), so any S3-compatible server works
(AWS, MinIO, moto's server in the tests).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from tgadmin.config import Settings
from tgadmin.errors import BadRequest, NotFound, ServiceUnavailable

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,511}$")


def validate_key(key: str) -> str:
    """Keys are relative POSIX paths without `..`: nothing can escape the folder or bucket prefix."""
    if not _KEY.match(key) or ".." in PurePosixPath(key).parts or "//" in key:
        raise BadRequest(f"storage key {key!r} is not a safe relative path")
    return key


class Storage(Protocol):
    description: str

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def create_bucket(self) -> bool:
        """Make the bucket/folder; True if it was created now, False if it already existed."""
        ...

    async def ping(self) -> str:
        """Check the storage answers and is writable by us; returns a description."""
        ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"local folder {root}"

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        tmp = path.with_name(path.name + ".part")

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a reader never sees half a file

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise NotFound(f"no stored file {key!r}") from None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def create_bucket(self) -> bool:
        existed = self.root.is_dir()
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        return not existed

    async def ping(self) -> str:
        await self.create_bucket()
        probe = self.root / ".tgadmin-check"
        try:
            await asyncio.to_thread(probe.write_bytes, b"ok")
            await asyncio.to_thread(probe.unlink)
        except OSError as error:
            raise ServiceUnavailable(f"storage: {self.root} is not writable: {error.strerror}") from None
        return self.description


def _s3_reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = info.get("Code", "")
        message = info.get("Message") or ""
        return f"{code}: {message}".strip(": ") if code or message else str(error)
    return str(error).splitlines()[0]


class S3Storage:
    def __init__(
        self, *, endpoint: str | None, bucket: str, access_key: str, secret_key: str, region: str
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.description = f"S3 bucket {bucket}" + (f" at {endpoint}" if endpoint else "")
        self._session = aioboto3.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        self._config = AioConfig(
            connect_timeout=3,
            read_timeout=10,
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": "path"},
        )

    def _client(self) -> Any:
        return self._session.client("s3", endpoint_url=self.endpoint, config=self._config)

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            async with self._client() as s3:
                return await getattr(s3, operation)(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise NotFound(f"no stored file {kwargs.get('Key')!r}") from None
            if code in {"InvalidBucketName", "InvalidArgument", "BucketAlreadyExists"}:
                raise BadRequest(f"storage: S3 refused bucket {self.bucket!r}: {_s3_reason(error)}") from None
            raise ServiceUnavailable(f"storage: S3 {operation} failed: {_s3_reason(error)}") from None
        except ParamValidationError as error:
            detail = " ".join(str(error).split())
            raise BadRequest(f"storage: S3 refused bucket {self.bucket!r}: {detail}") from None
        except (BotoCoreError, OSError) as error:
            raise ServiceUnavailable(f"storage: S3 unreachable: {_s3_reason(error)}") from None

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._call(
            "put_object", Bucket=self.bucket, Key=validate_key(key), Body=data, ContentType=content_type
        )

    async def get(self, key: str) -> bytes:
        try:
            async with self._client() as s3:
                response = await s3.get_object(Bucket=self.bucket, Key=validate_key(key))
                async with response["Body"] as stream:
                    data: bytes = await stream.read()
                    return data
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise NotFound(f"no stored file {key!r}") from None
            raise ServiceUnavailable(f"storage: S3 get_object failed: {_s3_reason(error)}") from None
        except (BotoCoreError, OSError) as error:
            raise ServiceUnavailable(f"storage: S3 unreachable: {_s3_reason(error)}") from None

    async def delete(self, key: str) -> None:
        await self._call("delete_object", Bucket=self.bucket, Key=validate_key(key))

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", Bucket=self.bucket, Key=validate_key(key))
        except NotFound:
            return False
        return True

    async def create_bucket(self) -> bool:
        try:
            await self._call("head_bucket", Bucket=self.bucket)
            return False
        except NotFound:
            pass
        except ServiceUnavailable as error:
            if "404" not in error.message and "NoSuchBucket" not in error.message:
                raise
        await self._call("create_bucket", Bucket=self.bucket)
        return True

    async def ping(self) -> str:
        try:
            await self._call("head_bucket", Bucket=self.bucket)
        except NotFound:
            raise ServiceUnavailable(
                f"storage: bucket {self.bucket!r} does not exist (run `tgadmin storage create-bucket`)"
            ) from None
        return self.description


def get_storage(settings: Settings) -> Storage:
    if settings.s3_bucket:
        assert settings.s3_access_key and settings.s3_secret_key  # guaranteed by Settings validation
        return S3Storage(
            endpoint=settings.s3_endpoint,
            bucket=settings.s3_bucket,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            region=settings.s3_region,
        )
    return LocalStorage(settings.media_dir)
