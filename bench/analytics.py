"""analytics: the cost of aggregating one hour (`analytics-aggregate`'s unit of work: the service's
aggregate_hour and its commit) on two PostgreSQL databases. The aggregated hour has the same 11,000
source rows in both; the small set has 100,000 post-history rows and 10,000 purchases in all (the
rest of them the day before and after the hour), the large set ten times as many (1,000,000 and
100,000, the rest spread over the year around the hour) and a year of aggregated rows.
Runs alternate between the two databases, so that load from elsewhere on the machine falls on both;
`ratio` = seconds_large / seconds_small (medians): close to 1 when the cost follows the hour's rows,
not the tables' size. The statements aggregate_hour runs are EXPLAINed on the large set; `full_scan`
is true if a plan reads a whole big table (or a whole index of one).

    python bench/analytics.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from harness import database, explain_work, report, say
from tgadmin.analytics import service
from tgadmin.db import create_engine, session_factory

# Source rows of the aggregated hour, per table (11,000 in all).
HOUR_ROWS = {
    "telegram_users": 1000,
    "purchases": 2000,
    "transactions": 2000,
    "post_history": 3000,
    "audit_log": 2000,
    "storefront_starts": 1000,
}
# Rows of each table in the small set, the hour's included; the large set has LARGE_FACTOR times as
# many. Transactions follow purchases (one each).
SMALL_ROWS = {
    "telegram_users": 5000,
    "purchases": 10_000,
    "transactions": 10_000,
    "post_history": 100_000,
    "audit_log": 10_000,
    "storefront_starts": 10_000,
}
LARGE_FACTOR = 10
ANALYTICS_HOURS = 365 * 24  # a year of aggregated hours...
ANALYTICS_ROWS_PER_HOUR = 40  # ...with about as many rows each as aggregate_hour writes
REPETITIONS = 31
BIG_TABLES = (
    "telegram_users",
    "purchases",
    "transactions",
    "post_history",
    "audit_log",
    "storefront_starts",
    "analytics_hourly",
)

# Where a batch's timestamps fall: $1 is the aggregated hour; `elsewhere` keeps clear of it by an
# hour on each side, half before and half after (within $3).
IN_HOUR = "$1::timestamptz + ((g * 7919) % 3600000) * interval '1 millisecond'"
ELSEWHERE = (
    "CASE WHEN g % 2 = 0 THEN $1::timestamptz - interval '1 hour' - random() * $3::interval"
    " ELSE $1::timestamptz + interval '2 hours' + random() * $3::interval END"
)

REFERENCE = [
    """INSERT INTO bots (telegram_id, username, token, webhook_secret, is_active)
       VALUES (4242, 'bench_analytics_bot', 'x', 'x', true)""",
    """INSERT INTO creators (name, username, tier, is_adult, is_active)
       SELECT 'Modelo ' || c, 'bench_modelo_' || c, 'gold', false, true FROM generate_series(1, 4) c""",
    """INSERT INTO products (creator_id, title, type, price_cents, currency, photo_count, video_count,
                             is_active, subscription_days)
       SELECT (SELECT min(id) FROM creators) + p % 4, 'Pack ' || p,
              (ARRAY['content', 'ppv', 'subscription'])[p % 3 + 1], 1990, 'BRL', 10, 0, true,
              CASE WHEN p % 3 = 2 THEN 30 END
       FROM generate_series(0, 11) p""",
    """INSERT INTO groups (bot_id, telegram_id, type, title, bot_status, bot_rights, is_active,
                           cooldown_seconds, rights_errors)
       SELECT (SELECT id FROM bots), -1000000000000 - n, 'supergroup', 'Grupo ' || n, 'administrator',
              '{}', true, 0, 0
       FROM generate_series(1, 50) n""",
]

# One batch per table: $2 is the number of rows, {ts} their timestamps. A buyer has one pending
# purchase of a product at most (uq_purchases_one_pending): each run of six purchases, one of them
# pending, has a buyer of its own among the users the batch just added. Ids and message ids are
# offset by what is already there, so batches never collide on unique keys.
BATCHES = {
    "telegram_users": """
        INSERT INTO telegram_users (telegram_id, first_name, blocked_bot, first_seen_at, last_seen_at)
        SELECT 10000000000 + coalesce((SELECT max(id) FROM telegram_users), 0) + g, 'Ana', false, t, t
        FROM generate_series(1, $2::int) g, LATERAL (SELECT {ts} AS t) x""",
    "purchases": """
        INSERT INTO purchases (user_id, product_id, status, amount_cents, currency, sent_messages,
                               delivered_steps, expiration_notified_7_days, expiration_notified_1_day,
                               source, access_expires_at, access_revoked_at, created_at, updated_at)
        SELECT (SELECT max(id) FROM telegram_users) - g / 6, (SELECT min(id) FROM products) + g % 12,
               s, 1990, 'BRL', '[]', '{}', false, false,
               CASE WHEN g % 3 = 0 THEN 'g' || (g % 50) END,
               CASE WHEN g % 3 = 2 AND s NOT IN ('pending', 'failed') THEN e END,
               CASE WHEN g % 3 = 2 AND s IN ('expired', 'refunded') THEN e END,
               t, t
        FROM generate_series(1, $2::int) g,
             LATERAL (SELECT {ts} AS t,
                             (ARRAY['pending', 'paid', 'completed', 'failed', 'expired', 'refunded'])
                                 [g % 6 + 1] AS s) x,
             -- 30 days of access; bought before the hour, it ends before the hour (so that the
             -- hour's churn and active subscriptions are the same in both sets).
             LATERAL (SELECT CASE WHEN t < $1::timestamptz
                                  THEN least(t + interval '30 days', $1::timestamptz - interval '1 minute')
                                  ELSE t + interval '30 days' END AS e) y""",
    # One charge per purchase of the batch just inserted: 60 % paid ten minutes later at most, one
    # in ten of those with another amount than asked, one in five in Stars.
    "transactions": """
        INSERT INTO transactions (purchase_id, method, amount_cents, currency, status, paid_at,
                                  paid_amount_cents, needs_refund, poll_count, refunded_at, created_at,
                                  updated_at)
        SELECT p.id, CASE WHEN p.id % 5 = 0 THEN 'stars' ELSE 'pix' END,
               CASE WHEN p.id % 5 = 0 THEN 50 ELSE 1990 END,
               CASE WHEN p.id % 5 = 0 THEN 'XTR' ELSE 'BRL' END,
               CASE WHEN p.status = 'refunded' THEN 'refunded' WHEN p.id % 10 < 6 THEN 'paid'
                    ELSE (ARRAY['pending', 'failed', 'expired'])[p.id % 3 + 1] END,
               CASE WHEN p.id % 10 < 6 OR p.status = 'refunded'
                    THEN p.created_at + (p.id % 600) * interval '1 second' END,
               CASE WHEN p.id % 10 = 0 THEN 2500 END,
               false, 0,
               CASE WHEN p.status = 'refunded' THEN p.created_at + (p.id % 1800) * interval '1 second' END,
               p.created_at, p.created_at
        FROM purchases p
        WHERE p.id > coalesce((SELECT max(purchase_id) FROM transactions), 0)""",
    "post_history": """
        INSERT INTO post_history (group_id, chat_id, message_id, kind, status, sent_at, deleted_at)
        SELECT (SELECT min(id) FROM groups) + g % 50, -1000000000001 - g % 50,
               coalesce((SELECT max(message_id) FROM post_history), 0) + g, 'text',
               (ARRAY['sent', 'sent', 'deleted', 'failed', 'undeletable'])[g % 5 + 1], t,
               CASE WHEN g % 5 = 2 THEN t + (g % 1200) * interval '1 second' END
        FROM generate_series(1, $2::int) g, LATERAL (SELECT {ts} AS t) x""",
    # Deep-link starts: four creators, one start in three without a source.
    "storefront_starts": """
        INSERT INTO storefront_starts (creator_id, source, started_at)
        SELECT (SELECT min(id) FROM creators) + g % 4, CASE WHEN g % 3 <> 0 THEN 'g' || (g % 50) END, t
        FROM generate_series(1, $2::int) g, LATERAL (SELECT {ts} AS t) x""",
    # One entry in ten is a group's (activation, reactivation or deactivation); the rest are the
    # payments' own audit entries, which the group query must step over.
    "audit_log": """
        INSERT INTO audit_log (actor_type, actor_label, action, entity_type, entity_id, before, after,
                               created_at)
        SELECT 'system', 'bench',
               CASE WHEN g % 10 <> 0 THEN 'transaction.paid'
                    WHEN g % 30 = 0 THEN 'group.deactivated' ELSE 'group.membership' END,
               CASE WHEN g % 10 = 0 THEN 'group' ELSE 'transaction' END, (g % 500)::text,
               CASE WHEN g % 20 = 0 THEN '{"is_active": false}'::jsonb END, '{}'::jsonb, t
        FROM generate_series(1, $2::int) g, LATERAL (SELECT {ts} AS t) x""",
}

ANALYTICS = """
    INSERT INTO analytics_hourly (metric, dimension, hour, value)
    SELECT (ARRAY['purchases_created', 'purchases_paid', 'revenue_cents', 'transactions', 'posts'])
               [d % 5 + 1],
           'bench=' || d, $1::timestamptz - interval '1 day' - k * interval '1 hour', k + d
    FROM generate_series(0, $2::int - 1) k, generate_series(1, $3::int) d"""


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def seed(
    conn: asyncpg.Connection, hour: datetime, ts: str, counts: dict[str, int], span: timedelta
) -> int:
    """One batch per source table (`counts[table]` rows each); returns the rows added."""
    added = 0
    for table, sql in BATCHES.items():
        count = counts[table]
        sql = sql.replace("{ts}", ts)
        params = [value for n, value in enumerate((hour, count, span), 1) if f"${n}" in sql]
        status = await conn.execute(sql, *params)
        added += int(status.rsplit(" ", 1)[1])
    return added


async def table_rows(conn: asyncpg.Connection) -> int:
    counts = [await conn.fetchval(f"SELECT count(*) FROM {table}") for table in BIG_TABLES]  # noqa: S608
    return int(sum(counts))


async def aggregate_once(engine: AsyncEngine, hour: datetime) -> tuple[float, int]:
    """Seconds of aggregate_hour + commit, and the rows it wrote."""
    async with session_factory(engine)() as session:
        started = time.perf_counter()
        values = await service.aggregate_hour(session, hour)
        await session.commit()
        return time.perf_counter() - started, len(values)


async def time_both(small: AsyncEngine, large: AsyncEngine, hour: datetime) -> tuple[float, float]:
    """Median seconds on each database over REPETITIONS alternating runs (after a warm-up on each)."""
    _, written_small = await aggregate_once(small, hour)
    _, written_large = await aggregate_once(large, hour)
    assert written_small == written_large, "the aggregated hour must be the same in both sets"
    times: dict[str, list[float]] = {"small": [], "large": []}
    for rep in range(REPETITIONS):
        order = [("small", small), ("large", large)]
        for name, engine in order if rep % 2 == 0 else order[::-1]:
            times[name].append((await aggregate_once(engine, hour))[0])
    for name, seconds in times.items():
        say(
            f"  {name}: {REPETITIONS} runs, median {statistics.median(seconds) * 1000:.1f} ms,"
            f" min {min(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"
            f" ({written_small} rows written each)"
        )
    return statistics.median(times["small"]), statistics.median(times["large"])


async def explain_statements(engine: AsyncEngine, hour: datetime) -> bool:
    """EXPLAIN every statement aggregate_hour runs (as it ran them); True if one scans a big table."""

    async def aggregate() -> None:
        async with session_factory(engine)() as session:
            await service.aggregate_hour(session, hour)
            await session.rollback()

    return await explain_work(engine, aggregate, BIG_TABLES)


async def build(db_url: str, hour: datetime, *, large: bool) -> tuple[int, int]:
    """One data set; returns (rows of the aggregated hour, rows of the big tables)."""
    started = time.monotonic()
    conn = await asyncpg.connect(pg_dsn(db_url))
    try:
        for statement in REFERENCE:
            await conn.execute(statement)
        in_hour = await seed(conn, hour, IN_HOUR, HOUR_ROWS, timedelta(days=1))
        factor = LARGE_FACTOR if large else 1
        elsewhere = {table: n * factor - HOUR_ROWS[table] for table, n in SMALL_ROWS.items()}
        await seed(conn, hour, ELSEWHERE, elsewhere, timedelta(days=365 if large else 1))
        if large:
            await conn.execute(ANALYTICS, hour, ANALYTICS_HOURS, ANALYTICS_ROWS_PER_HOUR)
        await conn.execute("VACUUM ANALYZE")
        rows = await table_rows(conn)
    finally:
        await conn.close()
    say(
        f"{'large' if large else 'small'} set: {rows} rows, {in_hour} of them in the hour"
        f" {hour:%Y-%m-%d %H:00}Z (seeded in {time.monotonic() - started:.1f} s)"
    )
    return in_hour, rows


async def run(small_url: str, large_url: str) -> None:
    hour = service.hour_start(datetime.now(UTC)) - timedelta(days=7)
    hour_rows, rows_small = await build(small_url, hour, large=False)
    say(
        f"large set: {LARGE_FACTOR} x the small set's rows, spread over the year around the hour,"
        " and a year of aggregates"
    )
    _, rows_large = await build(large_url, hour, large=True)
    small, large = create_engine(small_url), create_engine(large_url)
    try:
        seconds_small, seconds_large = await time_both(small, large, hour)
        say("plans on the large set:")
        full_scan = await explain_statements(large, hour)
    finally:
        await small.dispose()
        await large.dispose()
    ratio = seconds_large / seconds_small
    say(
        f"{seconds_small * 1000:.1f} ms on {rows_small} rows, {seconds_large * 1000:.1f} ms on"
        f" {rows_large}: ratio {ratio:.2f}"
    )
    report(
        bench="analytics",
        rows_small=rows_small,
        rows_large=rows_large,
        post_history_large=SMALL_ROWS["post_history"] * LARGE_FACTOR,
        purchases_large=SMALL_ROWS["purchases"] * LARGE_FACTOR,
        seconds_small=round(seconds_small, 4),
        seconds_large=round(seconds_large, 4),
        ratio=round(ratio, 3),
        hour_rows=hour_rows,
        full_scan=full_scan,
    )


def main() -> None:
    with database() as small_url, database() as large_url:
        if small_url == large_url:
            raise SystemExit(
                "analytics compares two databases of its own: unset DATABASE_URL (they are created"
                " through BENCH_PG_ADMIN_DSN, the test PostgreSQL by default)"
            )
        asyncio.run(run(small_url, large_url))


if __name__ == "__main__":
    main()
