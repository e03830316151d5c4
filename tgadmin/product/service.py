"""Products as the dashboard edits them: fields checked in one place for the page and the API, the
pack's media stored once per content (SHA-256) and kept in delivery order, every change audited.

Services flush, never commit: the request's unit of work commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.errors import InvalidInput, NotFound
from tgadmin.models import Group, MediaAsset, Product, ProductMedia
from tgadmin.models.enums import Currency, ProductType
from tgadmin.product import media as files
from tgadmin.product import repository
from tgadmin.product.schemas import (
    MediaRead,
    ProductCreate,
    ProductDetail,
    ProductPage,
    ProductRead,
    ProductUpdate,
    UploadRead,
)
from tgadmin.storage import Storage

ENTITY = "product"
FIELDS = (
    "title",
    "description",
    "type",
    "price_cents",
    "stars_price",
    "subscription_days",
    "access_chat_id",
    "is_active",
)


def snapshot(product: Product) -> dict[str, Any]:
    """What the audit trail keeps of a product."""
    kept: dict[str, Any] = {name: getattr(product, name) for name in FIELDS}
    kept["type"] = product.type.value
    return {**kept, "photo_count": product.photo_count, "video_count": product.video_count}


def _read(product: Product, creator_name: str) -> ProductRead:
    return ProductRead.model_validate(
        {**snapshot(product), "type": product.type, "currency": product.currency}
        | {"id": product.id, "creator_id": product.creator_id, "creator_name": creator_name}
        | {"created_at": product.created_at, "updated_at": product.updated_at}
    )


def _media_read(link: ProductMedia, asset: MediaAsset) -> MediaRead:
    return MediaRead(
        asset_id=asset.id,
        position=link.position,
        is_preview=link.is_preview,
        content_type=asset.content_type,
        size_bytes=asset.size_bytes,
        width=asset.width,
        height=asset.height,
        sha256=asset.sha256,
    )


async def _load(session: AsyncSession, product_id: int, *, lock: bool = False) -> tuple[Product, str]:
    found = await repository.get(session, product_id, lock=lock)
    if found is None:
        raise NotFound(f"product {product_id} does not exist")
    return found


async def detail(session: AsyncSession, product_id: int) -> ProductDetail:
    product, creator_name = await _load(session, product_id)
    items = [_media_read(link, asset) for link, asset in await repository.media(session, product_id)]
    return ProductDetail(**_read(product, creator_name).model_dump(), media=items)


async def listing(
    session: AsyncSession,
    *,
    creator_id: int | None = None,
    kind: ProductType | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ProductPage:
    rows, total = await repository.page(
        session, creator_id=creator_id, kind=kind, active=active, limit=limit, offset=offset
    )
    return ProductPage(items=[_read(*row) for row in rows], total=total, limit=limit, offset=offset)


async def creator_name(session: AsyncSession, creator_id: int) -> str:
    found = await repository.creator(session, creator_id)
    if found is None:
        raise NotFound(f"creator {creator_id} does not exist")
    return found.name


async def access_chats(session: AsyncSession) -> list[Group]:
    """The chats a product may let its buyers into (active, the bot an administrator)."""
    return await repository.access_chats(session)


async def _check(session: AsyncSession, product: Product, access_changed: bool) -> None:
    """The rules that span fields, the same for the page and the API."""
    if product.type is ProductType.SUBSCRIPTION:
        if not product.subscription_days:
            raise InvalidInput("a subscription needs its length: subscription days must be more than 0")
    else:
        product.subscription_days = None  # only subscriptions end
    chat = product.access_chat_id
    if access_changed and chat is not None and await repository.access_chat(session, chat) is None:
        raise InvalidInput(
            f"chat {product.access_chat_id} is not an active group or channel of ours where the bot "
            "is an administrator; pick one from the list"
        )


async def create(
    session: AsyncSession, creator_id: int, fields: ProductCreate, actor: Actor
) -> ProductDetail:
    await creator_name(session, creator_id)
    product = Product(
        creator_id=creator_id, currency=Currency.BRL, photo_count=0, video_count=0, **fields.model_dump()
    )
    await _check(session, product, access_changed=True)
    session.add(product)
    await session.flush()
    await record(session, actor, "product.created", ENTITY, product.id, after=snapshot(product))
    return await detail(session, product.id)


async def update(
    session: AsyncSession, product_id: int, changes: ProductUpdate, actor: Actor
) -> ProductDetail:
    """Apply the fields sent (None clears an optional one; a required one cannot be cleared)."""
    product, _ = await _load(session, product_id, lock=True)
    before = snapshot(product)
    sent = changes.model_dump(exclude_unset=True)
    for name in ("title", "type", "price_cents", "is_active"):
        if name in sent and sent[name] is None:
            raise InvalidInput(f"{name} cannot be empty")
    for name, value in sent.items():
        setattr(product, name, value)
    await _check(
        session,
        product,
        access_changed=sent.get("access_chat_id", before["access_chat_id"]) != before["access_chat_id"],
    )
    after = snapshot(product)
    if after != before:
        await session.flush()
        action = "product.updated"
        if set(sent) == {"is_active"}:
            action = "product.activated" if product.is_active else "product.deactivated"
        await record(session, actor, action, ENTITY, product.id, before=before, after=after)
    return await detail(session, product.id)


@dataclass
class _Placed:
    added: list[int]
    reused: list[int]
    already: list[int]


async def _asset_for(
    session: AsyncSession, storage: Storage, item: files.Inspected
) -> tuple[MediaAsset, bool]:
    """The stored asset with these bytes (reused: True), or a new one stored now."""
    sha256 = item.sha256
    existing = await repository.asset_by_sha256(session, sha256)
    if existing is not None:
        return existing, True
    # Named by content: a retry after a rolled-back request overwrites the same bytes, harmlessly.
    key = f"media/{sha256[:2]}/{sha256}.{item.extension}"
    await storage.put(key, item.data, item.content_type)
    asset = MediaAsset(
        storage_key=key,
        content_type=item.content_type,
        size_bytes=len(item.data),
        width=item.width,
        height=item.height,
        sha256=sha256,
        crop=None,
    )
    return await repository.add_asset(session, asset), False


async def _recount(session: AsyncSession, product: Product) -> None:
    product.photo_count, product.video_count = await repository.counts(session, product.id)
    await session.flush()


async def add_media(
    session: AsyncSession, storage: Storage, product_id: int, uploads: list[files.Upload], actor: Actor
) -> UploadRead:
    """Append files to the pack in upload order. Every file is checked before any is stored: one bad
    file refuses the whole upload and nothing changes."""
    if not uploads:
        raise InvalidInput(f"choose at least one file ({files.LIMITS_TEXT})")
    checked = [files.inspect(upload) for upload in uploads]
    product, _ = await _load(session, product_id, lock=True)
    before = snapshot(product)
    links = await repository.media(session, product_id)
    present = {link.asset_id for link, _ in links}
    placed = _Placed([], [], [])
    for item in checked:
        asset, reused = await _asset_for(session, storage, item)
        if asset.id in present:
            placed.already.append(asset.id)
            continue
        present.add(asset.id)
        placed.added.append(asset.id)
        if reused:
            placed.reused.append(asset.id)
    start = max((link.position for link, _ in links), default=-1) + 1
    await repository.add_links(session, product_id, placed.added, start)
    await _recount(session, product)
    if placed.added:
        after = {**snapshot(product), "added_assets": placed.added}
        await record(session, actor, "product.media_added", ENTITY, product_id, before=before, after=after)
    return UploadRead(
        added=placed.added,
        reused=placed.reused,
        already_in_pack=placed.already,
        product=await detail(session, product_id),
    )


async def _order(session: AsyncSession, product_id: int) -> list[int]:
    return [link.asset_id for link, _ in await repository.media(session, product_id)]


async def reorder(
    session: AsyncSession, product_id: int, asset_ids: list[int], actor: Actor
) -> ProductDetail:
    """The pack is delivered in exactly this order (every file once)."""
    await _load(session, product_id, lock=True)
    before = await _order(session, product_id)
    if sorted(asset_ids) != sorted(before) or len(set(asset_ids)) != len(asset_ids):
        raise InvalidInput(
            f"the new order must list each of the pack's {len(before)} files exactly once: {before}"
        )
    if asset_ids != before:
        await repository.set_positions(session, product_id, asset_ids)
        await record(
            session,
            actor,
            "product.media_reordered",
            ENTITY,
            product_id,
            before={"order": before},
            after={"order": asset_ids},
        )
    return await detail(session, product_id)


async def move(
    session: AsyncSession, product_id: int, asset_id: int, step: int, actor: Actor
) -> ProductDetail:
    """One file a place earlier (step -1) or later (+1); at either end it stays."""
    order = await _order(session, product_id)
    if asset_id not in order:
        raise NotFound(f"file {asset_id} is not in product {product_id}")
    index = order.index(asset_id)
    target = min(max(index + step, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return await reorder(session, product_id, order, actor)


async def set_previews(
    session: AsyncSession, product_id: int, asset_ids: list[int], actor: Actor
) -> ProductDetail:
    await _load(session, product_id, lock=True)
    links = await repository.media(session, product_id)
    unknown = sorted(set(asset_ids) - {link.asset_id for link, _ in links})
    if unknown:
        raise InvalidInput(f"files {unknown} are not in product {product_id}")
    before = sorted(link.asset_id for link, _ in links if link.is_preview)
    after = sorted(set(asset_ids))
    if before != after:
        await repository.set_previews(session, product_id, after)
        await record(
            session,
            actor,
            "product.previews_set",
            ENTITY,
            product_id,
            before={"previews": before},
            after={"previews": after},
        )
    return await detail(session, product_id)


async def remove_media(session: AsyncSession, product_id: int, asset_id: int, actor: Actor) -> ProductDetail:
    """Take a file out of the pack (the stored file stays: other packs or previews may use it)."""
    product, _ = await _load(session, product_id, lock=True)
    order = await _order(session, product_id)
    if asset_id not in order:
        raise NotFound(f"file {asset_id} is not in product {product_id}")
    before = {**snapshot(product), "order": list(order)}
    await repository.remove_link(session, product_id, asset_id)
    order.remove(asset_id)
    await repository.set_positions(session, product_id, order)
    await _recount(session, product)
    after = {**snapshot(product), "order": order}
    await record(session, actor, "product.media_removed", ENTITY, product_id, before=before, after=after)
    return await detail(session, product_id)


async def refused(
    session: AsyncSession, actor: Actor, product_id: int | None, attempted: str, reason: str
) -> None:
    """An operator's change that was refused (bad input, a file too large...): kept in the audit
    trail, the change itself not made."""
    after = {"attempted": attempted, "reason": reason}
    await record(session, actor, "product.refused", ENTITY, product_id, after=after)


async def media_file(
    session: AsyncSession, storage: Storage, product_id: int, asset_id: int
) -> tuple[bytes, str]:
    """One of the pack's files, for the dashboard to show."""
    for link, asset in await repository.media(session, product_id):
        if link.asset_id == asset_id:
            return await storage.get(asset.storage_key), asset.content_type
    raise NotFound(f"file {asset_id} is not in product {product_id}")
