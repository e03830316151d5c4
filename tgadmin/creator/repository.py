"""All SQL of the creator domain's catalog: active creators by name, a creator's ordered previews
(with the file_id this bot already has for each) and its active products."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Creator, CreatorPreview, MediaAsset, MediaFileId, Product


def _listed(include_adult: bool) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Creator.is_active.is_(True)]
    if not include_adult:
        where.append(Creator.is_adult.is_(False))
    return where


async def count_active(session: AsyncSession, *, include_adult: bool = True) -> int:
    statement = select(func.count()).select_from(Creator).where(*_listed(include_adult))
    return int(await session.scalar(statement) or 0)


async def active_page(
    session: AsyncSession, *, offset: int, limit: int, include_adult: bool = True
) -> list[Creator]:
    """Active creators by name (id breaks ties, so pages never overlap)."""
    rows = await session.scalars(
        select(Creator)
        .where(*_listed(include_adult))
        .order_by(Creator.name, Creator.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all())


async def get(session: AsyncSession, creator_id: int) -> Creator | None:
    return await session.get(Creator, creator_id)


async def previews(
    session: AsyncSession, creator_id: int, bot_id: int
) -> list[tuple[MediaAsset, str | None]]:
    """The creator's preview files in their order, each with this bot's cached file_id (None: upload)."""
    rows = await session.execute(
        select(MediaAsset, MediaFileId.file_id)
        .join(CreatorPreview, CreatorPreview.asset_id == MediaAsset.id)
        .outerjoin(MediaFileId, (MediaFileId.asset_id == MediaAsset.id) & (MediaFileId.bot_id == bot_id))
        .where(CreatorPreview.creator_id == creator_id)
        .order_by(CreatorPreview.position, MediaAsset.id)
    )
    return [(asset, file_id) for asset, file_id in rows.all()]


async def active_products(session: AsyncSession, creator_id: int) -> list[Product]:
    """What the creator sells now, cheapest first."""
    rows = await session.scalars(
        select(Product)
        .where(Product.creator_id == creator_id, Product.is_active.is_(True))
        .order_by(Product.price_cents, Product.id)
    )
    return list(rows.all())
