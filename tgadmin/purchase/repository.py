"""All SQL of purchases: delivery's reads and steps, and the one writer of `purchases.status`.

Changes that must happen once under concurrency are single conditional UPDATEs: of two racing
writers, one changes the row and the other changes nothing (PostgreSQL re-checks the WHERE after the
first commits; SQLite has one writer). `move` is the only statement that sets a purchase's status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, false, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from tgadmin import db
from tgadmin.models import MediaAsset, MediaFileId, Product, ProductMedia, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import Currency, PurchaseStatus, TransactionStatus
from tgadmin.models.status import move_sources

# A purchase gives access (content delivered or being delivered, a subscription running) in these.
GIVES_ACCESS = (PurchaseStatus.PAID, PurchaseStatus.COMPLETED)

Flag = QueryableAttribute[bool]


def _changed(result: Any) -> bool:
    return bool(cast(CursorResult[Any], result).rowcount == 1)


@dataclass(frozen=True)
class Order:
    """A purchase with what delivery needs to know about its product and buyer."""

    purchase: Purchase
    product: Product
    buyer: TelegramUser


@dataclass(frozen=True)
class Item:
    """One file of a product, with the file_id this bot already has for it (None: upload it)."""

    asset: MediaAsset
    file_id: str | None


async def order(session: AsyncSession, purchase_id: int) -> Order | None:
    row = (
        await session.execute(
            select(Purchase, Product, TelegramUser)
            .join(Product, Product.id == Purchase.product_id)
            .join(TelegramUser, TelegramUser.id == Purchase.user_id)
            .where(Purchase.id == purchase_id)
        )
    ).one_or_none()
    return None if row is None else Order(*row)


async def media(session: AsyncSession, product_id: int, bot_id: int) -> list[Item]:
    """The product's files in their order, each with this bot's cached file_id when it has one."""
    rows = await session.execute(
        select(MediaAsset, MediaFileId.file_id)
        .join(ProductMedia, ProductMedia.asset_id == MediaAsset.id)
        .outerjoin(MediaFileId, (MediaFileId.asset_id == MediaAsset.id) & (MediaFileId.bot_id == bot_id))
        .where(ProductMedia.product_id == product_id)
        .order_by(ProductMedia.position, MediaAsset.id)
    )
    return [Item(asset, file_id) for asset, file_id in rows.all()]


async def save_step(
    session: AsyncSession, purchase_id: int, sent: list[dict[str, Any]], steps: dict[str, list[int]]
) -> None:
    """A step Telegram accepted: its messages and the step itself, in one UPDATE."""
    await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id)
        .values(sent_messages=sent, delivered_steps=steps)
        .execution_options(synchronize_session=False)
    )


async def mark_unknown(session: AsyncSession, purchase_id: int, step: str) -> None:
    await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id)
        .values(delivery_step_unknown=step)
        .execution_options(synchronize_session=False)
    )


async def resolve_unknown(
    session: AsyncSession, purchase_id: int, step: str, steps: dict[str, list[int]] | None
) -> bool:
    """Clear the step in doubt (recording it done when `steps` is given), once: False when it is no
    longer the step in doubt (another operator decided first)."""
    values: dict[str, Any] = {"delivery_step_unknown": None}
    if steps is not None:
        values["delivered_steps"] = steps
    result = await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.delivery_step_unknown == step)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def awaiting_decision(session: AsyncSession, limit: int) -> list[Purchase]:
    """Purchases whose delivery stopped on a step of unknown outcome, oldest first."""
    rows = await session.scalars(
        select(Purchase)
        .where(Purchase.delivery_step_unknown.is_not(None))
        .order_by(Purchase.updated_at, Purchase.id)
        .limit(limit)
    )
    return list(rows.all())


async def undelivered_paid(session: AsyncSession, paid_before: datetime, limit: int) -> list[int]:
    """Purchases paid a while ago and still not delivered: their delivery job may have been lost."""
    rows = await session.scalars(
        select(Purchase.id)
        .join(Transaction, Transaction.purchase_id == Purchase.id)
        .where(
            Purchase.status == PurchaseStatus.PAID,
            Purchase.delivered_at.is_(None),
            Transaction.status == TransactionStatus.PAID,
            Transaction.paid_at <= paid_before,
        )
        .distinct()
        .limit(limit)
    )
    return list(rows.all())


# --- status: the one writer -------------------------------------------------------------------


async def move(
    session: AsyncSession,
    purchase_id: int,
    *,
    to: PurchaseStatus,
    sources: Iterable[PurchaseStatus] | None = None,
    **values: Any,
) -> bool:
    """`status -> to` (with the columns in `values`) in one conditional UPDATE, only from a status
    `models.status` lets reach `to` (or from those of `sources`); True when this call moved the row.

    A row in another status is left as it is and False returned: a concurrent writer got there first,
    or the table forbids the change from where the row is. A request the table can never satisfy
    (a source that cannot reach `to`, a `to` nothing reaches) raises InvalidTransition before any SQL.
    """
    if "status" in values:
        raise TypeError("the new status is `to`, not one of `values`")
    allowed = move_sources(to, sources, entity=f"purchase {purchase_id}")
    result = await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.status.in_(allowed))
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


# --- columns beside the status ------------------------------------------------------------------


async def set_bot(session: AsyncSession, purchase_id: int, bot_id: int) -> None:
    """The bot a purchase is delivered through, when it names none yet."""
    await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.bot_id.is_(None))
        .values(bot_id=bot_id)
        .execution_options(synchronize_session=False)
    )


async def claim_warning(
    session: AsyncSession, purchase_id: int, flag: Flag, *, expires_after: datetime
) -> bool:
    """Set an expiry warning's flag if nobody has: True when this call set it (and may send)."""
    result = await session.execute(
        update(Purchase)
        .where(
            Purchase.id == purchase_id,
            flag.is_(false()),
            Purchase.status.in_(GIVES_ACCESS),
            Purchase.access_expires_at > expires_after,
        )
        .values({flag: True})
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def release_warning(session: AsyncSession, purchase_id: int, flag: Flag) -> None:
    await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id)
        .values({flag: False})
        .execution_options(synchronize_session=False)
    )


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


