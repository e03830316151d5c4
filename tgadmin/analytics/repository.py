"""All SQL of analytics. Every source query of the hourly figures is a range on one indexed timestamp
(`[start, end)`), so its cost follows the hour's rows, not the table's size; the overview's counts
are of the tables as they are now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import db
from tgadmin.models import (
    AnalyticsHourly,
    AuditLog,
    Creator,
    Group,
    PostHistory,
    Product,
    Purchase,
    TelegramUser,
    Transaction,
)
from tgadmin.models.base import Base
from tgadmin.models.enums import PostStatus, PurchaseStatus


@dataclass(frozen=True)
class Window:
    """One hour: `start <= t < end`."""

    start: datetime
    end: datetime


async def purchases_created(session: AsyncSession, w: Window) -> list[tuple[str, str, int]]:
    """(status, product type, count) of purchases created in the window (status as of now)."""
    rows = await session.execute(
        select(Purchase.status, Product.type, func.count())
        .join(Product, Product.id == Purchase.product_id)
        .where(Purchase.created_at >= w.start, Purchase.created_at < w.end)
        .group_by(Purchase.status, Product.type)
    )
    return [(str(status), str(kind), int(n)) for status, kind, n in rows.all()]


async def purchases_paid(session: AsyncSession, w: Window) -> list[tuple[str, int]]:
    """(product type, purchases) with a payment received in the window (a purchase paid twice once)."""
    # The product type is looked up per payment (a primary-key probe each): given a join, PostgreSQL
    # may hash the whole purchases table instead, a cost that grows with the table, not the hour.
    kind = (
        select(Product.type)
        .join(Purchase, Purchase.product_id == Product.id)
        .where(Purchase.id == Transaction.purchase_id)
        .scalar_subquery()
    )
    paid = (
        select(Transaction.purchase_id, kind.label("type"))
        .where(Transaction.paid_at >= w.start, Transaction.paid_at < w.end)
        .subquery()
    )
    rows = await session.execute(
        select(paid.c.type, func.count(func.distinct(paid.c.purchase_id))).group_by(paid.c.type)
    )
    return [(str(kind), int(n)) for kind, n in rows.all()]


async def revenue(session: AsyncSession, w: Window) -> list[tuple[str, int]]:
    """(currency, cents) received in the window: what the payer actually paid when known."""
    paid = func.coalesce(Transaction.paid_amount_cents, Transaction.amount_cents)
    rows = await session.execute(
        select(Transaction.currency, func.sum(paid))
        .where(Transaction.paid_at >= w.start, Transaction.paid_at < w.end)
        .group_by(Transaction.currency)
    )
    return [(str(currency), int(cents or 0)) for currency, cents in rows.all()]


async def transactions_created(session: AsyncSession, w: Window) -> list[tuple[str, str, int]]:
    """(method, status, count) of transactions created in the window."""
    rows = await session.execute(
        select(Transaction.method, Transaction.status, func.count())
        .where(Transaction.created_at >= w.start, Transaction.created_at < w.end)
        .group_by(Transaction.method, Transaction.status)
    )
    return [(str(method), str(status), int(n)) for method, status, n in rows.all()]


async def posts(session: AsyncSession, w: Window) -> list[tuple[str, int]]:
    """(status, count) of PostHistory rows sent in the window."""
    rows = await session.execute(
        select(PostHistory.status, func.count())
        .where(PostHistory.sent_at >= w.start, PostHistory.sent_at < w.end)
        .group_by(PostHistory.status)
    )
    return [(str(status), int(n)) for status, n in rows.all()]


async def new_users(session: AsyncSession, w: Window) -> int:
    """Telegram users first seen in the window."""
    query = select(func.count()).where(
        TelegramUser.first_seen_at >= w.start, TelegramUser.first_seen_at < w.end
    )
    return int((await session.execute(query)).scalar_one())


async def group_audit(session: AsyncSession, w: Window, actions: Sequence[str]) -> list[AuditLog]:
    """The group membership/deactivation entries of the window (ix_audit_log_created)."""
    rows = await session.execute(
        select(AuditLog).where(
            AuditLog.created_at >= w.start,
            AuditLog.created_at < w.end,
            AuditLog.entity_type == "group",
            AuditLog.action.in_(list(actions)),
        )
    )
    return list(rows.scalars())


async def replace_hour(session: AsyncSession, hour: datetime, values: dict[tuple[str, str], int]) -> None:
    """Make the hour's rows exactly `values`: upsert each (same key, same row, whoever runs it, however
    often), then drop the hour's rows that are no longer produced (a dimension that vanished)."""
    if values:
        insert = db.insert(session, AnalyticsHourly).values(
            [{"metric": m, "dimension": d, "hour": hour, "value": v} for (m, d), v in values.items()]
        )
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=["metric", "dimension", "hour"], set_={"value": insert.excluded.value}
            )
        )
    stale = delete(AnalyticsHourly).where(AnalyticsHourly.hour == hour)
    if values:
        stale = stale.where(tuple_(AnalyticsHourly.metric, AnalyticsHourly.dimension).not_in(list(values)))
    await session.execute(stale)


