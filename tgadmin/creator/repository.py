"""All SQL of the creator domain: the catalog (active creators by name, a creator's ordered previews
with this bot's file_id for each, its active products), the dashboard's list and detail, and what the
demo seed writes."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import (
    Creator,
    CreatorPreview,
    Group,
    MediaAsset,
    MediaFileId,
    Product,
    ProductMedia,
    StorefrontStart,
)


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


# --- the demo seed -------------------------------------------------------------------------------


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


async def forget_file_ids(session: AsyncSession, asset_id: int) -> None:
    """The asset's bytes changed: no bot's file_id shows them any more."""
    await session.execute(delete(MediaFileId).where(MediaFileId.asset_id == asset_id))


# --- the dashboard -------------------------------------------------------------------------------


def _search(q: str, dialect: str) -> list[ColumnElement[bool]]:
    """Name or username containing `q`, any case (PostgreSQL: a trigram index serves ILIKE)."""
    if not q:
        return []
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if dialect == "sqlite":
        # SQLite's LIKE ignores ASCII case already, and its lower() knows no other letters: ILIKE
        # would only add a lower() per row and column (5x slower at 100,000 rows).
        return [or_(Creator.name.like(pattern, escape="\\"), Creator.username.like(pattern, escape="\\"))]
    return [or_(Creator.name.ilike(pattern, escape="\\"), Creator.username.ilike(pattern, escape="\\"))]


async def search_page(session: AsyncSession, q: str, *, offset: int, limit: int) -> tuple[list[Creator], int]:
    """Every creator (active or not) whose name or username contains `q`, by name; and how many."""
    dialect = session.get_bind().dialect.name
    where = _search(q, dialect)
    total = await session.scalar(select(func.count()).select_from(Creator).where(*where))
    by_name: ColumnElement[str] = Creator.name.expression
    if where and dialect == "sqlite":
        # Walking the name index to filter costs a row lookup per creator (10x a scan then a sort of
        # the few matches at 100,000 rows); `name || ''` sorts the same and keeps SQLite off it.
        by_name = Creator.name.concat("")
    rows = await session.scalars(
        select(Creator).where(*where).order_by(by_name, Creator.id).offset(offset).limit(limit)
    )
    return list(rows.all()), int(total or 0)


async def username_taken(session: AsyncSession, username: str, *, other_than: int | None = None) -> bool:
    """Usernames are unique regardless of case (Telegram treats @Ana and @ana as one)."""
    query = select(Creator.id).where(func.lower(Creator.username) == username.lower())
    if other_than is not None:
        query = query.where(Creator.id != other_than)
    return (await session.scalar(query.limit(1))) is not None


async def products_of(session: AsyncSession, creator_id: int) -> list[Product]:
    """All the creator's products, active or not, newest first."""
    rows = await session.scalars(
        select(Product).where(Product.creator_id == creator_id).order_by(Product.id.desc()).limit(500)
    )
    return list(rows.all())


async def preview_rows(session: AsyncSession, creator_id: int) -> list[tuple[MediaAsset, int]]:
    """The creator's previews in order, each with its position."""
    rows = await session.execute(
        select(MediaAsset, CreatorPreview.position)
        .join(CreatorPreview, CreatorPreview.asset_id == MediaAsset.id)
        .where(CreatorPreview.creator_id == creator_id)
        .order_by(CreatorPreview.position, MediaAsset.id)
    )
    return [(asset, position) for asset, position in rows.all()]


async def preview_asset(session: AsyncSession, creator_id: int, asset_id: int) -> MediaAsset | None:
    """The asset if it is one of this creator's previews."""
    query = (
        select(MediaAsset)
        .join(CreatorPreview, CreatorPreview.asset_id == MediaAsset.id)
        .where(CreatorPreview.creator_id == creator_id, MediaAsset.id == asset_id)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add_asset(session: AsyncSession, asset: MediaAsset) -> MediaAsset:
    session.add(asset)
    await session.flush()
    return asset


async def delete_asset(session: AsyncSession, asset: MediaAsset) -> None:
    """The asset's row goes, and with it its preview place and cached file_ids (ON DELETE CASCADE)."""
    await session.execute(delete(CreatorPreview).where(CreatorPreview.asset_id == asset.id))
    await session.execute(delete(MediaFileId).where(MediaFileId.asset_id == asset.id))
    await session.delete(asset)
    await session.flush()


async def promo_groups(session: AsyncSession) -> list[Group]:
    """Active groups where the bot is an administrator: where a promo can be posted."""
    rows = await session.scalars(
        select(Group).where(Group.is_active.is_(True)).order_by(Group.title, Group.id).limit(1000)
    )
    return [group for group in rows.all() if group.bot_is_admin]


async def add_start(session: AsyncSession, creator_id: int, user_id: int | None, source: str | None) -> None:
    session.add(StorefrontStart(creator_id=creator_id, user_id=user_id, source=source))
    await session.flush()
