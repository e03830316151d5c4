"""Media assets sent to Telegram: by the file_id a bot already has for them, else uploaded from
storage; the file_id Telegram answers with is kept per bot (`media_file_ids`), so each file is
uploaded once per bot. Delivery (purchase/jobs.py) and the creator previews share this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto, InputMediaVideo, Message
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import db
from tgadmin.models import MediaAsset, MediaFileId
from tgadmin.storage import Storage

Kind = Literal["photo", "video", "document"]
InputMedia = InputMediaPhoto | InputMediaVideo | InputMediaDocument


def kind_of(content_type: str) -> Kind:
    """How Telegram is asked to show a file (GIFs and anything unusual go as documents)."""
    if content_type.startswith("image/") and content_type != "image/gif":
        return "photo"
    if content_type.startswith("video/"):
        return "video"
    return "document"


async def input_media(storage: Storage, asset: MediaAsset, file_id: str | None) -> InputMedia:
    """The asset as an album item: its cached file_id, or its bytes read from storage to upload."""
    source: str | BufferedInputFile
    if file_id is not None:
        source = file_id
    else:
        data = await storage.get(asset.storage_key)
        source = BufferedInputFile(data, filename=asset.storage_key.rsplit("/", 1)[-1])
    kind = kind_of(asset.content_type)
    if kind == "photo":
        return InputMediaPhoto(media=source)
    if kind == "video":
        return InputMediaVideo(media=source)
    return InputMediaDocument(media=source)


async def remember_sent(
    session: AsyncSession,
    bot_id: int,
    sent_assets: Sequence[tuple[MediaAsset, str | None]],
    messages: Sequence[Message],
) -> None:
    """Keep the file_ids Telegram gave for the assets just uploaded (those sent by file_id are known)."""
    for (asset, file_id), message in zip(sent_assets, messages, strict=False):
        if file_id is not None:
            continue
        file = message.photo[-1] if message.photo else message.video or message.document
        if file is not None:
            await remember_file_id(session, asset.id, bot_id, file.file_id, file.file_unique_id)


async def remember_file_id(
    session: AsyncSession, asset_id: int, bot_id: int, file_id: str, file_unique_id: str | None
) -> None:
    """Cache the file_id Telegram gave this bot for an asset (upload once, reuse afterwards)."""
    values: dict[str, Any] = {
        "asset_id": asset_id,
        "bot_id": bot_id,
        "file_id": file_id,
        "file_unique_id": file_unique_id,
    }
    statement = db.insert(session, MediaFileId).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[MediaFileId.asset_id, MediaFileId.bot_id],
            set_={"file_id": file_id, "file_unique_id": file_unique_id},
        )
    )


async def asset_for_bot(
    session: AsyncSession, asset_id: int, bot_id: int
) -> tuple[MediaAsset, str | None] | None:
    """The asset and the file_id this bot already has for it (None: upload it), or None if unknown."""
    asset = await session.get(MediaAsset, asset_id)
    if asset is None:
        return None
    cached = await session.get(MediaFileId, (asset_id, bot_id))
    return asset, None if cached is None else cached.file_id


async def upload_or_file_id(
    storage: Storage, asset: MediaAsset, file_id: str | None
) -> str | BufferedInputFile:
    """What a send method's photo/video field takes: the cached file_id, else the file's bytes."""
    if file_id is not None:
        return file_id
    data = await storage.get(asset.storage_key)
    return BufferedInputFile(data, filename=asset.storage_key.rsplit("/", 1)[-1])
