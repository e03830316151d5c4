"""All SQL of the subscription domain: due rows, warning claims, expiry.

Due rows are read through `ix_purchases_status_expires` (status, access_expires_at): every query
bounds both columns, so its cost follows the rows due in the window, not the table's size. Pages
are keyset (access_expires_at, id), so a row that stays due after a failure is not met twice in
one sweep. Changes that must happen once under concurrency are single conditional UPDATEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from tgadmin.group import repository as group_repository
from tgadmin.models import Group, Product, Purchase, TelegramUser
from tgadmin.models.enums import ProductType, PurchaseStatus
from tgadmin.models.status import allowed_sources
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


def _changed(result: Any) -> bool:
    return bool(cast(CursorResult[Any], result).rowcount == 1)


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
    without `unflagged` set when given."""
    expires = Purchase.access_expires_at
    query = (
        select(Purchase.id, expires)
        .join(Product, Product.id == Purchase.product_id)
        .where(
            Purchase.status.in_(LIVE),
            expires <= expires_until,
            Product.type == ProductType.SUBSCRIPTION,
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


async def claim(session: AsyncSession, purchase_id: int, flag: Flag, *, expires_after: datetime) -> bool:
    """Set the warning's flag if nobody has: True when this call set it (and may send)."""
    result = await session.execute(
        update(Purchase)
        .where(
            Purchase.id == purchase_id,
            flag.is_(false()),
            Purchase.status.in_(LIVE),
            Purchase.access_expires_at > expires_after,
        )
        .values({flag: True})
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def release(session: AsyncSession, purchase_id: int, flag: Flag) -> None:
    await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id)
        .values({flag: False})
        .execution_options(synchronize_session=False)
    )


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


async def move(session: AsyncSession, purchase_id: int, new: PurchaseStatus, **values: Any) -> bool:
    """`status -> new` only from a status the transition table allows; True when this call moved it."""
    result = await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.status.in_(allowed_sources(new)))
        .values(status=new, **values)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def default_bot_id(session: AsyncSession) -> int | None:
    return await bots.first_active_id(session)


async def access_group(session: AsyncSession, bot_id: int, chat_id: int) -> Group | None:
    """The access chat's Group row, when the bot service has recorded it."""
    return await group_repository.by_telegram_id(session, bot_id, chat_id)


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


async def mark_revoked(session: AsyncSession, purchase_id: int, when: datetime) -> bool:
    """A refunded purchase's access ended (`sent_messages` cleared), once: True when this call did it."""
    result = await session.execute(
        update(Purchase)
        .where(
            Purchase.id == purchase_id,
            Purchase.status == PurchaseStatus.REFUNDED,
            Purchase.access_revoked_at.is_(None),
        )
        .values(access_revoked_at=when, sent_messages=[])
        .execution_options(synchronize_session=False)
    )
    return _changed(result)
