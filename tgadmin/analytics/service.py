"""Hourly analytics: one hour of activity folded into `AnalyticsHourly` rows (metric, dimension, hour,
value), and the series the dashboard charts read back.

An aggregation replaces the hour's rows with what the data says now, so re-running an hour (a retry,
a backfill, two workers) gives the same rows. Dimensions read `key=value`; the total of a metric
has the empty dimension and is written even when it is zero, so a missing total means "never
aggregated" (the scheduled run catches up such hours) and a chart never mistakes a gap for a zero.

Statuses are counted as they are when the hour is last aggregated: the scheduled run recomputes the
last SETTLE_HOURS hours, so a purchase created at 10:59 and paid at 11:02 counts as created-and-paid
in the 10:00 hour, while a refund days later leaves that hour as it was (until a backfill).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.analytics import repository
from tgadmin.analytics.repository import Window
from tgadmin.audit.service import Actor, record
from tgadmin.clock import ensure_utc, utcnow
from tgadmin.errors import BadRequest
from tgadmin.models.enums import PostStatus, PurchaseStatus

HOUR = timedelta(hours=1)
# The scheduled run also aggregates hours of this recent past that were never aggregated (a worker
# down for a while); older hours are backfilled on request with `{hour: ...}`.
CATCH_UP_HOURS = 24
# An hour's figures still move after it ends: a charge confirmed by polling or by the expiry sweep
# carries the PSP's payment time (up to half an hour back), and purchases made near the end of the
# hour are paid minutes later. The scheduled run therefore recomputes this many recent hours.
SETTLE_HOURS = 3
# A dashboard series is at most this long (about three months of hours).
MAX_SERIES_HOURS = 24 * 93


class Metric(StrEnum):
    # Checkouts started: total, status=, type=, creator=, source=
    PURCHASES_CREATED = "purchases_created"
    PURCHASES_PAID = "purchases_paid"  # total, type=, creator=, source=
    # Cents of one currency (no total across currencies): currency=X, and currency=X,method= /
    # currency=X,creator= / currency=X,source=
    REVENUE_CENTS = "revenue_cents"
    TRANSACTIONS = "transactions"  # total, method=, status=
    POSTS = "posts"  # total sent in the hour, status= (sent|deleted|failed|undeletable) as of now
    MESSAGES_SENT = "messages_sent"  # total, group= (posted in the hour; failures not included)
    MESSAGES_DELETED = "messages_deleted"  # total, group= (deleted in the hour, whenever sent)
    MESSAGES_FAILED = "messages_failed"  # total, group=
    NEW_BUYERS = "new_buyers"  # total (Telegram users first seen in the hour), source=
    STARTS = "starts"  # total, creator=, source= (deep-link starts: the funnel's top)
    REFUNDS = "refunds"  # total, method= (payments refunded in the hour)
    REFUNDED_CENTS = "refunded_cents"  # currency=X
    ACTIVE_SUBSCRIPTIONS = "active_subscriptions"  # total, at the end of the hour
    CHURN = "churn"  # total, creator= (subscriptions expired in the hour and not bought again)
    GROUPS_ACTIVATED = "groups_activated"  # total
    GROUPS_DEACTIVATED = "groups_deactivated"  # total


TOTAL = ""
# Metrics whose total row is always written (zero included).
TOTALS = (
    Metric.PURCHASES_CREATED,
    Metric.PURCHASES_PAID,
    Metric.TRANSACTIONS,
    Metric.POSTS,
    Metric.MESSAGES_SENT,
    Metric.MESSAGES_DELETED,
    Metric.MESSAGES_FAILED,
    Metric.NEW_BUYERS,
    Metric.STARTS,
    Metric.REFUNDS,
    Metric.ACTIVE_SUBSCRIPTIONS,
    Metric.CHURN,
    Metric.GROUPS_ACTIVATED,
    Metric.GROUPS_DEACTIVATED,
)


def hour_start(moment: datetime) -> datetime:
    moment = ensure_utc(moment)
    return moment.replace(minute=0, second=0, microsecond=0)


def previous_hour(now: datetime | None = None) -> datetime:
    """The last full hour before `now`."""
    return hour_start(now or utcnow()) - HOUR


def _dim(key: str, value: object) -> str:
    return f"{key}={value}"


def dims(*pairs: tuple[str, object]) -> str:
    """A dimension of several keys: `currency=BRL,method=pix` (source tags hold no comma)."""
    return ",".join(_dim(k, v) for k, v in pairs)


def _attributed(out: Counter[tuple[str, str]], metric: Metric, bought: repository.Bought, n: int) -> None:
    out[metric, TOTAL] += n
    out[metric, _dim("type", bought.type)] += n
    out[metric, _dim("creator", bought.creator_id)] += n
    if bought.source:
        out[metric, _dim("source", bought.source)] += n


async def _checkouts(session: AsyncSession, w: Window, out: Counter[tuple[str, str]]) -> None:
    for bought, n in await repository.purchases_created(session, w):
        _attributed(out, Metric.PURCHASES_CREATED, bought, n)
        out[Metric.PURCHASES_CREATED, _dim("status", bought.status)] += n
    for method, status, n in await repository.transactions_created(session, w):
        out[Metric.TRANSACTIONS, TOTAL] += n
        out[Metric.TRANSACTIONS, _dim("method", method)] += n
        out[Metric.TRANSACTIONS, _dim("status", status)] += n


async def _money(session: AsyncSession, w: Window, out: Counter[tuple[str, str]]) -> None:
    received = await repository.payments(session, w)
    bought = await repository.attribution(session, (p.purchase_id for p in received))
    # A purchase paid twice counts once among purchases paid; both payments are revenue.
    for pid in {p.purchase_id for p in received}:
        if pid in bought:
            _attributed(out, Metric.PURCHASES_PAID, bought[pid], 1)
    for pay in received:
        currency = ("currency", pay.currency)
        out[Metric.REVENUE_CENTS, dims(currency)] += pay.cents
        out[Metric.REVENUE_CENTS, dims(currency, ("method", pay.method))] += pay.cents
        what = bought.get(pay.purchase_id)
        if what is not None:
            out[Metric.REVENUE_CENTS, dims(currency, ("creator", what.creator_id))] += pay.cents
            if what.source:
                out[Metric.REVENUE_CENTS, dims(currency, ("source", what.source))] += pay.cents
    for refund in await repository.refunds(session, w):
        out[Metric.REFUNDS, TOTAL] += 1
        out[Metric.REFUNDS, _dim("method", refund.method)] += 1
        out[Metric.REFUNDED_CENTS, _dim("currency", refund.currency)] += refund.cents


async def _subscriptions(session: AsyncSession, w: Window, out: Counter[tuple[str, str]]) -> None:
    out[Metric.ACTIVE_SUBSCRIPTIONS, TOTAL] += await repository.active_subscriptions_at(session, w.end)
    for creator, n in await repository.churned(session, w):
        out[Metric.CHURN, TOTAL] += n
        out[Metric.CHURN, _dim("creator", creator)] += n


async def _messages(session: AsyncSession, w: Window, out: Counter[tuple[str, str]]) -> None:
    for group, status, n in await repository.posts(session, w):
        out[Metric.POSTS, TOTAL] += n
        out[Metric.POSTS, _dim("status", status)] += n
        metric = Metric.MESSAGES_FAILED if status == PostStatus.FAILED else Metric.MESSAGES_SENT
        out[metric, TOTAL] += n
        out[metric, _dim("group", group)] += n
    for group, n in await repository.posts_deleted(session, w):
        out[Metric.MESSAGES_DELETED, TOTAL] += n
        out[Metric.MESSAGES_DELETED, _dim("group", group)] += n


async def _audience(session: AsyncSession, w: Window, out: Counter[tuple[str, str]]) -> None:
    for source, n in await repository.new_users(session, w):
        out[Metric.NEW_BUYERS, TOTAL] += n
        if source:
            out[Metric.NEW_BUYERS, _dim("source", source)] += n
    for creator, source, n in await repository.starts(session, w):
        out[Metric.STARTS, TOTAL] += n
        out[Metric.STARTS, _dim("creator", creator)] += n
        if source:
            out[Metric.STARTS, _dim("source", source)] += n
    # Groups keep no activation times; the audit trail of the group service has them.
    for entry in await repository.group_audit(session, w, ("group.membership", "group.deactivated")):
        if entry.action == "group.deactivated":
            out[Metric.GROUPS_DEACTIVATED, TOTAL] += 1
        elif entry.before is None or not entry.before.get("is_active", True):
            out[Metric.GROUPS_ACTIVATED, TOTAL] += 1


async def compute_hour(session: AsyncSession, hour: datetime) -> dict[tuple[str, str], int]:
    """The figures of one hour, keyed (metric, dimension); nothing written."""
    start = hour_start(hour)
    window = Window(start, start + HOUR)
    out: Counter[tuple[str, str]] = Counter({(metric.value, TOTAL): 0 for metric in TOTALS})
    for part in (_checkouts, _money, _subscriptions, _messages, _audience):
        await part(session, window, out)
    return {(str(m), d): v for (m, d), v in out.items() if v or d == TOTAL}


async def aggregate_hour(session: AsyncSession, hour: datetime) -> dict[tuple[str, str], int]:
    """Replace the rows of the hour starting at `hour` (floored) with its figures; refuses an hour
    that is not over yet (its figures would still change)."""
    start = hour_start(hour)
    if start + HOUR > utcnow():
        raise BadRequest(f"hour {start.isoformat()} is not over yet; only past hours are aggregated")
    values = await compute_hour(session, start)
    await repository.replace_hour(session, start, values)
    return values


async def missing_hours(session: AsyncSession, now: datetime | None = None) -> list[datetime]:
    """Full hours of the last CATCH_UP_HOURS that were never aggregated, oldest first."""
    last = previous_hour(now)
    first = last - (CATCH_UP_HOURS - 1) * HOUR
    # Every aggregation writes this total, zero included: its absence means "never aggregated".
    done = await repository.hours_present(session, Metric.POSTS, TOTAL, first, last + HOUR)
    present = {hour_start(h) for h in done}
    return [h for h in (first + i * HOUR for i in range(CATCH_UP_HOURS)) if h not in present]


async def scheduled_hours(session: AsyncSession, now: datetime | None = None) -> list[datetime]:
    """What the hourly run aggregates, oldest first: the last SETTLE_HOURS full hours, and every hour
    of the last CATCH_UP_HOURS that was never aggregated."""
    last = previous_hour(now)
    recent = {last - i * HOUR for i in range(SETTLE_HOURS)}
    return sorted(recent.union(await missing_hours(session, now)))


# A backfill covers at most this many hours (a year): a typo in a year must not queue a century.
MAX_BACKFILL_HOURS = 24 * 366


def backfill_hours(start: datetime, end: datetime, now: datetime | None = None) -> list[datetime]:
    """The hours a backfill of `[start, end)` recomputes, oldest first: every hour that starts in the
    range (start floored) and is over by `now`."""
    if ensure_utc(end) <= ensure_utc(start):
        raise BadRequest("a backfill's end (--to) must come after its start (--from)")
    first, stop = hour_start(start), min(ensure_utc(end), previous_hour(now) + HOUR)
    count = max(-(-(stop - first) // HOUR), 0)  # hours starting before `stop`
    if count > MAX_BACKFILL_HOURS:
        raise BadRequest(f"a backfill covers at most {MAX_BACKFILL_HOURS} hours, not {count}")
    hours = [first + i * HOUR for i in range(count)]
    if not hours:
        raise BadRequest("no hour of that range is over yet: nothing to backfill")
    return hours


@dataclass(frozen=True)
class Backfill:
    """A backfill asked for: the job's data and the hours it will recompute."""

    data: dict[str, str]
    hours: int


