"""Hourly analytics on PostgreSQL and SQLite: the figures of an hour come from the rows that fall in
it, re-running an hour replaces its rows, an hour not over is refused, never-aggregated hours are
found, and chart series fill gaps with zeros within sane bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.analytics import factories as f
from tests.factories import make_bot, make_buyer, make_post, make_product, make_purchase, make_transaction
from tgadmin.analytics import service
from tgadmin.analytics.service import HOUR, Metric, Point
from tgadmin.clock import frozen_at
from tgadmin.errors import BadRequest
from tgadmin.models import AnalyticsHourly, Group, Purchase
from tgadmin.models.enums import (
    BotMemberStatus,
    ChatType,
    Currency,
    PaymentMethod,
    PostStatus,
    ProductType,
    PurchaseStatus,
    TransactionStatus,
)

H = datetime(2026, 11, 20, 10, tzinfo=UTC)
LATER = H + timedelta(days=1)  # the clock when hours are aggregated, unless a test says otherwise
EPS = timedelta(microseconds=1)


def at(minutes: float) -> datetime:
    return H + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Busy:
    purchases: dict[str, Purchase]
    expected: dict[tuple[str, str], int]  # BUSY_HOUR and the figures that name rows of this seed


async def seed_busy_hour(session: AsyncSession) -> Busy:
    """One busy hour H (10:00-11:00) plus rows just outside it, which must not count."""
    content = await make_product(session, kind=ProductType.CONTENT)
    vip = await make_product(session, kind=ProductType.SUBSCRIPTION)
    ana = await make_buyer(session, first_seen_at=at(5))
    await make_buyer(session, first_seen_at=at(50))
    earlier = await make_buyer(session, first_seen_at=H - EPS)
    await make_buyer(session, first_seen_at=H + HOUR)

    pending = await make_purchase(session, product=content, buyer=ana, created_at=at(1))
    completed = await make_purchase(
        session, product=content, buyer=ana, created_at=at(10), status=PurchaseStatus.COMPLETED
    )
    paid = await make_purchase(
        session, product=vip, buyer=ana, created_at=H + HOUR - EPS, status=PurchaseStatus.PAID
    )
    before = await make_purchase(
        session, product=content, buyer=earlier, created_at=H - EPS, status=PurchaseStatus.COMPLETED
    )
    after = await make_purchase(
        session, product=content, buyer=earlier, created_at=H + HOUR, status=PurchaseStatus.PAID
    )

    paid_tx = TransactionStatus.PAID
    await make_transaction(session, pending, created_at=at(1), status=TransactionStatus.FAILED)
    # The buyer paid more than asked: revenue is what arrived, not what was asked.
    await make_transaction(
        session, completed, created_at=at(10), status=paid_tx, paid_at=at(12), paid_amount_cents=2500
    )
    # A second payment of the same purchase: more revenue, still one purchase paid.
    await make_transaction(session, completed, created_at=at(20), status=paid_tx, paid_at=at(21))
    await make_transaction(
        session,
        paid,
        created_at=H + HOUR - EPS,
        method=PaymentMethod.STARS,
        currency=Currency.XTR,
        amount_cents=50,
        status=paid_tx,
        paid_at=H + HOUR - EPS,
    )
    # Created the hour before, paid in this one (confirmed by polling): revenue of this hour.
    await make_transaction(session, before, created_at=H - EPS, status=paid_tx, paid_at=at(2))
    await make_transaction(session, after, created_at=H + HOUR, status=paid_tx, paid_at=H + HOUR)

    bot = await make_bot(session)
    new_group = await f.bot_joins(session, bot, -1001, at(3))
    await f.bot_joins(session, bot, -1002, H - timedelta(hours=2))
    await f.bot_kicked(session, bot, -1002, at(30))
    await f.bot_joins(session, bot, -1002, at(40))  # added back: active again
    await f.bot_joins(session, bot, -1003, H - timedelta(hours=2), BotMemberStatus.MEMBER)
    await f.bot_joins(session, bot, -1003, at(45))  # promoted: was active all along
    await f.bot_joins(session, bot, -1004, H + HOUR)

    for minute, status in ((0, PostStatus.SENT), (15, PostStatus.SENT), (25, PostStatus.DELETED)):
        await make_post(session, new_group, at(minute), status)
    await make_post(session, new_group, at(59), PostStatus.FAILED)
    await make_post(session, new_group, H + HOUR, PostStatus.SENT)
    # The figures that name rows: creators of the two products, the group posted to.
    c1, c2, g = f"creator={content.creator_id}", f"creator={vip.creator_id}", f"group={new_group.id}"
    named = {
        ("purchases_created", c1): 2,
        ("purchases_created", c2): 1,
        ("purchases_paid", c1): 2,
        ("purchases_paid", c2): 1,
        ("revenue_cents", f"currency=BRL,{c1}"): 6480,
        ("revenue_cents", f"currency=XTR,{c2}"): 50,
        ("messages_sent", g): 3,
        ("messages_failed", g): 1,
    }
    return Busy({"pending": pending, "completed": completed, "paid": paid}, {**BUSY_HOUR, **named})


BUSY_HOUR = {
    ("purchases_created", ""): 3,
    ("purchases_created", "status=pending"): 1,
    ("purchases_created", "status=completed"): 1,
    ("purchases_created", "status=paid"): 1,
    ("purchases_created", "type=content"): 2,
    ("purchases_created", "type=subscription"): 1,
    ("purchases_paid", ""): 3,
    ("purchases_paid", "type=content"): 2,
    ("purchases_paid", "type=subscription"): 1,
    ("revenue_cents", "currency=BRL"): 2500 + 1990 + 1990,
    ("revenue_cents", "currency=XTR"): 50,
    ("transactions", ""): 4,
    ("transactions", "method=pix"): 3,
    ("transactions", "method=stars"): 1,
    ("transactions", "status=paid"): 3,
    ("transactions", "status=failed"): 1,
    ("posts", ""): 4,
    ("posts", "status=sent"): 2,
    ("posts", "status=deleted"): 1,
    ("posts", "status=failed"): 1,
    ("new_buyers", ""): 2,
    ("groups_activated", ""): 2,
    ("groups_deactivated", ""): 1,
    ("revenue_cents", "currency=BRL,method=pix"): 6480,
    ("revenue_cents", "currency=XTR,method=stars"): 50,
    ("messages_sent", ""): 3,
    ("messages_failed", ""): 1,
    ("messages_deleted", ""): 0,  # the deleted post has no deletion time: it counts nowhere
    ("starts", ""): 0,
    ("refunds", ""): 0,
    ("active_subscriptions", ""): 0,
    ("churn", ""): 0,
}


async def stored(session: AsyncSession, hour: datetime) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(AnalyticsHourly.metric, AnalyticsHourly.dimension, AnalyticsHourly.value).where(
            AnalyticsHourly.hour == hour
        )
    )
    return {(m, d): v for m, d, v in rows.all()}


async def row_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(AnalyticsHourly))).scalar_one())


async def aggregate(
    session: AsyncSession, hour: datetime, now: datetime = LATER
) -> dict[tuple[str, str], int]:
    with frozen_at(now):
        return await service.aggregate_hour(session, hour)


async def test_an_hours_figures_come_from_the_rows_inside_it_and_only_those(session: AsyncSession) -> None:
    busy = await seed_busy_hour(session)
    assert await aggregate(session, H) == busy.expected
    assert await stored(session, H) == busy.expected


async def test_an_empty_hour_is_recorded_with_zero_totals(session: AsyncSession) -> None:
    await aggregate(session, H)
    zero_totals = {(str(metric), ""): 0 for metric in service.TOTALS}
    assert await stored(session, H) == zero_totals


async def test_any_moment_of_the_hour_names_the_hour_and_other_offsets_are_converted(
    session: AsyncSession,
) -> None:
    busy = await seed_busy_hour(session)
    brasilia = H.astimezone(timezone(timedelta(hours=-3))) + timedelta(minutes=42)
    await aggregate(session, brasilia)
    assert await stored(session, H) == busy.expected


async def test_running_an_hour_again_replaces_its_rows_with_the_current_figures(
    session: AsyncSession,
) -> None:
    busy = await seed_busy_hour(session)
    purchases = busy.purchases
    await aggregate(session, H)
    await aggregate(session, H - HOUR)
    rows_before = await row_count(session)
    previous_hour = await stored(session, H - HOUR)

    # Same data, run again (a retry, a second worker): the very same rows, no duplicates.
    await aggregate(session, H)
    assert await row_count(session) == rows_before
    assert await stored(session, H) == busy.expected

    # The pending purchase got paid since: its old status row goes, the new one counts it.
    purchases["pending"].status = PurchaseStatus.PAID
    await session.flush()
    await aggregate(session, H)
    figures = await stored(session, H)
    assert ("purchases_created", "status=pending") not in figures
    assert figures["purchases_created", "status=paid"] == 2
    assert await row_count(session) == rows_before - 1
    assert await stored(session, H - HOUR) == previous_hour


async def test_an_hour_that_is_not_over_is_refused(session: AsyncSession) -> None:
    with pytest.raises(BadRequest, match="not over"):
        await aggregate(session, H, now=H + HOUR - EPS)
    assert await row_count(session) == 0
    assert await aggregate(session, H, now=H + HOUR)


async def test_missing_hours_are_the_never_aggregated_hours_of_the_last_day(session: AsyncSession) -> None:
    now = H + timedelta(hours=30, minutes=5)  # the last full hour is H+29h
    for hours_after in (0, 6, 28):  # H is too old to be caught up; the other two are done
        await aggregate(session, H + hours_after * HOUR, now)
    missing = await service.missing_hours(session, now)
    expected = [H + n * HOUR for n in range(6, 30) if n not in (6, 28)]
    assert missing == expected
    # The scheduled run does those, plus the last few hours again (late payments land there).
    scheduled = await service.scheduled_hours(session, now)
    assert scheduled == sorted({*expected, H + 27 * HOUR, H + 28 * HOUR, H + 29 * HOUR})


async def test_a_series_has_one_point_per_hour_and_zero_where_nothing_was_recorded(
    session: AsyncSession,
) -> None:
    await seed_busy_hour(session)
    await aggregate(session, H)
    posts = await service.series(session, Metric.POSTS, H - HOUR, H + HOUR + timedelta(minutes=30))
    assert posts == {"": [Point(H - HOUR, 0), Point(H, 4), Point(H + HOUR, 0)]}

    revenue = await service.series(session, Metric.REVENUE_CENTS, H, H + HOUR, dimensions=())
    assert len(revenue) == 6  # per currency, and per currency and method or creator
    assert {d: points for d, points in revenue.items() if "," not in d} == {
        "currency=BRL": [Point(H, 6480), Point(H + HOUR, 0)],
        "currency=XTR": [Point(H, 50), Point(H + HOUR, 0)],
    }
    by_type = await service.series(
        session, Metric.PURCHASES_PAID, H, H, dimensions=["type=ppv", "type=content"]
    )
    assert by_type == {"type=ppv": [Point(H, 0)], "type=content": [Point(H, 2)]}


async def test_a_series_that_runs_backwards_or_too_long_is_refused(session: AsyncSession) -> None:
    with pytest.raises(BadRequest, match="ends before it starts"):
        await service.series(session, Metric.POSTS, H, H - HOUR)
    longest = H + (service.MAX_SERIES_HOURS - 1) * HOUR
    assert len((await service.series(session, Metric.POSTS, H, longest))[""]) == service.MAX_SERIES_HOURS
    with pytest.raises(BadRequest, match="at most"):
        await service.series(session, Metric.POSTS, H, longest + HOUR)


async def test_the_overview_counts_active_groups_creators_and_purchases_paid_or_pending(
    session: AsyncSession,
) -> None:
    before = await service.overview(session)
    bot = await make_bot(session)
    for n, active in enumerate((True, True, False)):
        session.add(
            Group(
                bot_id=bot.id,
                telegram_id=-100_000 - n,
                type=ChatType.SUPERGROUP,
                title=f"Grupo {n}",
                bot_status=BotMemberStatus.ADMINISTRATOR,
                is_active=active,
            )
        )
    product = await make_product(session)  # and its creator
    for status in (*PurchaseStatus, PurchaseStatus.PENDING):
        await make_purchase(session, product=product, status=status)

    now = await service.overview(session)
    assert now.active_groups - before.active_groups == 2
    assert now.creators - before.creators == 1
    assert now.paid_purchases - before.paid_purchases == 2  # paid and completed
    assert now.pending_checkouts - before.pending_checkouts == 2