async def hours_present(
    session: AsyncSession, metric: str, dimension: str, start: datetime, end: datetime
) -> set[datetime]:
    """Hours in `[start, end)` that have a row for (metric, dimension)."""
    rows = await session.execute(
        select(AnalyticsHourly.hour).where(
            AnalyticsHourly.metric == metric,
            AnalyticsHourly.dimension == dimension,
            AnalyticsHourly.hour >= start,
            AnalyticsHourly.hour < end,
        )
    )
    return set(rows.scalars())


async def series(
    session: AsyncSession, metric: str, dimensions: Iterable[str], start: datetime, end: datetime
) -> list[tuple[str, datetime, int]]:
    """(dimension, hour, value) of one metric for `start <= hour <= end` (uq index: metric first)."""
    dims = list(dimensions)
    where = [AnalyticsHourly.metric == metric, AnalyticsHourly.hour >= start, AnalyticsHourly.hour <= end]
    if dims:
        where.append(AnalyticsHourly.dimension.in_(dims))
    rows = await session.execute(
        select(AnalyticsHourly.dimension, AnalyticsHourly.hour, AnalyticsHourly.value)
        .where(*where)
        .order_by(AnalyticsHourly.hour, AnalyticsHourly.dimension)
    )
    return [(str(d), h, int(v)) for d, h, v in rows.all()]


# --- the overview: counts as of now -------------------------------------------------------------


async def active_groups(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(select(func.count()).select_from(Group).where(Group.is_active.is_(True)))
        ).scalar_one()
    )


async def creators(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Creator))).scalar_one())


async def purchases_in(session: AsyncSession, statuses: Iterable[PurchaseStatus]) -> int:
    query = select(func.count()).select_from(Purchase).where(Purchase.status.in_(list(statuses)))
    return int((await session.execute(query)).scalar_one())


async def _count(session: AsyncSession, model: type[Base], *where: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(model).where(*where)
    return int((await session.execute(query)).scalar_one())


async def inactive_groups(session: AsyncSession) -> int:
    return await _count(session, Group, Group.is_active.is_(False))


async def refunds_needed(session: AsyncSession) -> int:
    return await _count(session, Transaction, Transaction.needs_refund.is_(True))


async def undeletable_since(session: AsyncSession, since: datetime) -> int:
    return await _count(
        session, PostHistory, PostHistory.sent_at >= since, PostHistory.status == PostStatus.UNDELETABLE
    )


async def active_subscriptions(session: AsyncSession, now: datetime) -> int:
    """Purchases whose access still runs (subscriptions and anything else with an end)."""
    return await _count(
        session,
        Purchase,
        Purchase.status.in_([PurchaseStatus.PAID, PurchaseStatus.COMPLETED]),
        Purchase.access_expires_at > now,
    )