async def ask_backfill(session: AsyncSession, actor: Actor, start: datetime, end: datetime) -> Backfill:
    """Check a backfill range and audit the request (the caller enqueues `analytics-backfill` with
    `data` after the commit)."""
    hours = backfill_hours(start, end)
    data = {"start": hours[0].isoformat(), "end": (hours[-1] + HOUR).isoformat()}
    await record(session, actor, "analytics.backfill", "analytics", None, after={**data, "hours": len(hours)})
    return Backfill(data, len(hours))


@dataclass(frozen=True)
class Point:
    hour: datetime
    value: int


async def series(
    session: AsyncSession,
    metric: Metric,
    start: datetime,
    end: datetime,
    dimensions: Sequence[str] = (TOTAL,),
) -> dict[str, list[Point]]:
    """One point per hour from `start` to `end` (both floored, both included) for each dimension;
    hours without a row read 0. `dimensions=()` returns every dimension the range has."""
    first, last = hour_start(start), hour_start(end)
    if last < first:
        raise BadRequest("the series ends before it starts")
    hours = int((last - first) / HOUR) + 1
    if hours > MAX_SERIES_HOURS:
        raise BadRequest(f"a series spans at most {MAX_SERIES_HOURS} hours, not {hours}")
    rows = await repository.series(session, metric, dimensions, first, last)
    found = {(d, hour_start(h)): v for d, h, v in rows}
    names = list(dimensions) or sorted({d for d, _h, _v in rows})
    timeline = [first + i * HOUR for i in range(hours)]
    return {name: [Point(h, found.get((name, h), 0)) for h in timeline] for name in names}


