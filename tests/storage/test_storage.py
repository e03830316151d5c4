"""File storage: the local folder and S3 (moto's S3 server over HTTP) behave the same."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.fixtures.servers import MotoServer
from tgadmin.errors import BadRequest, NotFound, ServiceUnavailable
from tgadmin.storage import LocalStorage, S3Storage, Storage


def _s3(server: MotoServer, bucket: str, key: str = "test", secret: str = "test") -> S3Storage:
    return S3Storage(
        endpoint=server.url, bucket=bucket, access_key=key, secret_key=secret, region="us-east-1"
    )


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    return _s3(request.getfixturevalue("s3_server"), f"media-{uuid.uuid4().hex[:8]}")


async def test_stored_file_reads_back_identical_and_can_be_deleted(storage: Storage) -> None:
    assert await storage.create_bucket() is True
    assert await storage.create_bucket() is False  # idempotent
    await storage.put("creators/1/photo.jpg", b"\xff\xd8jpeg-bytes", "image/jpeg")
    assert await storage.exists("creators/1/photo.jpg")
    assert await storage.get("creators/1/photo.jpg") == b"\xff\xd8jpeg-bytes"
    await storage.delete("creators/1/photo.jpg")
    assert not await storage.exists("creators/1/photo.jpg")
    with pytest.raises(NotFound):
        await storage.get("creators/1/photo.jpg")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a/../../b", "", "a//b"])
async def test_keys_that_would_escape_the_folder_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(BadRequest):
        await storage.put(key, b"x", "text/plain")


async def test_s3_reports_refused_credentials_in_one_line(s3_server_strict: MotoServer) -> None:
    storage = _s3(s3_server_strict, "refused-bucket", key="AKIAWRONGWRONGWRONG1", secret="nope")
    with pytest.raises(ServiceUnavailable) as caught:
        await storage.ping()
    assert "\n" not in caught.value.message
    assert "InvalidAccessKeyId" in caught.value.message or "403" in caught.value.message


@pytest.mark.parametrize("bucket", ["Bad_Bucket_Name!", "ab"])
async def test_s3_bucket_name_that_s3_rejects_is_a_clear_error(s3_server: MotoServer, bucket: str) -> None:
    storage = _s3(s3_server, bucket)
    with pytest.raises(BadRequest) as caught:
        await storage.create_bucket()
    assert f"bucket {bucket!r}" in caught.value.message
    assert "\n" not in caught.value.message


async def test_s3_unreachable_endpoint_fails_fast_with_reason() -> None:
    from tgadmin.redis import free_port

    storage = S3Storage(
        endpoint=f"http://127.0.0.1:{free_port()}",
        bucket="b",
        access_key="k",
        secret_key="s",
        region="us-east-1",
    )
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        await storage.ping()


async def test_missing_bucket_is_reported_with_the_command_that_creates_it(s3_server: MotoServer) -> None:
    with pytest.raises(ServiceUnavailable, match="create-bucket"):
        await _s3(s3_server, f"absent-{uuid.uuid4().hex[:6]}").ping()