# --- renewals -----------------------------------------------------------------------------------


async def live_subscription(
    session: AsyncSession, user_id: int, product_id: int, *, now: datetime, other_than: int
) -> Purchase | None:
    """The buyer's purchase of this product still giving access after `now` (not a renewal record,
    not revoked), the one a renewal extends; None when their access has ended."""
    return await session.scalar(
        select(Purchase)
        .where(
            Purchase.user_id == user_id,
            Purchase.product_id == product_id,
            Purchase.id != other_than,
            Purchase.status.in_(GIVES_ACCESS),
            Purchase.access_expires_at > now,
            Purchase.access_revoked_at.is_(None),
            Purchase.renews_purchase_id.is_(None),
        )
        .order_by(Purchase.access_expires_at.desc(), Purchase.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )


async def extend_access(session: AsyncSession, purchase_id: int, *, end: datetime, new_end: datetime) -> bool:
    """Move a live purchase's end from `end` to `new_end` with its warnings due again, once: False
    when it no longer ends at `end` (another renewal, an expiry or a refund got there first)."""
    result = await session.execute(
        update(Purchase)
        .where(
            Purchase.id == purchase_id,
            Purchase.status.in_(GIVES_ACCESS),
            Purchase.access_expires_at == end,
            Purchase.access_revoked_at.is_(None),
        )
        .values(access_expires_at=new_end, expiration_notified_7_days=False, expiration_notified_1_day=False)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def renewals_of(session: AsyncSession, purchase_id: int) -> list[int]:
    """The completed renewal records that extended this purchase."""
    rows = await session.scalars(
        select(Purchase.id)
        .where(Purchase.renews_purchase_id == purchase_id, Purchase.status == PurchaseStatus.COMPLETED)
        .order_by(Purchase.id)
    )
    return [int(found) for found in rows.all()]


# --- checkout: one pending purchase per buyer and product ---------------------------------------


async def insert_pending(
    session: AsyncSession,
    *,
    user_id: int,
    product_id: int,
    bot_id: int | None,
    amount_cents: int,
    currency: Currency,
    source: str | None,
) -> int | None:
    """A new pending purchase; None when the buyer already has one of this product (the partial
    unique index decides, so of two concurrent presses one inserts and the other gets None)."""
    statement = (
        db.insert(session, Purchase)
        .values(
            user_id=user_id,
            product_id=product_id,
            bot_id=bot_id,
            status=PurchaseStatus.PENDING,
            amount_cents=amount_cents,
            currency=currency,
            source=source,
        )
        .on_conflict_do_nothing(
            index_elements=["user_id", "product_id"], index_where=text("status = 'pending'")
        )
        .returning(Purchase.id)
    )
    inserted: int | None = (await session.execute(statement)).scalar_one_or_none()
    return inserted


async def pending_of(session: AsyncSession, user_id: int, product_id: int) -> Purchase | None:
    return cast(
        Purchase | None,
        await session.scalar(
            select(Purchase)
            .where(
                Purchase.user_id == user_id,
                Purchase.product_id == product_id,
                Purchase.status == PurchaseStatus.PENDING,
            )
            .execution_options(populate_existing=True)
        ),
    )


# --- the buyer's own purchases (/mypurchases) ------------------------------------------------------


async def of_buyer(
    session: AsyncSession, user_id: int, *, offset: int, limit: int
) -> list[tuple[Purchase, Product]]:
    """The buyer's purchases with their products, newest first."""
    rows = await session.execute(
        select(Purchase, Product)
        .join(Product, Product.id == Purchase.product_id)
        .where(Purchase.user_id == user_id)
        .order_by(Purchase.created_at.desc(), Purchase.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(purchase, product) for purchase, product in rows.all()]


async def count_of_buyer(session: AsyncSession, user_id: int) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(Purchase).where(Purchase.user_id == user_id))
        or 0
    )


async def claim_resend(
    session: AsyncSession, purchase_id: int, user_id: int, *, now: datetime, since: datetime
) -> bool:
    """Record that the buyer's completed purchase is sent again at `now`, unless it was after `since`:
    of two presses at once, one changes the row (and resends) and the other changes nothing."""
    result = await session.execute(
        update(Purchase)
        .where(
            Purchase.id == purchase_id,
            Purchase.user_id == user_id,
            Purchase.status == PurchaseStatus.COMPLETED,
            or_(Purchase.resent_at.is_(None), Purchase.resent_at <= since),
        )
        .values(resent_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def release_resend(
    session: AsyncSession, purchase_id: int, *, claimed_at: datetime, previous: datetime | None
) -> bool:
    """Give back the resend claimed at `claimed_at` (its job could not be enqueued): `resent_at`
    returns to `previous`, unless a later claim has replaced it since."""
    result = await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.resent_at == claimed_at)
        .values(resent_at=previous)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def resent_at(session: AsyncSession, purchase_id: int) -> datetime | None:
    return await session.scalar(select(Purchase.resent_at).where(Purchase.id == purchase_id))


async def add_sent(session: AsyncSession, purchase_id: int, sent: list[dict[str, Any]]) -> bool:
    """A resend's messages join `sent_messages` (so a refund's revocation deletes them too), while
    the purchase is still completed (False once it is not); the first delivery's `delivered_steps`
    stay as they are."""
    result = await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.status == PurchaseStatus.COMPLETED)
        .values(sent_messages=sent)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)
