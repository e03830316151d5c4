"""All SQL of the creator domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import db
from tgadmin.models import Creator, CreatorPreview, MediaAsset, MediaFileId, Product, ProductMedia


async def get(session: AsyncSession, creator_id: int) -> Creator | None:
    return await session.get(Creator, creator_id)


async def by_username(session: AsyncSession, username: str) -> Creator | None:
    return (await session.execute(select(Creator).where(Creator.username == username))).scalar_one_or_none()


async def product_by_title(session: AsyncSession, creator_id: int, title: str) -> Product | None:
    query = select(Product).where(Product.creator_id == creator_id, Product.title == title)
    return (await session.execute(query.order_by(Product.id).limit(1))).scalar_one_or_none()


async def asset_by_key(session: AsyncSession, storage_key: str) -> MediaAsset | None:
    query = select(MediaAsset).where(MediaAsset.storage_key == storage_key)
    return (await session.execute(query)).scalar_one_or_none()


async def preview_asset_ids(session: AsyncSession, creator_id: int) -> list[int]:
    query = (
        select(CreatorPreview.asset_id)
        .where(CreatorPreview.creator_id == creator_id)
        .order_by(CreatorPreview.position, CreatorPreview.asset_id)
    )
    return list((await session.execute(query)).scalars())


async def set_previews(session: AsyncSession, creator_id: int, asset_ids: list[int]) -> None:
    """The creator's previews become exactly `asset_ids`, in that order."""
    await session.execute(delete(CreatorPreview).where(CreatorPreview.creator_id == creator_id))
    session.add_all(
        CreatorPreview(creator_id=creator_id, asset_id=asset_id, position=position)
        for position, asset_id in enumerate(asset_ids)
    )
    await session.flush()


async def product_asset_ids(session: AsyncSession, product_id: int) -> list[int]:
    query = (
        select(ProductMedia.asset_id)
        .where(ProductMedia.product_id == product_id)
        .order_by(ProductMedia.position, ProductMedia.asset_id)
    )
    return list((await session.execute(query)).scalars())


async def set_product_media(session: AsyncSession, product_id: int, asset_ids: list[int]) -> None:
    """The product's files become exactly `asset_ids`, in that order (delivery sends them so)."""
    await session.execute(delete(ProductMedia).where(ProductMedia.product_id == product_id))
    session.add_all(
        ProductMedia(product_id=product_id, asset_id=asset_id, position=position)
        for position, asset_id in enumerate(asset_ids)
    )
    await session.flush()


async def first_preview(
    session: AsyncSession, creator_id: int, bot_id: int
) -> tuple[MediaAsset, str | None] | None:
    """The creator's first preview photo, with the file_id this bot already has for it (None: upload)."""
    query = (
        select(MediaAsset, MediaFileId.file_id)
        .join(CreatorPreview, CreatorPreview.asset_id == MediaAsset.id)
        .outerjoin(MediaFileId, (MediaFileId.asset_id == MediaAsset.id) & (MediaFileId.bot_id == bot_id))
        .where(CreatorPreview.creator_id == creator_id)
        .order_by(CreatorPreview.position, CreatorPreview.asset_id)
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


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


async def forget_file_ids(session: AsyncSession, asset_id: int) -> None:
    """The asset's bytes changed: no bot's file_id shows them any more."""
    await session.execute(delete(MediaFileId).where(MediaFileId.asset_id == asset_id))
