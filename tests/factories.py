"""Typed factories every domain's tests share: rows as the services would leave them, the fields a
test cares about as keywords, everything else a plausible default. Serial numbers come from one
counter (no randomness), so two factories never collide on a unique column within a run."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import (
    AuditLog,
    Bot,
    Creator,
    CreatorPreview,
    Group,
    MediaAsset,
    Operator,
    PostHistory,
    Product,
    ProductMedia,
    Purchase,
    TelegramUser,
    Transaction,
)
from tgadmin.models.enums import (
    BotMemberStatus,
    ChatType,
    CreatorTier,
    Currency,
    OperatorRole,
    PaymentMethod,
    PostKind,
    PostStatus,
    ProductType,
    PurchaseStatus,
    TransactionStatus,
)
from tgadmin.storage import Storage

_serial = itertools.count(1)
Row = TypeVar("Row")


def serial() -> int:
    """A number no other factory call in this run has had."""
    return next(_serial)


async def _added(session: AsyncSession, row: Row) -> Row:
    session.add(row)
    await session.flush()
    return row


async def make_creator(
    session: AsyncSession,
    *,
    name: str | None = None,
    is_adult: bool = False,
    is_active: bool = True,
    tier: CreatorTier = CreatorTier.BRONZE,
    country: str | None = None,
    bio: str | None = None,
) -> Creator:
    n = serial()
    creator = Creator(
        name=name or f"Modelo {n}",
        username=f"modelo_{n}",
        is_adult=is_adult,
        is_active=is_active,
        tier=tier,
        country=country,
        bio=bio,
    )
    return await _added(session, creator)


async def make_preview(
    session: AsyncSession, creator: Creator, storage_key: str, data: bytes, position: int
) -> MediaAsset:
    """A preview photo of `creator` whose file (`data`, a PNG) the caller put at `storage_key`."""
    asset = await _added(
        session,
        MediaAsset(
            storage_key=storage_key,
            content_type="image/png",
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            crop=None,
        ),
    )
    await _added(session, CreatorPreview(creator_id=creator.id, asset_id=asset.id, position=position))
    return asset


async def add_product_file(
    session: AsyncSession, storage: Storage, product: Product, position: int, data: bytes, content_type: str
) -> MediaAsset:
    """One file of `product`'s pack, stored where the worker reads media, at `position`."""
    extension = content_type.split("/")[-1].replace("plain", "txt")
    key = f"products/{product.id}/{position}.{extension}"
    await storage.put(key, data, content_type)
    asset = await _added(
        session,
        MediaAsset(
            storage_key=key,
            content_type=content_type,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            crop=None,
        ),
    )
    await _added(session, ProductMedia(product_id=product.id, asset_id=asset.id, position=position))
    return asset


async def make_product(
    session: AsyncSession,
    *,
    kind: ProductType = ProductType.CONTENT,
    title: str = "Pack Verão",
    price_cents: int = 1990,
    stars_price: int | None = None,
    is_active: bool = True,
    access_chat_id: int | None = None,
    creator: Creator | None = None,
) -> Product:
    """A creator's product (a new creator's unless given); a subscription lasts 30 days."""
    creator = creator or await make_creator(session)
    product = Product(
        creator_id=creator.id,
        title=title,
        description="15 fotos e 2 vídeos",
        type=kind,
        price_cents=price_cents,
        currency=Currency.BRL,
        stars_price=stars_price,
        is_active=is_active,
        subscription_days=30 if kind is ProductType.SUBSCRIPTION else None,
        access_chat_id=access_chat_id,
    )
    return await _added(session, product)


async def make_buyer(
    session: AsyncSession,
    telegram_id: int | None = None,
    language: str | None = "pt-br",
    *,
    first_seen_at: datetime | None = None,
) -> TelegramUser:
    """A Telegram user who has started the bot (at `first_seen_at`, or now)."""
    user = TelegramUser(
        telegram_id=telegram_id if telegram_id is not None else 7_000_000_000 + serial(),
        first_name="Ana",
        last_name=None,
        username=None,
        language_code=language,
        age_confirmed_at=None,
    )
    if first_seen_at is not None:
        user.first_seen_at = user.last_seen_at = first_seen_at
    return await _added(session, user)


