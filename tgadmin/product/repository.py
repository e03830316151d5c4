"""All SQL of the dashboard's product domain: products with their creator's name, a product's ordered
media, assets by content hash, and the chats a product may grant access to."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.errors import Conflict
from tgadmin.models import Creator, Group, MediaAsset, Product, ProductMedia
from tgadmin.models.enums import BotMemberStatus, ProductType

ADMIN = (BotMemberStatus.ADMINISTRATOR, BotMemberStatus.CREATOR)


async def creator(session: AsyncSession, creator_id: int) -> Creator | None:
    return await session.get(Creator, creator_id)


async def get(session: AsyncSession, product_id: int, *, lock: bool = False) -> tuple[Product, str] | None:
    """The product and its creator's name; `lock` holds the row (PostgreSQL) so that two changes to
    one pack's media run in turn and positions never collide."""
    query = (
        select(Product, Creator.name)
        .join(Creator, Creator.id == Product.creator_id)
        .where(Product.id == product_id)
    )
    if lock:
        query = query.with_for_update(of=Product)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


def _filters(
    creator_id: int | None, kind: ProductType | None, active: bool | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if creator_id is not None:
        where.append(Product.creator_id == creator_id)
    if kind is not None:
        where.append(Product.type == kind)
    if active is not None:
        where.append(Product.is_active.is_(active))
    return where


async def page(
    session: AsyncSession,
    *,
    creator_id: int | None = None,
    kind: ProductType | None = None,
    active: bool | None = None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Product, str]], int]:
    """Products newest first (by id, which the indexes end with), and how many match."""
    where = _filters(creator_id, kind, active)
    total = await session.scalar(select(func.count()).select_from(Product).where(*where))
    rows = await session.execute(
        select(Product, Creator.name)
        .join(Creator, Creator.id == Product.creator_id)
        .where(*where)
        .order_by(Product.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(product, name) for product, name in rows.all()], int(total or 0)


async def media(session: AsyncSession, product_id: int) -> list[tuple[ProductMedia, MediaAsset]]:
    """The pack's files in delivery order (the order `purchase.repository.media` sends them in)."""
    rows = await session.execute(
        select(ProductMedia, MediaAsset)
        .join(MediaAsset, MediaAsset.id == ProductMedia.asset_id)
        .where(ProductMedia.product_id == product_id)
        .order_by(ProductMedia.position, ProductMedia.asset_id)
    )
    return [(link, asset) for link, asset in rows.all()]


async def asset_by_sha256(session: AsyncSession, sha256: str) -> MediaAsset | None:
    query = select(MediaAsset).where(MediaAsset.sha256 == sha256).order_by(MediaAsset.id).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def add_asset(session: AsyncSession, asset: MediaAsset) -> MediaAsset:
    session.add(asset)
    try:
        await session.flush()
    except IntegrityError:
        # Its storage key is its content: the same new file, uploaded elsewhere at the same moment.
        raise Conflict(
            "the same file was being stored by another upload at this moment; upload again"
        ) from None
    return asset


async def add_links(session: AsyncSession, product_id: int, asset_ids: Iterable[int], start: int) -> None:
    session.add_all(
        ProductMedia(product_id=product_id, asset_id=asset_id, position=start + offset, is_preview=False)
        for offset, asset_id in enumerate(asset_ids)
    )
    await session.flush()


async def set_positions(session: AsyncSession, product_id: int, asset_ids: list[int]) -> None:
    """Position i for asset_ids[i]: the pack is delivered in this order."""
    if not asset_ids:
        return
    position = case(
        {asset_id: index for index, asset_id in enumerate(asset_ids)}, value=ProductMedia.asset_id
    )
    await session.execute(
        update(ProductMedia)
        .where(ProductMedia.product_id == product_id, ProductMedia.asset_id.in_(asset_ids))
        .values(position=position)
    )


async def set_previews(session: AsyncSession, product_id: int, asset_ids: list[int]) -> None:
    await session.execute(
        update(ProductMedia)
        .where(ProductMedia.product_id == product_id)
        .values(is_preview=ProductMedia.asset_id.in_(asset_ids) if asset_ids else False)
    )


async def remove_link(session: AsyncSession, product_id: int, asset_id: int) -> None:
    await session.execute(
        delete(ProductMedia).where(ProductMedia.product_id == product_id, ProductMedia.asset_id == asset_id)
    )


async def counts(session: AsyncSession, product_id: int) -> tuple[int, int]:
    """How many photos and videos the pack holds, by content type."""
    kind = func.substr(MediaAsset.content_type, 1, 6)
    rows = await session.execute(
        select(kind, func.count())
        .join(ProductMedia, ProductMedia.asset_id == MediaAsset.id)
        .where(ProductMedia.product_id == product_id)
        .group_by(kind)
    )
    found = {prefix: int(count) for prefix, count in rows.all()}
    return found.get("image/", 0), found.get("video/", 0)


async def access_chats(session: AsyncSession) -> list[Group]:
    """Active groups and channels where the bot is an administrator: the chats a product may open."""
    rows = await session.scalars(
        select(Group)
        .where(Group.is_active.is_(True), Group.bot_status.in_(ADMIN))
        .order_by(Group.title, Group.id)
    )
    return list(rows.all())


async def access_chat(session: AsyncSession, telegram_id: int) -> Group | None:
    rows = await session.scalars(
        select(Group)
        .where(Group.telegram_id == telegram_id, Group.is_active.is_(True), Group.bot_status.in_(ADMIN))
        .limit(1)
    )
    return rows.first()
