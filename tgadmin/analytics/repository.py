"""All SQL of analytics. Every source query of the hourly figures is a range on one indexed timestamp
(`[start, end)`), so its cost follows the hour's rows, not the table's size; the overview's counts
are of the tables as they are now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tgadmin import db
from tgadmin.models import (
    AnalyticsHourly,
    AuditLog,
    Campaign,
    Creator,
    Group,
    PostHistory,
    Product,
    Purchase,
    StorefrontStart,
    TelegramUser,
    Transaction,
)
from tgadmin.models.base import Base
from tgadmin.models.enums import PostStatus, ProductType, PurchaseStatus

# Purchases looked up by id at most this many at a time (SQLite's bound parameters are limited).
CHUNK = 500
# A purchase whose buyer got the goods at some point (a renewal bought after expiry is one of these).
BOUGHT = (PurchaseStatus.PAID, PurchaseStatus.COMPLETED, PurchaseStatus.EXPIRED, PurchaseStatus.REFUNDED)


@dataclass(frozen=True)
class Window:
    """One hour: `start <= t < end`."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Bought:
    """What a purchase of the hour is attributed to."""

    status: str
    type: str
    creator_id: int
    source: str | None


@dataclass(frozen=True)
class Payment:
    """A payment received (or refunded) in the window: what was paid, how, and for what."""

    purchase_id: int
    method: str
    currency: str
    cents: int


async def purchases_created(session: AsyncSession, w: Window) -> list[tuple[Bought, int]]:
    """(attribution, count) of purchases created in the window (status as of now)."""
    rows = await session.execute(
        select(Purchase.status, Product.type, Product.creator_id, Purchase.source, func.count())
        .join(Product, Product.id == Purchase.product_id)
        .where(Purchase.created_at >= w.start, Purchase.created_at < w.end)
        .group_by(Purchase.status, Product.type, Product.creator_id, Purchase.source)
    )
    return [
        (Bought(str(status), str(kind), int(creator), source), int(n))
        for status, kind, creator, source, n in rows.all()
    ]


async def attribution(session: AsyncSession, purchase_ids: Iterable[int]) -> dict[int, Bought]:
    """The attribution of the given purchases, each found by its primary key."""
    ids = sorted(set(purchase_ids))
    found: dict[int, Bought] = {}
    for at in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(Purchase.id, Purchase.status, Product.type, Product.creator_id, Purchase.source)
            .join(Product, Product.id == Purchase.product_id)
            .where(Purchase.id.in_(ids[at : at + CHUNK]))
        )
        for pid, status, kind, creator, source in rows.all():
            found[int(pid)] = Bought(str(status), str(kind), int(creator), source)
    return found


async def payments(session: AsyncSession, w: Window) -> list[Payment]:
    """Payments received in the window: what the payer actually paid when known."""
    paid = func.coalesce(Transaction.paid_amount_cents, Transaction.amount_cents)
    rows = await session.execute(
        select(Transaction.purchase_id, Transaction.method, Transaction.currency, paid).where(
            Transaction.paid_at >= w.start, Transaction.paid_at < w.end
        )
    )
    return [Payment(int(p), str(m), str(c), int(cents or 0)) for p, m, c, cents in rows.all()]


async def refunds(session: AsyncSession, w: Window) -> list[Payment]:
    """Payments refunded in the window (what had been received goes back)."""
    paid = func.coalesce(Transaction.paid_amount_cents, Transaction.amount_cents)
    rows = await session.execute(
        select(Transaction.purchase_id, Transaction.method, Transaction.currency, paid).where(
            Transaction.refunded_at >= w.start, Transaction.refunded_at < w.end
        )
    )
    return [Payment(int(p), str(m), str(c), int(cents or 0)) for p, m, c, cents in rows.all()]


async def transactions_created(session: AsyncSession, w: Window) -> list[tuple[str, str, int]]:
    """(method, status, count) of transactions created in the window."""
    rows = await session.execute(
        select(Transaction.method, Transaction.status, func.count())
        .where(Transaction.created_at >= w.start, Transaction.created_at < w.end)
        .group_by(Transaction.method, Transaction.status)
    )
    return [(str(method), str(status), int(n)) for method, status, n in rows.all()]


async def posts(session: AsyncSession, w: Window) -> list[tuple[int, str, int]]:
    """(group id, status, count) of PostHistory rows sent in the window."""
    rows = await session.execute(
        select(PostHistory.group_id, PostHistory.status, func.count())
        .where(PostHistory.sent_at >= w.start, PostHistory.sent_at < w.end)
        .group_by(PostHistory.group_id, PostHistory.status)
    )
    return [(int(group), str(status), int(n)) for group, status, n in rows.all()]


