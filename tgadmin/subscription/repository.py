"""All SQL of the subscription domain: the due rows. (Writes to a purchase, its status, warning flags
and revocation, go through `purchase.service`.)

Due rows are read through `ix_purchases_status_expires` (status, access_expires_at): every query
bounds both columns, so its cost follows the rows due in the window, not the table's size. Pages
are keyset (access_expires_at, id), so a row that stays due after a failure is not met twice in
one sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from tgadmin.models import Product, Purchase, TelegramUser
from tgadmin.models.enums import ProductType, PurchaseStatus
from tgadmin.telegram import bots

# A subscription gives access while its purchase is in one of these.
LIVE = (PurchaseStatus.PAID, PurchaseStatus.COMPLETED)

Flag = QueryableAttribute[bool]


@dataclass(frozen=True)
class Due:
    """One due purchase, and the keyset position the next page starts after."""

    purchase_id: int
    expires_at: datetime


@dataclass(frozen=True)
class Subscription:
    purchase: Purchase
    product: Product
    buyer: TelegramUser


async def due(
    session: AsyncSession,
    *,
    expires_after: datetime | None,
    expires_until: datetime,
    unflagged: Flag | None,
    after: Due | None,
    limit: int,
) -> list[Due]:
    """Live subscription purchases expiring in (expires_after, expires_until], soonest first,
    without `unflagged` set when given (renewal records are never due)."""
    expires = Purchase.access_expires_at
    query = (
        select(Purchase.id, expires)
        .join(Product, Product.id == Purchase.product_id)
        .where(
            Purchase.status.in_(LIVE),
            expires <= expires_until,
            Product.type == ProductType.SUBSCRIPTION,
            # A renewal's own record: the purchase it extended is warned and expired in its stead.
            Purchase.renews_purchase_id.is_(None),
        )
        .order_by(expires, Purchase.id)
        .limit(limit)
    )
    if expires_after is not None:
        query = query.where(expires > expires_after)
    if unflagged is not None:
        query = query.where(unflagged.is_(false()))
    if after is not None:
        query = query.where(
            or_(
                expires > after.expires_at, and_(expires == after.expires_at, Purchase.id > after.purchase_id)
            )
        )
    rows = await session.execute(query)
    # `expires <= until` excludes NULL: every row has its expiry.
    return [Due(int(purchase_id), when) for purchase_id, when in rows.all() if when is not None]


async def load(session: AsyncSession, purchase_id: int) -> Subscription | None:
    row = (
        await session.execute(
            select(Purchase, Product, TelegramUser)
            .join(Product, Product.id == Purchase.product_id)
            .join(TelegramUser, TelegramUser.id == Purchase.user_id)
            .where(Purchase.id == purchase_id)
            # A sweep's session may hold an older copy (an earlier page, an earlier sweep).
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    return None if row is None else Subscription(*row)


async def default_bot_id(session: AsyncSession) -> int | None:
    """The first active bot: it speaks for purchases that name none."""
    return await bots.first_active_id(session)


async def revocations_due(session: AsyncSession, *, after: int, limit: int) -> list[int]:
    """Refunded purchases whose buyer has not lost access yet, by id (through the status index)."""
    rows = await session.scalars(
        select(Purchase.id)
        .where(
            Purchase.status == PurchaseStatus.REFUNDED,
            Purchase.access_revoked_at.is_(None),
            Purchase.id > after,
        )
        .order_by(Purchase.id)
        .limit(limit)
    )
    return [int(purchase_id) for purchase_id in rows.all()]


@dataclass(frozen=True)
class Listed:
    """One subscription purchase of the Subscriptions page, with its buyer and product."""

    purchase: Purchase
    product: Product
    buyer: TelegramUser


def _view_query(view: str, now: datetime) -> Select[Purchase, Product, TelegramUser]:
    """active: live; expiring: live, ending within 7 days; expired: access ended. Renewal records are
    left out (the purchase they extended stands for them)."""
    expires = Purchase.access_expires_at
    query = (
        select(Purchase, Product, TelegramUser)
        .join(Product, Product.id == Purchase.product_id)
        .join(TelegramUser, TelegramUser.id == Purchase.user_id)
        .where(Product.type == ProductType.SUBSCRIPTION, Purchase.renews_purchase_id.is_(None))
    )
    if view == "expired":
        return query.where(Purchase.status == PurchaseStatus.EXPIRED).order_by(
            expires.desc(), Purchase.id.desc()
        )
    query = query.where(Purchase.status.in_(LIVE), expires > now)
    if view == "expiring":
        query = query.where(expires <= now + timedelta(days=7))
    return query.order_by(expires, Purchase.id)


async def listing(
    session: AsyncSession, view: str, now: datetime, *, limit: int, offset: int
) -> tuple[list[Listed], int]:
    """A page of one view (through `ix_purchases_status_expires`) and the view's total."""
    query = _view_query(view, now)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.execute(query.limit(limit).offset(offset))
    return [Listed(purchase, product, buyer) for purchase, product, buyer in rows.all()], int(total or 0)
