"""sweep: the cost of finding the subscription sweep's due purchases (7-day warnings, 1-day warnings,
expiries: the three keyset-paged queries of `subscription.repository.due`, pages of 50, as a sweep
reads them) on two PostgreSQL databases. Both hold the same due purchases; the small set adds 2,000
purchases elsewhere in time, the large one 200,000 more (expired ones over the past year, live ones
ending beyond the 7-day window, content packs with no expiry, refunded/failed/pending ones).
Runs alternate between the two databases; `ratio` = seconds_large / seconds_small (medians): close
to 1 when the cost follows the due rows, not the table. The due queries are EXPLAINed on the large
set; `full_scan` is true if a plan reads the whole purchases table (or the whole of one of its indexes).

Then one real sweep runs on each database, once (the first changes what is due), against the
sandbox with its limits off and the gateway's own limits raised, so that the figures are our
work per purchase (its units of work and its Bot API calls): `sweep_*` keys.

    python bench/sweep.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from harness import REDIS_URL, Sandbox, database, explain_work, platform, report, say
from tgadmin.config import Settings, load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.subscription import repository
from tgadmin.subscription.jobs import sweep
from tgadmin.subscription.service import SweepSummary, WarningKind, flag_of
from tgadmin.telegram.bots import register_from_token
from tgadmin.telegram.client import BotClients
from tgadmin.telegram.gateway import Gateway
from tgadmin.worker.events import DomainEvents

DUE_7D, DUE_1D, DUE_EXPIRY = 200, 100, 100
MESSAGES_PER_EXPIRY = 3
SMALL_ELSEWHERE = 2_000
LARGE_ELSEWHERE = 200_000
BACKGROUND_USERS = 1_000
BATCH = 50
REPETITIONS = 61

REFERENCE = [
    """INSERT INTO creators (name, username, tier, is_adult, is_active)
       VALUES ('Amanda Silva', 'bench_amanda', 'gold', false, true)""",
    """INSERT INTO products (creator_id, title, type, price_cents, currency, photo_count, video_count,
                             is_active, subscription_days)
       VALUES ((SELECT id FROM creators), 'Assinatura VIP', 'subscription', 7990, 'BRL', 30, 0, true, 30),
              ((SELECT id FROM creators), 'Pack Verão', 'content', 2990, 'BRL', 15, 0, true, NULL)""",
    """INSERT INTO telegram_users (telegram_id, first_name, blocked_bot, first_seen_at, last_seen_at)
       SELECT 20000000000 + g, 'Ana', false, now(), now() FROM generate_series(1, $1::int) g""",
]

# $1 now, $2 how many. Three in ten: content packs (no expiry); four: expired over the past year
# (both warnings sent); two: live subscriptions ending 8 days to a year ahead; one: refunded or
# failed (a buyer has one pending purchase of a product at most). None is due.
ELSEWHERE = """
    INSERT INTO purchases (user_id, product_id, status, amount_cents, currency, sent_messages,
                           delivered_steps, expiration_notified_7_days, expiration_notified_1_day,
                           access_expires_at, delivered_at, created_at, updated_at)
    SELECT (SELECT min(id) FROM telegram_users WHERE telegram_id > 20000000000) + g % $3::int,
           CASE WHEN g % 10 < 3 THEN (SELECT id FROM products WHERE type = 'content')
                ELSE (SELECT id FROM products WHERE type = 'subscription') END,
           CASE WHEN g % 10 < 3 THEN 'completed' WHEN g % 10 < 7 THEN 'expired'
                WHEN g % 10 < 9 THEN 'completed' ELSE (ARRAY['refunded', 'failed'])[g % 2 + 1] END,
           7990, 'BRL', '[]', '{}', g % 10 BETWEEN 3 AND 6, g % 10 BETWEEN 3 AND 6,
           CASE WHEN g % 10 BETWEEN 3 AND 6
                THEN $1::timestamptz - interval '1 day' - random() * interval '365 days'
                WHEN g % 10 BETWEEN 7 AND 8
                THEN $1::timestamptz + interval '8 days' + random() * interval '365 days' END,
           $1::timestamptz - interval '30 days', $1::timestamptz - interval '30 days', $1::timestamptz
    FROM generate_series(1, $2::int) g"""

DUE = """
    INSERT INTO purchases (user_id, product_id, bot_id, status, amount_cents, currency, sent_messages,
                           delivered_steps, expiration_notified_7_days, expiration_notified_1_day,
                           access_expires_at, delivered_at, created_at, updated_at)
    SELECT u.id, (SELECT id FROM products WHERE type = 'subscription'), $1::bigint, d.status, 7990, 'BRL',
           d.sent::jsonb, '{}', false, false, d.expires, d.delivered, d.delivered, d.delivered
    FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::timestamptz[])
         AS d(telegram_id, status, expires, sent, delivered)
    JOIN telegram_users u ON u.telegram_id = d.telegram_id"""


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def settings_for(db_url: str) -> Settings:
    # The sandbox's limits are off: raise ours too, so the sweep's figures are our own work.
    return load_settings(database_url=db_url, tg_bot_per_second=100_000, tg_private_per_second=100_000)


# --- the Telegram side: buyers who started the bot, and what delivery sent the expiring ones ---------


def sandbox_buyers(
    sandbox: Sandbox, token: str, bot_id: int
) -> tuple[list[int], list[tuple[int, list[int]]]]:
    """(buyers to warn, [(buyer, delivered message ids)] to expire), all having started the bot."""

    async def make() -> tuple[list[int], list[tuple[int, list[int]]]]:
        async with httpx.AsyncClient(base_url=sandbox.url, timeout=30) as http:
            sem = asyncio.Semaphore(16)

            async def buyer(n: int, deliver: int) -> tuple[int, list[int]]:
                async with sem:
                    user = (await http.post("/sandbox/users", json={"first_name": f"Ana {n}"})).json()["id"]
                    await http.post(
                        f"/sandbox/users/{user}/messages", json={"text": "/start", "bot_id": bot_id}
                    )
                    ids = []
                    for i in range(deliver):
                        sent = await http.post(
                            f"/bot{token}/sendMessage", json={"chat_id": user, "text": f"foto {i + 1}"}
                        )
                        ids.append(int(sent.json()["result"]["message_id"]))
                    return int(user), ids

            warned = await asyncio.gather(*(buyer(n, 0) for n in range(DUE_7D + DUE_1D)))
            expiring = await asyncio.gather(
                *(buyer(n, MESSAGES_PER_EXPIRY) for n in range(DUE_7D + DUE_1D, DUE_7D + DUE_1D + DUE_EXPIRY))
            )
            return [user for user, _ in warned], list(expiring)

    return asyncio.run(make())


# --- the data sets ---------------------------------------------------------------------------------


async def build(
    db_url: str,
    now: datetime,
    token: str,
    warned: list[int],
    expiring: list[tuple[int, list[int]]],
    *,
    elsewhere: int,
) -> int:
    """One data set: the same due purchases, `elsewhere` others; returns the purchases it holds."""
    started = time.monotonic()
    settings = settings_for(db_url)
    engine = create_engine(db_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            bot_id = (await register_from_token(session, token, settings)).bot.id
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(pg_dsn(db_url))
    try:
        await conn.execute(REFERENCE[0])
        await conn.execute(REFERENCE[1])
        await conn.execute(REFERENCE[2], BACKGROUND_USERS)
        everyone = warned + [user for user, _ in expiring]
        await conn.execute(
            """INSERT INTO telegram_users (telegram_id, first_name, language_code, blocked_bot,
                                           first_seen_at, last_seen_at)
               SELECT t, 'Ana', 'pt-br', false, now(), now() FROM unnest($1::bigint[]) t""",
            everyone,
        )
        rows = _due_rows(now, warned, expiring)
        await conn.execute(DUE, bot_id, *(list(column) for column in zip(*rows, strict=True)))
        for start in range(0, elsewhere, 50_000):
            await conn.execute(ELSEWHERE, now, min(50_000, elsewhere - start), BACKGROUND_USERS)
        await conn.execute("VACUUM ANALYZE")
        total = int(await conn.fetchval("SELECT count(*) FROM purchases"))
    finally:
        await conn.close()
    say(f"  {total} purchases, {len(rows)} of them due (seeded in {time.monotonic() - started:.1f} s)")
    return total


def _due_rows(
    now: datetime, warned: list[int], expiring: list[tuple[int, list[int]]]
) -> list[tuple[int, str, datetime, str, datetime]]:
    rows = []
    for n, user in enumerate(warned):
        ahead = timedelta(days=2, minutes=n) if n < DUE_7D else timedelta(hours=2, minutes=n - DUE_7D)
        rows.append((user, "completed" if n % 5 else "paid", now + ahead, "[]", now - timedelta(days=25)))
    for n, (user, ids) in enumerate(expiring):
        sent = json.dumps([{"chat_id": user, "message_ids": ids}])
        rows.append((user, "completed", now - timedelta(minutes=n + 1), sent, now - timedelta(hours=1)))
    return rows


# --- selecting the due rows --------------------------------------------------------------------------


def windows(now: datetime) -> list[tuple[datetime | None, datetime, Any]]:
    seven, one = WarningKind.SEVEN_DAYS, WarningKind.ONE_DAY
    return [
        (*seven.window(now), flag_of(seven)),
        (*one.window(now), flag_of(one)),
        (None, now, None),
    ]


async def select_due(engine: AsyncEngine, now: datetime) -> tuple[float, int]:
    """Seconds to read every due purchase as a sweep pages through them, and how many there are."""
    async with session_factory(engine)() as session:
        started = time.perf_counter()
        found = 0
        for after_, until, flag in windows(now):
            after = None
            while True:
                page = await repository.due(
                    session,
                    expires_after=after_,
                    expires_until=until,
                    unflagged=flag,
                    after=after,
                    limit=BATCH,
                )
                found += len(page)
                if len(page) < BATCH:
                    break
                after = page[-1]
        seconds = time.perf_counter() - started
        await session.rollback()
        return seconds, found


async def time_both(small: AsyncEngine, large: AsyncEngine, now: datetime) -> tuple[float, float, int]:
    _, due_small = await select_due(small, now)
    _, due_large = await select_due(large, now)
    assert due_small == due_large == DUE_7D + DUE_1D + DUE_EXPIRY, (due_small, due_large)
    times: dict[str, list[float]] = {"small": [], "large": []}
    for rep in range(REPETITIONS):
        order = [("small", small), ("large", large)]
        for name, engine in order if rep % 2 == 0 else order[::-1]:
            times[name].append((await select_due(engine, now))[0])
    for name, seconds in times.items():
        say(
            f"  {name}: {REPETITIONS} runs, median {statistics.median(seconds) * 1000:.1f} ms,"
            f" min {min(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms ({due_small} due rows)"
        )
    return statistics.median(times["small"]), statistics.median(times["large"]), due_small


async def explain_due(engine: AsyncEngine, now: datetime) -> bool:
    """EXPLAIN every statement a selection pass runs (as it ran them); True if one reads all purchases."""
    return await explain_work(engine, lambda: select_due(engine, now), ("purchases",))


# --- one real sweep on each ----------------------------------------------------------------------------


async def real_sweep(db_url: str, now: datetime) -> tuple[float, SweepSummary]:
    from tgadmin.redis import client as redis_client

    settings = settings_for(db_url)
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    redis = redis_client(REDIS_URL)
    clients = BotClients(settings, sessions)
    try:
        async with sessions() as session:
            started = time.perf_counter()
            summary = await sweep(
                session,
                Gateway.create(settings, redis, clients, DomainEvents()),
                session.commit,
                now=now,
                batch_size=BATCH,
            )
            return time.perf_counter() - started, summary
    finally:
        await clients.close()
        await redis.aclose()
        await engine.dispose()


def main() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with database() as small_url, database() as large_url, platform(small_url) as (_procs, url):
        if small_url == large_url:
            raise SystemExit(
                "sweep compares two databases of its own: unset DATABASE_URL (they are created"
                " through BENCH_PG_ADMIN_DSN, the test PostgreSQL by default)"
            )
        sandbox = Sandbox(url)
        sandbox.post("/sandbox/config", enforce_limits=False)
        bot = sandbox.post("/sandbox/bots", username="bench_vip_bot")
        say(
            f"sandbox: {DUE_7D + DUE_1D} buyers to warn,"
            f" {DUE_EXPIRY} to expire ({MESSAGES_PER_EXPIRY} messages each)"
        )
        warned, expiring = sandbox_buyers(sandbox, bot["token"], bot["id"])
        say(f"small set: the due purchases and {SMALL_ELSEWHERE} others")
        rows_small = asyncio.run(
            build(small_url, now, bot["token"], warned, expiring, elsewhere=SMALL_ELSEWHERE)
        )
        say(f"large set: the same due purchases and {SMALL_ELSEWHERE + LARGE_ELSEWHERE} others")
        rows_large = asyncio.run(
            build(large_url, now, bot["token"], warned, expiring, elsewhere=SMALL_ELSEWHERE + LARGE_ELSEWHERE)
        )
        result = asyncio.run(measure(small_url, large_url, now))
        say("one real sweep on each (sandbox limits off, the gateway's raised)")
        sweep_small, summary_small = asyncio.run(real_sweep(small_url, now))
        say(f"  small: {sweep_small:.2f} s: {summary_small.line()}")
        sweep_large, summary_large = asyncio.run(real_sweep(large_url, now))
        say(f"  large: {sweep_large:.2f} s: {summary_large.line()}")
    seconds_small, seconds_large, due, full_scan = result
    ratio = seconds_large / seconds_small
    say(
        f"due rows: {seconds_small * 1000:.1f} ms among {rows_small} purchases, {seconds_large * 1000:.1f} ms"
        f" among {rows_large}: ratio {ratio:.2f}; full scan: {full_scan}"
    )
    report(
        bench="sweep",
        rows_small=rows_small,
        rows_large=rows_large,
        seconds_small=round(seconds_small, 4),
        seconds_large=round(seconds_large, 4),
        ratio=round(ratio, 3),
        full_scan=full_scan,
        due_rows=due,
        sweep_seconds_small=round(sweep_small, 2),
        sweep_seconds_large=round(sweep_large, 2),
        sweep_ratio=round(sweep_large / sweep_small, 3),
        sweep_warned=summary_large.warned_7d + summary_large.warned_1d,
        sweep_expired=summary_large.expired,
        sweep_failures=summary_small.failures + summary_large.failures,
    )


async def measure(small_url: str, large_url: str, now: datetime) -> tuple[float, float, int, bool]:
    small, large = create_engine(small_url), create_engine(large_url)
    try:
        say("selecting the due rows, alternating between the sets:")
        seconds_small, seconds_large, due = await time_both(small, large, now)
        say("plans on the large set:")
        full_scan = await explain_due(large, now)
    finally:
        await small.dispose()
        await large.dispose()
    return seconds_small, seconds_large, due, full_scan


if __name__ == "__main__":
    main()
