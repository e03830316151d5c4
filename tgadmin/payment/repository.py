"""All SQL of the payment domain.

Status changes that must happen exactly once under concurrency are single conditional UPDATEs
(`WHERE status IN move_sources(new)`): of two racing writers, one changes the row and the other
changes nothing (PostgreSQL re-checks the WHERE after the first commits; SQLite has one writer).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import db
from tgadmin.clock import utcnow
from tgadmin.models import AppSetting, PaymentEvent, Product, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import PaymentMethod, TransactionStatus
from tgadmin.models.status import move_sources

LIVE = (TransactionStatus.PENDING, TransactionStatus.PROCESSING)
# A purchase is still being paid, or has been, while one of its transactions is in these.
ALIVE = (*LIVE, TransactionStatus.PAID)


def _changed(result: Any) -> bool:
    return bool(cast(CursorResult[Any], result).rowcount == 1)


# --- inbox ------------------------------------------------------------------------------------


async def insert_event(
    session: AsyncSession, provider: str, external_id: str, payload: Mapping[str, Any]
) -> int | None:
    """Store a notification once; None when (provider, external_id) is already stored.

    INSERT ... ON CONFLICT DO NOTHING on both backends: no IntegrityError, so a PostgreSQL
    transaction is not aborted by a duplicate, and a concurrent duplicate waits for the first
    insert's transaction, then sees the conflict.
    """
    values = {
        "provider": provider,
        "external_id": external_id,
        "payload": dict(payload),
        "signature_valid": True,
        "received_at": utcnow(),
    }
    statement = (
        db.insert(session, PaymentEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider", "external_id"])
        .returning(PaymentEvent.id)
    )
    inserted: int | None = (await session.execute(statement)).scalar_one_or_none()
    return inserted


async def finish_event(session: AsyncSession, event_id: int, result: str) -> None:
    await session.execute(
        update(PaymentEvent)
        .where(PaymentEvent.id == event_id)
        .values(processed_at=utcnow(), result=result)
        .execution_options(synchronize_session=False)
    )


async def delete_event(session: AsyncSession, event_id: int) -> None:
    await session.execute(
        delete(PaymentEvent).where(PaymentEvent.id == event_id).execution_options(synchronize_session=False)
    )


async def events(session: AsyncSession, provider: str) -> list[PaymentEvent]:
    rows = await session.scalars(
        select(PaymentEvent).where(PaymentEvent.provider == provider).order_by(PaymentEvent.id)
    )
    return list(rows.all())


# --- reads ------------------------------------------------------------------------------------


async def transaction(session: AsyncSession, transaction_id: int) -> Transaction | None:
    """The row as committed now (never a stale copy from the session's identity map)."""
    return await session.get(Transaction, transaction_id, populate_existing=True)


async def transaction_by_txid(session: AsyncSession, provider: str, txid: str) -> Transaction | None:
    return cast(
        Transaction | None,
        await session.scalar(
            select(Transaction)
            .where(Transaction.provider == provider, Transaction.provider_txid == txid)
            .execution_options(populate_existing=True)
        ),
    )


async def transaction_id_by_end_to_end(session: AsyncSession, end_to_end_id: str) -> int | None:
    return cast(
        int | None,
        await session.scalar(select(Transaction.id).where(Transaction.end_to_end_id == end_to_end_id)),
    )


async def transaction_id_by_charge_id(session: AsyncSession, charge_id: str) -> int | None:
    return cast(
        int | None,
        await session.scalar(
            select(Transaction.id).where(Transaction.telegram_payment_charge_id == charge_id)
        ),
    )


async def open_charge(
    session: AsyncSession, purchase_id: int, method: PaymentMethod, provider: str, now: datetime
) -> Transaction | None:
    """A pending charge of this purchase that the buyer can still pay (so a second tap reuses it)."""
    expiry_ok = or_(Transaction.pix_expires_at.is_(None), Transaction.pix_expires_at > now)
    return cast(
        Transaction | None,
        await session.scalar(
            select(Transaction)
            .where(
                Transaction.purchase_id == purchase_id,
                Transaction.method == method,
                Transaction.provider == provider,
                Transaction.status.in_(LIVE),
                expiry_ok,
            )
            .order_by(Transaction.id.desc())
            .limit(1)
        ),
    )


async def purchase(session: AsyncSession, purchase_id: int) -> Purchase | None:
    return await session.get(Purchase, purchase_id, populate_existing=True)


async def product(session: AsyncSession, product_id: int) -> Product | None:
    return await session.get(Product, product_id, populate_existing=True)


async def buyer(session: AsyncSession, user_id: int) -> TelegramUser | None:
    return await session.get(TelegramUser, user_id)


async def alive_siblings(session: AsyncSession, purchase_id: int, other_than: int) -> int:
    """How many other transactions of the purchase are pending or paid."""
    count = await session.scalar(
        select(func.count())
        .select_from(Transaction)
        .where(
            Transaction.purchase_id == purchase_id,
            Transaction.id != other_than,
            Transaction.status.in_(ALIVE),
        )
    )
    return int(count or 0)


# A row of the dashboard's sales list: the transaction with what it pays for and who paid.
SaleRow = tuple[Transaction, Purchase, TelegramUser, Product]


def _sale_rows() -> Select[Transaction, Purchase, TelegramUser, Product]:
    return (
        select(Transaction, Purchase, TelegramUser, Product)
        .join(Purchase, Purchase.id == Transaction.purchase_id)
        .join(TelegramUser, TelegramUser.id == Purchase.user_id)
        .join(Product, Product.id == Purchase.product_id)
    )


async def sales(
    session: AsyncSession,
    *,
    status: TransactionStatus | None = None,
    method: PaymentMethod | None = None,
    needs_refund: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[SaleRow], int]:
    """Transactions newest first, filtered, one page of them, and how many match in all."""
    where = []
    if status is not None:
        where.append(Transaction.status == status)
    if method is not None:
        where.append(Transaction.method == method)
    if needs_refund is not None:
        where.append(Transaction.needs_refund.is_(needs_refund))
    total = await session.scalar(select(func.count()).select_from(Transaction).where(*where))
    rows = await session.execute(
        _sale_rows()
        .where(*where)
        .order_by(Transaction.created_at.desc(), Transaction.id.desc())
        .limit(limit)
        .offset(offset)
        .execution_options(populate_existing=True)
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows.all()], int(total or 0)


async def sale(session: AsyncSession, transaction_id: int) -> SaleRow | None:
    row = (
        await session.execute(
            _sale_rows().where(Transaction.id == transaction_id).execution_options(populate_existing=True)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


# --- conditional updates ----------------------------------------------------------------------


async def move_transaction(
    session: AsyncSession, transaction_id: int, new: TransactionStatus, **values: Any
) -> bool:
    """`status -> new` only from a status allowed to reach it; True when this call changed the row.
    The one writer of `transactions.status` (purchases: `purchase.service.move`)."""
    allowed = move_sources(new, entity=f"transaction {transaction_id}")
    result = await session.execute(
        update(Transaction)
        .where(Transaction.id == transaction_id, Transaction.status.in_(allowed))
        .values(status=new, **values)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def record_unexpected_payment(
    session: AsyncSession, transaction_id: int, reason: str, **payment: Any
) -> bool:
    """Keep a payment we cannot honour (late, doubled, wrong amount) and flag it for refund; once."""
    result = await session.execute(
        update(Transaction)
        .where(
            Transaction.id == transaction_id,
            Transaction.end_to_end_id.is_(None),
            Transaction.telegram_payment_charge_id.is_(None),
            Transaction.paid_at.is_(None),
        )
        .values(needs_refund=True, failure_reason=reason, **payment)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def flag_refund(session: AsyncSession, transaction_id: int, reason: str) -> None:
    await session.execute(
        update(Transaction)
        .where(Transaction.id == transaction_id)
        .values(needs_refund=True, failure_reason=reason)
        .execution_options(synchronize_session=False)
    )


async def set_refund(
    session: AsyncSession, transaction_id: int, refund_id: str, next_check_at: datetime | None = None
) -> None:
    """Record the refund requested at the PSP; `next_check_at`: when polling asks about it (pending)."""
    values: dict[str, Any] = {"refund_id": refund_id}
    if next_check_at is not None:
        values.update(next_poll_at=next_check_at, poll_count=0)
    await session.execute(
        update(Transaction)
        .where(Transaction.id == transaction_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def close_refused_refund(session: AsyncSession, transaction_id: int, seen_attempts: int) -> bool:
    """The PSP refused the requested refund: no refund is pending any more (polling stops), and the
    next one counts as a new attempt; once, of two checks at the same time."""
    result = await session.execute(
        update(Transaction)
        .where(
            Transaction.id == transaction_id,
            Transaction.refund_attempts == seen_attempts,
        )
        .values(refund_id=None, refund_attempts=seen_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def settle_flagged_refund(session: AsyncSession, transaction_id: int, when: datetime) -> bool:
    """A payment flagged for refund was given back: the flag is cleared, once."""
    result = await session.execute(
        update(Transaction)
        .where(Transaction.id == transaction_id, Transaction.needs_refund.is_(True))
        .values(needs_refund=False, refunded_at=when)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


# --- expiry and polling -----------------------------------------------------------------------


async def due_for_expiry(session: AsyncSession, provider: str, now: datetime, limit: int) -> list[int]:
    rows = await session.scalars(
        select(Transaction.id)
        .where(
            Transaction.status.in_(LIVE),
            Transaction.method == PaymentMethod.PIX,
            Transaction.provider == provider,
            Transaction.pix_expires_at <= now,
        )
        .order_by(Transaction.pix_expires_at)
        .limit(limit)
    )
    return list(rows.all())


async def claim_for_expiry(session: AsyncSession, transaction_id: int, now: datetime) -> bool:
    """A write first: it takes the row (PostgreSQL) or the database (SQLite) for this unit of work,
    so two sweepers do not expire one charge twice, and SQLite's snapshot cannot go stale."""
    result = await session.execute(
        update(Transaction)
        .where(
            Transaction.id == transaction_id,
            Transaction.status.in_(LIVE),
            Transaction.pix_expires_at <= now,
        )
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def due_for_poll(
    session: AsyncSession, provider: str, now: datetime, limit: int
) -> list[tuple[int, int]]:
    """(id, poll_count) of pending charges whose next poll is due and that have not expired yet."""
    rows = await session.execute(
        select(Transaction.id, Transaction.poll_count)
        .where(
            Transaction.status.in_(LIVE),
            Transaction.method == PaymentMethod.PIX,
            Transaction.provider == provider,
            Transaction.next_poll_at <= now,
            Transaction.pix_expires_at > now,
        )
        .order_by(Transaction.next_poll_at)
        .limit(limit)
    )
    return [(int(row[0]), int(row[1])) for row in rows.all()]


async def claim_for_poll(
    session: AsyncSession, transaction_id: int, seen_count: int, next_poll_at: datetime
) -> bool:
    """Take the poll by bumping `poll_count` from the value seen: another poller that saw the same
    value changes nothing (optimistic), and the backoff moves on even when the PSP is down."""
    result = await session.execute(
        update(Transaction)
        .where(
            Transaction.id == transaction_id,
            Transaction.status.in_(LIVE),
            Transaction.poll_count == seen_count,
        )
        .values(poll_count=seen_count + 1, next_poll_at=next_poll_at)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def _refund_pending() -> Any:
    """A refund requested at the PSP and not settled: on a paid transaction, or a flagged payment."""
    return Transaction.refund_id.is_not(None) & (
        (Transaction.status == TransactionStatus.PAID)
        | (Transaction.needs_refund.is_(True) & Transaction.paid_at.is_not(None))
    )


async def due_refund_checks(
    session: AsyncSession, provider: str, now: datetime, limit: int
) -> list[tuple[int, int]]:
    """(id, poll_count) of refunds still in processing at this provider whose next check is due."""
    rows = await session.execute(
        select(Transaction.id, Transaction.poll_count)
        .where(
            _refund_pending(),
            Transaction.method == PaymentMethod.PIX,
            Transaction.provider == provider,
            or_(Transaction.next_poll_at.is_(None), Transaction.next_poll_at <= now),
        )
        .order_by(Transaction.next_poll_at)
        .limit(limit)
    )
    return [(int(row[0]), int(row[1])) for row in rows.all()]


async def claim_refund_check(
    session: AsyncSession, transaction_id: int, seen_count: int, next_check_at: datetime
) -> bool:
    """Take one check of a pending refund (optimistic, as `claim_for_poll`); the backoff moves on."""
    result = await session.execute(
        update(Transaction)
        .where(Transaction.id == transaction_id, _refund_pending(), Transaction.poll_count == seen_count)
        .values(poll_count=seen_count + 1, next_poll_at=next_check_at)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def back_off_poll(
    session: AsyncSession, transaction_id: int, seen_count: int, next_poll_at: datetime
) -> None:
    """After a poll that failed unexpectedly (its unit of work rolled back): the next is later."""
    await session.execute(
        update(Transaction)
        .where(Transaction.id == transaction_id, Transaction.poll_count == seen_count)
        .values(poll_count=seen_count + 1, next_poll_at=next_poll_at)
        .execution_options(synchronize_session=False)
    )


# --- checkout ---------------------------------------------------------------------------------


async def setting(session: AsyncSession, key: str) -> dict[str, Any] | None:
    row = await session.get(AppSetting, key, populate_existing=True)
    return None if row is None else row.value


async def overdue_charges(session: AsyncSession, purchase_id: int, now: datetime) -> list[int]:
    """Live PIX charges of the purchase past their expiry that no sweep has expired yet."""
    rows = await session.scalars(
        select(Transaction.id).where(
            Transaction.purchase_id == purchase_id,
            Transaction.method == PaymentMethod.PIX,
            Transaction.status.in_(LIVE),
            Transaction.pix_expires_at <= now,
        )
    )
    return list(rows.all())