@dataclass(frozen=True)
class Overview:
    """The business at a glance, as it is now."""

    active_groups: int
    creators: int
    paid_purchases: int  # paid or completed
    pending_checkouts: int


async def overview(session: AsyncSession) -> Overview:
    return Overview(
        active_groups=await repository.active_groups(session),
        creators=await repository.creators(session),
        paid_purchases=await repository.purchases_in(
            session, (PurchaseStatus.PAID, PurchaseStatus.COMPLETED)
        ),
        pending_checkouts=await repository.purchases_in(session, (PurchaseStatus.PENDING,)),
    )


async def daily(
    session: AsyncSession,
    metric: Metric,
    days: int,
    dimension: str = TOTAL,
    now: datetime | None = None,
    *,
    tz: tzinfo,
) -> list[tuple[date, int]]:
    """One value per day (days of the zone `tz`: the operator's calendar) for the last `days` days,
    today included so far: the hourly rows summed."""
    now = now or utcnow()
    today = now.astimezone(tz).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=tz)
    points = (await series(session, metric, start, now, (dimension,)))[dimension]
    totals = {first_day + timedelta(days=i): 0 for i in range(days)}
    for point in points:
        day = point.hour.astimezone(tz).date()
        if day in totals:
            totals[day] += point.value
    return sorted(totals.items())


async def hourly(
    session: AsyncSession, metric: Metric, hours: int, dimension: str = TOTAL, now: datetime | None = None
) -> list[Point]:
    """The last `hours` full hours of one metric (hours never aggregated read 0)."""
    last = previous_hour(now)
    return (await series(session, metric, last - (hours - 1) * HOUR, last, (dimension,)))[dimension]


@dataclass(frozen=True)
class Attention:
    """What an operator must act on, as it is now."""

    inactive_groups: int
    refunds_needed: int
    undeletable_last_7_days: int
    active_subscriptions: int


async def attention(session: AsyncSession, now: datetime | None = None) -> Attention:
    now = now or utcnow()
    return Attention(
        inactive_groups=await repository.inactive_groups(session),
        refunds_needed=await repository.refunds_needed(session),
        undeletable_last_7_days=await repository.undeletable_since(session, now - timedelta(days=7)),
        active_subscriptions=await repository.active_subscriptions(session, now),
    )
