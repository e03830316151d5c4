"""What a product file may be, read and recognised before anything is stored: photos Telegram sends
as photos (JPEG, PNG, WebP), videos it plays (MP4, MOV), within Telegram's upload limits."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from fastapi import UploadFile
from PIL import Image, UnidentifiedImageError

from tgadmin.errors import InvalidInput, PayloadTooLarge

MB = 1024 * 1024
# Telegram's own limits: sendPhoto takes photos up to 10 MB, and a bot uploads files up to 50 MB.
PHOTO_LIMIT = 10 * MB
VIDEO_LIMIT = 50 * MB
LIMITS_TEXT = "photos (JPEG, PNG, WebP) up to 10 MB, videos (MP4, MOV) up to 50 MB"
IMAGE_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
CHUNK = MB


@dataclass(frozen=True)
class Upload:
    """One uploaded file, read whole (never more than the largest limit, plus one byte)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Inspected:
    name: str
    data: bytes
    content_type: str
    extension: str
    width: int | None
    height: int | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _too_large(name: str, size: int, what: str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{name} is {size / MB:.1f} MB: {what} may be at most {limit // MB} MB ({LIMITS_TEXT}); "
        "nothing was saved"
    )


async def read_uploads(files: list[UploadFile]) -> list[Upload]:
    """The uploaded files' bytes; a file past the largest limit stops reading at once (413)."""
    found = []
    for file in files:
        name = (file.filename or "file")[:120]
        chunks, size = [], 0
        while chunk := await file.read(CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > VIDEO_LIMIT:
                raise _too_large(name, size, "a file", VIDEO_LIMIT)
        found.append(Upload(name, b"".join(chunks)))
    return found


def _video(data: bytes) -> tuple[str, str] | None:
    # ISO base media files (MP4, MOV) start with a box whose type is "ftyp"; its brand tells which.
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    return ("video/quicktime", "mov") if data[8:12] == b"qt  " else ("video/mp4", "mp4")


def _image(data: bytes) -> tuple[str, str, int, int] | None:
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused like any file that is not a photo we can send.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = IMAGE_TYPES.get(image.format or "")
                width, height = image.size
                image.verify()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        return None
    return None if kind is None else (*kind, width, height)


def inspect(upload: Upload) -> Inspected:
    """What the file is, by its bytes (the name and the browser's content type are not trusted)."""
    if not upload.data:
        raise InvalidInput(f"{upload.name} is empty; nothing was saved")
    image = _image(upload.data)
    if image is not None:
        content_type, extension, width, height = image
        if len(upload.data) > PHOTO_LIMIT:
            raise _too_large(upload.name, len(upload.data), "a photo", PHOTO_LIMIT)
        return Inspected(upload.name, upload.data, content_type, extension, width, height)
    video = _video(upload.data)
    if video is None:
        raise InvalidInput(f"{upload.name} is neither a photo nor a video ({LIMITS_TEXT}); nothing was saved")
    return Inspected(upload.name, upload.data, video[0], video[1], None, None)