async def posts_deleted(session: AsyncSession, w: Window) -> list[tuple[int, int]]:
    """(group id, count) of messages deleted in the window (whenever they were sent)."""
    rows = await session.execute(
        select(PostHistory.group_id, func.count())
        .where(PostHistory.deleted_at >= w.start, PostHistory.deleted_at < w.end)
        .group_by(PostHistory.group_id)
    )
    return [(int(group), int(n)) for group, n in rows.all()]


async def new_users(session: AsyncSession, w: Window) -> list[tuple[str | None, int]]:
    """(first source, count) of Telegram users first seen in the window."""
    rows = await session.execute(
        select(TelegramUser.source, func.count())
        .where(TelegramUser.first_seen_at >= w.start, TelegramUser.first_seen_at < w.end)
        .group_by(TelegramUser.source)
    )
    return [(source, int(n)) for source, n in rows.all()]


async def starts(session: AsyncSession, w: Window) -> list[tuple[int, str | None, int]]:
    """(creator id, source, count) of deep-link starts in the window."""
    rows = await session.execute(
        select(StorefrontStart.creator_id, StorefrontStart.source, func.count())
        .where(StorefrontStart.started_at >= w.start, StorefrontStart.started_at < w.end)
        .group_by(StorefrontStart.creator_id, StorefrontStart.source)
    )
    return [(int(creator), source, int(n)) for creator, source, n in rows.all()]


def _subscription_of(purchase: type[Purchase]) -> ColumnElement[bool]:
    return exists().where(Product.id == purchase.product_id, Product.type == ProductType.SUBSCRIPTION)


async def active_subscriptions_at(session: AsyncSession, moment: datetime) -> int:
    """Subscriptions giving access at `moment` (renewal records stand for nothing on their own). The
    range on `access_expires_at` per status (ix_purchases_status_expires) reads the subscriptions
    live then, not the ones that ended before."""
    query = select(func.count()).where(
        Purchase.status.in_(BOUGHT),
        Purchase.access_expires_at > moment,
        Purchase.created_at <= moment,
        Purchase.renews_purchase_id.is_(None),
        or_(Purchase.access_revoked_at.is_(None), Purchase.access_revoked_at > moment),
        _subscription_of(Purchase),
    )
    return int((await session.execute(query)).scalar_one())


async def churned(session: AsyncSession, w: Window) -> list[tuple[int, int]]:
    """(creator id, count) of subscriptions whose access ran out in the window, now `expired`, whose
    buyer bought the product again at no later time (a renewal in time extends the purchase instead,
    and a renewal record never counts)."""
    later = aliased(Purchase)
    renewed = exists().where(
        later.user_id == Purchase.user_id,
        later.product_id == Purchase.product_id,
        later.created_at > Purchase.created_at,
        later.id != Purchase.id,
        later.renews_purchase_id.is_(None),
        later.status.in_(BOUGHT),
    )
    rows = await session.execute(
        select(Product.creator_id, func.count())
        .select_from(Purchase)
        .join(Product, Product.id == Purchase.product_id)
        .where(
            Purchase.status == PurchaseStatus.EXPIRED,
            Purchase.access_expires_at >= w.start,
            Purchase.access_expires_at < w.end,
            Purchase.renews_purchase_id.is_(None),
            Product.type == ProductType.SUBSCRIPTION,
            ~renewed,
        )
        .group_by(Product.creator_id)
    )
    return [(int(creator), int(n)) for creator, n in rows.all()]


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


async def sums(
    session: AsyncSession, metrics: Iterable[str], start: datetime, end: datetime
) -> list[tuple[str, str, int]]:
    """(metric, dimension, sum of values) over `start <= hour < end`, for the given metrics."""
    rows = await session.execute(
        select(AnalyticsHourly.metric, AnalyticsHourly.dimension, func.sum(AnalyticsHourly.value))
        .where(
            AnalyticsHourly.metric.in_(list(metrics)),
            AnalyticsHourly.hour >= start,
            AnalyticsHourly.hour < end,
        )
        .group_by(AnalyticsHourly.metric, AnalyticsHourly.dimension)
    )
    return [(str(m), str(d), int(v or 0)) for m, d, v in rows.all()]


async def creator_names(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    rows = await session.execute(select(Creator.id, Creator.name).where(Creator.id.in_(sorted(set(ids)))))
    return {int(i): str(n) for i, n in rows.all()}


async def group_titles(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    rows = await session.execute(select(Group.id, Group.title).where(Group.id.in_(sorted(set(ids)))))
    return {int(i): str(n) for i, n in rows.all()}


async def campaign_names(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    rows = await session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(sorted(set(ids)))))
    return {int(i): str(n) for i, n in rows.all()}


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
