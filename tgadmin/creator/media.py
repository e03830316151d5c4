"""A creator's preview photos: upload (images only, up to MAX_UPLOAD_BYTES), crop, order, removal,
and the bytes buyers actually receive (`preview_bytes`: the crop applied with Pillow).

The crop box is stored on `MediaAsset.crop` and the original is kept, so a crop can be redone; a new
crop forgets the Telegram file_ids of the old picture, so the next send uploads the cropped one.
Services flush; files leave storage only once the removal is committed (`after_commit`).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.creator import repository
from tgadmin.creator.schemas import CropBox
from tgadmin.db import AfterCommit
from tgadmin.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from tgadmin.models import Creator, MediaAsset
from tgadmin.storage import Storage

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_TEXT = "10 MB"
MAX_PREVIEWS = 10  # an album holds at most 10
# Larger pictures than this are refused, not decoded (a small file can unpack into gigabytes).
MAX_IMAGE_PIXELS = 40_000_000
# What Telegram shows as a photo; the stored type is what Pillow found, not what the browser said.
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True, slots=True)
class Picture:
    content_type: str
    extension: str
    width: int
    height: int


def inspect_image(data: bytes) -> Picture:
    """What the bytes are, if they are a JPEG, PNG or WebP image of a sane size; else BadRequest."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the file is larger than {MAX_UPLOAD_TEXT}; upload a smaller image")
    if not data:
        raise BadRequest("the file is empty; choose a JPEG, PNG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found, (width, height) = image.format, image.size
                image.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise BadRequest(f"the image has more than {MAX_IMAGE_PIXELS:,} pixels; make it smaller") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise BadRequest("the file is not an image (JPEG, PNG or WebP); nothing was saved") from None
    if found not in FORMATS:
        raise BadRequest(f"{found} images are not accepted as previews; use JPEG, PNG or WebP")
    if width * height > MAX_IMAGE_PIXELS:
        raise BadRequest(f"the image has more than {MAX_IMAGE_PIXELS:,} pixels; make it smaller")
    content_type, extension = FORMATS[found]
    return Picture(content_type, extension, width, height)


def _snapshot(asset: MediaAsset, position: int | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "asset_id": asset.id,
        "storage_key": asset.storage_key,
        "sha256": asset.sha256,
        "crop": asset.crop,
    }
    if position is not None:
        shown["position"] = position
    return shown


async def upload(
    session: AsyncSession, storage: Storage, creator: Creator, data: bytes, actor: Actor
) -> MediaAsset:
    """Store an image as the creator's last preview (the file is written before the row: a failed
    request leaves at most an unreferenced file, never a row without its file)."""
    picture = inspect_image(data)
    ids = await repository.preview_asset_ids(session, creator.id)
    if len(ids) >= MAX_PREVIEWS:
        raise Conflict(f"a creator has at most {MAX_PREVIEWS} preview photos; remove one first")
    key = f"creators/{creator.id}/previews/{uuid.uuid4().hex}.{picture.extension}"
    await storage.put(key, data, picture.content_type)
    asset = await repository.add_asset(
        session,
        MediaAsset(
            storage_key=key,
            content_type=picture.content_type,
            size_bytes=len(data),
            width=picture.width,
            height=picture.height,
            sha256=hashlib.sha256(data).hexdigest(),
            crop=None,
        ),
    )
    await repository.set_previews(session, creator.id, [*ids, asset.id])
    after = _snapshot(asset, len(ids))
    await record(session, actor, "creator.preview_added", "creator", creator.id, after=after)
    return asset


async def find_preview(session: AsyncSession, creator: Creator, asset_id: int) -> MediaAsset:
    asset = await repository.preview_asset(session, creator.id, asset_id)
    if asset is None:
        raise NotFound(f"creator {creator.id} has no preview {asset_id}")
    return asset


def check_crop(asset: MediaAsset, box: CropBox) -> None:
    """The box must lie inside the original picture."""
    if asset.width is None or asset.height is None:
        raise Conflict("this file's size is unknown, so it cannot be cropped")
    if box.x + box.width > asset.width or box.y + box.height > asset.height:
        raise BadRequest(
            f"the crop box ({box.x}, {box.y}, {box.width}×{box.height}) lies outside the "
            f"{asset.width}×{asset.height} image; nothing was changed"
        )


async def set_crop(
    session: AsyncSession, creator: Creator, asset_id: int, box: CropBox | None, actor: Actor
) -> MediaAsset:
    """Crop the delivered preview to `box` (None: send the whole picture again)."""
    asset = await find_preview(session, creator, asset_id)
    if box is not None:
        check_crop(asset, box)
    before = _snapshot(asset)
    asset.crop = None if box is None else box.model_dump()
    await session.flush()
    # Telegram's copies show the old framing: the next send uploads the new one.
    await repository.forget_file_ids(session, asset.id)
    await record(
        session,
        actor,
        "creator.preview_cropped",
        "creator",
        creator.id,
        before=before,
        after=_snapshot(asset),
    )
    return asset


async def reorder(session: AsyncSession, creator: Creator, asset_ids: list[int], actor: Actor) -> None:
    """The previews in exactly this order (every one of them, once)."""
    current = await repository.preview_asset_ids(session, creator.id)
    if sorted(asset_ids) != sorted(current):
        raise BadRequest(f"the new order must list each of the creator's previews once: {current}")
    await repository.set_previews(session, creator.id, asset_ids)
    await record(
        session,
        actor,
        "creator.previews_reordered",
        "creator",
        creator.id,
        before={"order": current},
        after={"order": asset_ids},
    )


async def move(session: AsyncSession, creator: Creator, asset_id: int, step: int, actor: Actor) -> None:
    """One place earlier (step -1) or later (+1); at either end nothing moves."""
    order = await repository.preview_asset_ids(session, creator.id)
    if asset_id not in order:
        raise NotFound(f"creator {creator.id} has no preview {asset_id}")
    at = order.index(asset_id)
    to = min(max(at + step, 0), len(order) - 1)
    order.insert(to, order.pop(at))
    await reorder(session, creator, order, actor)


async def remove(
    session: AsyncSession,
    storage: Storage,
    after_commit: AfterCommit,
    creator: Creator,
    asset_id: int,
    actor: Actor,
) -> None:
    """The preview goes; its file leaves storage once that is committed."""
    asset = await find_preview(session, creator, asset_id)
    before, key = _snapshot(asset), asset.storage_key
    await repository.delete_asset(session, asset)
    await record(session, actor, "creator.preview_removed", "creator", creator.id, before=before)
    after_commit.add(lambda: storage.delete(key))


def _cropped(data: bytes, crop: dict[str, Any]) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        box = (crop["x"], crop["y"], crop["x"] + crop["width"], crop["y"] + crop["height"])
        part = image.crop(box)
        if part.mode not in ("RGB", "L"):
            part = part.convert("RGB")
        out = io.BytesIO()
        part.save(out, format="JPEG", quality=90)
        return out.getvalue()


async def preview_bytes(storage: Storage, asset: MediaAsset) -> bytes:
    """The preview as buyers get it: the stored file, cropped (as a JPEG) when a crop box is set."""
    data = await storage.get(asset.storage_key)
    if asset.crop is None:
        return data
    return await asyncio.to_thread(_cropped, data, asset.crop)


def delivered_type(asset: MediaAsset) -> str:
    """The content type of `preview_bytes(asset)`."""
    return "image/jpeg" if asset.crop is not None else asset.content_type


def delivered_name(asset: MediaAsset) -> str:
    stem = asset.storage_key.rsplit("/", 1)[-1]
    return stem.rsplit(".", 1)[0] + ".jpg" if asset.crop is not None else stem