async def make_purchase(
    session: AsyncSession,
    *,
    product: Product | None = None,
    buyer: TelegramUser | None = None,
    status: PurchaseStatus = PurchaseStatus.PENDING,
    amount_cents: int | None = None,
    currency: Currency = Currency.BRL,
    stars_price: int | None = None,
    buyer_telegram_id: int | None = None,
    created_at: datetime | None = None,
    **fields: Any,
) -> Purchase:
    """A purchase of `product` (or of a new one priced `amount_cents`, with `stars_price`) by `buyer`
    (or by a new buyer); `fields` sets any other column (access_expires_at, bot_id, flags...)."""
    if product is None:
        price = 1990 if amount_cents is None else amount_cents
        product = await make_product(session, price_cents=price, stars_price=stars_price)
    buyer = buyer or await make_buyer(session, buyer_telegram_id)
    purchase = Purchase(
        user_id=buyer.id,
        product_id=product.id,
        status=status,
        amount_cents=product.price_cents if amount_cents is None else amount_cents,
        currency=currency,
        **fields,
    )
    if created_at is not None:
        purchase.created_at = purchase.updated_at = created_at
    return await _added(session, purchase)


async def make_transaction(
    session: AsyncSession,
    purchase: Purchase,
    *,
    method: PaymentMethod = PaymentMethod.PIX,
    status: TransactionStatus = TransactionStatus.PENDING,
    amount_cents: int = 1990,
    currency: Currency = Currency.BRL,
    created_at: datetime | None = None,
    **fields: Any,
) -> Transaction:
    tx = Transaction(
        purchase_id=purchase.id,
        method=method,
        status=status,
        amount_cents=amount_cents,
        currency=currency,
        **fields,
    )
    if created_at is not None:
        tx.created_at = tx.updated_at = created_at
    return await _added(session, tx)


async def make_operator(
    session: AsyncSession, role: OperatorRole = OperatorRole.ADMIN, email: str | None = None
) -> Operator:
    operator = Operator(
        email=email or f"op{serial()}@example.com", role=role, is_active=True, last_login_at=None
    )
    return await _added(session, operator)


async def make_bot(session: AsyncSession) -> Bot:
    n = serial()
    bot = Bot(telegram_id=900_000 + n, username=f"shop_{n}_bot", token=f"{n}:" + "A" * 35, webhook_secret="s")
    return await _added(session, bot)


async def make_group(
    session: AsyncSession,
    bot: Bot,
    *,
    status: BotMemberStatus = BotMemberStatus.ADMINISTRATOR,
    is_active: bool = True,
    title: str = "Ofertas",
) -> Group:
    """A supergroup the bot is in (an administrator unless told otherwise)."""
    group = Group(
        bot_id=bot.id,
        telegram_id=-1_000_000_000_000 - serial(),
        type=ChatType.SUPERGROUP,
        title=title,
        bot_status=status,
        bot_rights={},
        is_active=is_active,
        cooldown_seconds=0,
        rights_errors=0,
    )
    return await _added(session, group)


async def make_post(
    session: AsyncSession, group: Group, sent_at: datetime, status: PostStatus
) -> PostHistory:
    post = PostHistory(
        group_id=group.id,
        chat_id=group.telegram_id,
        message_id=serial(),
        kind=PostKind.TEXT,
        status=status,
        sent_at=sent_at,
    )
    return await _added(session, post)


async def audit_actions(session: AsyncSession, entity_type: str, entity_id: int) -> list[str]:
    """The audit trail of one entity, oldest first."""
    rows = await session.scalars(
        select(AuditLog.action)
        .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.id)
    )
    return list(rows.all())
