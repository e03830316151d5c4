"""`analytics-aggregate` run by a real worker (in this process) from the real `system` queue, on
PostgreSQL and SQLite: backfill of a named hour, the scheduled run's catch-up, and bad data that
fails once without retries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests.analytics import factories as f
from tests.factories import make_bot, make_buyer, make_post, make_product, make_purchase, make_transaction
from tests.worker.harness import World
from tgadmin.analytics import service
from tgadmin.analytics.service import HOUR
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models import AnalyticsHourly
from tgadmin.models.enums import PostStatus, PurchaseStatus, TransactionStatus
from tgadmin.queue.names import JobName


async def seed(world: World, hour: datetime) -> dict[tuple[str, str], int]:
    """Two purchases (one paid by PIX with more than asked), a new buyer, a post, in `hour`; returns
    the figures the hour must have."""
    async with session_scope(world.sessions) as session:
        product = await make_product(session)
        buyer = await make_buyer(session, first_seen_at=hour + timedelta(minutes=1))
        await make_purchase(session, product=product, buyer=buyer, created_at=hour + timedelta(minutes=2))
        paid = await make_purchase(
            session,
            product=product,
            buyer=buyer,
            created_at=hour + timedelta(minutes=3),
            status=PurchaseStatus.PAID,
        )
        await make_transaction(
            session,
            paid,
            created_at=hour + timedelta(minutes=3),
            status=TransactionStatus.PAID,
            paid_at=hour + timedelta(minutes=4),
            paid_amount_cents=2000,
        )
        group = await f.bot_joins(session, await make_bot(session), -1009, hour + timedelta(minutes=5))
        await make_post(session, group, hour + timedelta(minutes=6), PostStatus.SENT)
    creator, group_dim = f"creator={product.creator_id}", f"group={group.id}"
    return {
        **EXPECTED,
        ("purchases_created", creator): 2,
        ("purchases_paid", creator): 1,
        ("revenue_cents", f"currency=BRL,{creator}"): 2000,
        ("messages_sent", group_dim): 1,
    }


async def figures(world: World, hour: datetime) -> dict[tuple[str, str], int]:
    async with world.sessions() as session:
        rows = await session.execute(
            select(AnalyticsHourly.metric, AnalyticsHourly.dimension, AnalyticsHourly.value).where(
                AnalyticsHourly.hour == hour
            )
        )
        return {(m, d): v for m, d, v in rows.all()}


async def row_count(world: World) -> int:
    async with world.sessions() as session:
        query = select(func.count()).select_from(AnalyticsHourly)
        return int((await session.execute(query)).scalar_one())


EXPECTED = {
    ("purchases_created", ""): 2,
    ("purchases_created", "status=pending"): 1,
    ("purchases_created", "status=paid"): 1,
    ("purchases_created", "type=content"): 2,
    ("purchases_paid", ""): 1,
    ("purchases_paid", "type=content"): 1,
    ("revenue_cents", "currency=BRL"): 2000,
    ("transactions", ""): 1,
    ("transactions", "method=pix"): 1,
    ("transactions", "status=paid"): 1,
    ("posts", ""): 1,
    ("posts", "status=sent"): 1,
    ("new_buyers", ""): 1,
    ("groups_activated", ""): 1,
    ("groups_deactivated", ""): 0,
    ("revenue_cents", "currency=BRL,method=pix"): 2000,
    ("messages_sent", ""): 1,
    ("messages_deleted", ""): 0,
    ("messages_failed", ""): 0,
    ("starts", ""): 0,
    ("refunds", ""): 0,
    ("active_subscriptions", ""): 0,
    ("churn", ""): 0,
}


async def test_a_backfill_aggregates_the_named_hour_and_running_it_again_changes_nothing(
    world: World,
) -> None:
    hour = service.hour_start(utcnow()) - timedelta(days=3)  # older than the scheduled catch-up
    expected = await seed(world, hour)
    iso = (hour + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")  # any moment of the hour
    out = await world.run(JobName.ANALYTICS_AGGREGATE, {"hour": iso})
    assert out.state == "completed", out.reason
    assert out.value == {"hours": [hour.isoformat()], "rows": len(expected)}
    assert await figures(world, hour) == expected

    again = await world.run(JobName.ANALYTICS_AGGREGATE, {"hour": iso})
    assert again.state == "completed"
    assert await figures(world, hour) == expected
    assert await row_count(world) == len(expected)


async def test_the_scheduled_run_catches_up_the_last_day_then_only_recomputes_recent_hours(
    world: World,
) -> None:
    busy = service.hour_start(utcnow()) - 5 * HOUR
    expected = await seed(world, busy)
    first = await world.run(JobName.ANALYTICS_AGGREGATE, {})
    assert first.state == "completed", first.reason
    hours = [datetime.fromisoformat(h) for h in first.value["hours"]]
    assert hours == [hours[0] + n * HOUR for n in range(service.CATCH_UP_HOURS)]
    assert busy in hours
    assert await figures(world, busy) == expected

    second = await world.run(JobName.ANALYTICS_AGGREGATE, {})
    assert second.state == "completed"
    assert len(second.value["hours"]) == service.SETTLE_HOURS
    assert await figures(world, busy) == expected


async def test_bad_data_fails_once_with_the_field_named(world: World) -> None:
    an_hour_ago = (service.hour_start(utcnow()) - HOUR).isoformat()
    for data in (
        {"hour": 1_700_000_000},  # a number, not a time
        {"hour": an_hour_ago.replace("+00:00", "")},  # no offset: whose 10 o'clock?
        {"hour": "yesterday"},
        {"hours": an_hour_ago},
    ):
        out = await world.run(JobName.ANALYTICS_AGGREGATE, data)
        assert out.state == "failed" and out.attempts_made == 1, data
        assert "invalid analytics-aggregate job data" in (out.reason or "")
        assert "hour" in (out.reason or "")
    assert await row_count(world) == 0


async def test_an_hour_not_over_is_refused_without_retries(world: World) -> None:
    this_hour = service.hour_start(utcnow()).isoformat()
    out = await world.run(JobName.ANALYTICS_AGGREGATE, {"hour": this_hour})
    assert out.state == "failed" and out.attempts_made == 1
    assert "not over" in (out.reason or "")
    assert await row_count(world) == 0
