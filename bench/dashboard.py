"""dashboard: the groups list and the queue monitor under 50 operators at once, on PostgreSQL.

The database holds 100,000 groups and 100,000 post-history rows; the bot-tasks queue holds 100,000
jobs (2,000 of them failed, the rest delayed, so no worker takes them). The dashboard runs as its own
`tgadmin dashboard --workers 2` process (WORKERS: two uvicorn worker processes, one per core of the
machine these figures come from; BENCH_DASHBOARD_WORKERS=1 for one; the report says how many);
50 logged-in clients, each with its own session, ask for pages over HTTP from this process:

  - closed loop: each client asks again as soon as it has its answer, for SECONDS per page — the
    most the process serves (`*_rps`) and the latency when it is saturated (`*_p99_saturated_ms`);
  - operators: each client asks, reads for THINK seconds, asks again (50 people refreshing a page
    every ~2 s) — the latency an operator sees (`*_p50_ms`, `*_p99_ms`; target p99 < 100 ms).

Pages: the groups list (`/groups`, first page, filtered to active groups with the bot as admin, and
a title search) and the queue monitor (`/queues`, counts of every queue and the failed jobs).

    python bench/dashboard.py
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import insert, text

from harness import REDIS_URL, database, free_port, platform, report, say, wait_http
from tgadmin.clock import utcnow
from tgadmin.config import get_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Bot, Group, Operator, PostHistory
from tgadmin.models.enums import BotMemberStatus, ChatType, OperatorRole, PostKind, PostStatus
from tgadmin.operator import service as operators
from tgadmin.operator.auth import SESSION_COOKIE
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName, QueueName

ROWS = 100_000
FAILED_JOBS = 2_000
CLIENTS = 50
WORKERS = int(os.environ.get("BENCH_DASHBOARD_WORKERS", "2"))
SECONDS = 15.0
THINK = 2.0
OPERATOR_SECONDS = 30.0
BATCH = 5_000
PAGES = {
    "groups": ["/groups", "/groups?active=yes&admin=yes", "/groups?q=Grupo+42"],
    "queues": ["/queues"],
}


def _group(bot_id: int, n: int) -> dict[str, Any]:
    admin = n % 10 != 0
    return {
        "bot_id": bot_id,
        "telegram_id": -1_000_000_000_000 - n,
        "type": ChatType.SUPERGROUP,
        "title": f"Grupo {n}",
        "member_count": 100 + n % 5000,
        "bot_status": BotMemberStatus.ADMINISTRATOR if admin else BotMemberStatus.MEMBER,
        "bot_rights": {"can_delete_messages": admin, "can_post_messages": admin},
        "is_active": n % 50 != 0,
        "cooldown_seconds": 0,
        "rights_errors": 0,
    }


async def seed_database(db_url: str) -> list[str]:
    """100,000 groups, 100,000 posts; one session cookie per client."""
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    now = utcnow()
    try:
        async with session_scope(sessions) as session:
            bot = Bot(telegram_id=7_000_000_001, username="bench_bot", token="1:bench", webhook_secret="s")
            session.add(bot)
            await session.flush()
            bot_id = bot.id
        for start in range(0, ROWS, BATCH):
            async with session_scope(sessions) as session:
                await session.execute(insert(Group), [_group(bot_id, n) for n in range(start, start + BATCH)])
        say(f"{ROWS:,} groups")
        async with sessions() as session:
            first = int(
                await session.scalar(Group.__table__.select().with_only_columns(Group.id).limit(1)) or 0
            )
        statuses = (PostStatus.SENT, PostStatus.DELETED, PostStatus.FAILED, PostStatus.UNDELETABLE)
        for start in range(0, ROWS, BATCH):
            rows = [
                {
                    "group_id": first + n % ROWS,
                    "chat_id": -1_000_000_000_000 - n % ROWS,
                    "message_id": n,
                    "kind": PostKind.TEXT,
                    "excerpt": f"mensagem {n}",
                    "status": statuses[n % 4],
                    "sent_at": now - timedelta(minutes=n),
                }
                for n in range(start, start + BATCH)
            ]
            async with session_scope(sessions) as session:
                await session.execute(insert(PostHistory), rows)
        say(f"{ROWS:,} posts")
        cookies = []
        async with session_scope(sessions) as session:
            for n in range(CLIENTS):
                operator = Operator(email=f"op{n}@bench.example", role=OperatorRole.OPERATOR, is_active=True)
                session.add(operator)
                await session.flush()
                link = await operators.issue_magic_link(session, operator)
                cookies.append((await operators.consume_magic_link(session, link.token)).token)
        # A database that grew to 100,000 groups has had its statistics taken by autovacuum long
        # since; one seeded seconds ago has none yet (autovacuum looks once a minute), and without
        # them PostgreSQL guesses ~50 active admin groups and sorts all 90,000 of them (85 ms) for
        # a page it would read from the primary key in 0.05 ms.
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        return cookies
    finally:
        await engine.dispose()


async def seed_queue() -> None:
    """100,000 bot-tasks jobs: 2,000 failed (by a worker that refuses them), the rest delayed."""
    from bullmq import UnrecoverableError, Worker

    get_settings.cache_clear()
    settings = get_settings()
    queues = Queues(settings)
    data = [{"chatId": -1_000_000_000_000 - n, "messageId": n} for n in range(FAILED_JOBS)]
    await queues.enqueue_many(JobName.DELETE_MESSAGE, data)

    async def refuse(job: Any, token: str) -> None:
        raise UnrecoverableError("bench: refused on purpose (message to delete not found)")

    worker = Worker(
        QueueName.BOT_TASKS.value,
        refuse,
        {"connection": REDIS_URL, "prefix": settings.redis_prefix, "concurrency": 50},
    )
    queue = queues.queue(QueueName.BOT_TASKS)
    deadline = time.monotonic() + 120
    failed = 0
    while failed < FAILED_JOBS and time.monotonic() < deadline:
        failed = int(await queue.getFailedCount())
        await asyncio.sleep(0.2)
    await worker.close()
    if failed < FAILED_JOBS:
        raise RuntimeError(f"only {failed} of {FAILED_JOBS} jobs failed within 2 minutes")
    for start in range(FAILED_JOBS, ROWS, BATCH):
        data = [{"chatId": -1_000_000_000_000 - n, "messageId": n} for n in range(start, start + BATCH)]
        await queues.enqueue_many(JobName.DELETE_MESSAGE, data, delay_ms=24 * 3600 * 1000)
    counts = await queue.getJobCounts("failed", "delayed")
    say(f"bot-tasks: {counts}")
    await queues.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def load(
    url: str, cookies: list[str], paths: list[str], seconds: float, think: float
) -> tuple[int, list[float]]:
    """CLIENTS clients asking for `paths` in turn for `seconds`; (answers, latencies in ms)."""
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    errors: list[str] = []

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30, trust_env=False) as http:
            http.cookies.set(SESSION_COOKIE, cookies[n])
            turn = n
            if think:
                await asyncio.sleep(random.uniform(0, think))  # operators do not click in step
            while time.monotonic() < stop:
                started = time.perf_counter()
                answer = await http.get(paths[turn % len(paths)])
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    errors.append(f"{paths[turn % len(paths)]}: {answer.status_code}")
                turn += 1
                if think:
                    await asyncio.sleep(think)

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    if errors:
        raise RuntimeError(f"{len(errors)} answers were not 200, e.g. {errors[:3]}")
    return len(latencies), latencies


async def measure(url: str, cookies: list[str], name: str) -> dict[str, float]:
    run: Callable[..., Awaitable[tuple[int, list[float]]]] = load
    await run(url, cookies, PAGES[name], 3.0, 0.0)  # warm up: connections, caches, the plan cache
    answers, saturated = await run(url, cookies, PAGES[name], SECONDS, 0.0)
    rps = answers / SECONDS
    say(f"{name}: closed loop {rps:.0f} answers/s, p99 {percentile(saturated, 0.99):.0f} ms")
    _answers, paced = await run(url, cookies, PAGES[name], OPERATOR_SECONDS, THINK)
    say(
        f"{name}: {CLIENTS} operators every ~{THINK:.0f} s: p50 {statistics.median(paced):.1f} ms, "
        f"p99 {percentile(paced, 0.99):.1f} ms over {len(paced)} answers"
    )
    return {
        f"{name}_rps": round(rps, 1),
        f"{name}_p50_ms": round(statistics.median(paced), 1),
        f"{name}_p99_ms": round(percentile(paced, 0.99), 1),
        f"{name}_p99_saturated_ms": round(percentile(saturated, 0.99), 1),
    }


def main() -> None:
    static_pix = {
        "PIX_PROVIDER": "static",
        "PIX_KEY": "loja@example.com",
        "PIX_MERCHANT_NAME": "Loja",
        "PIX_MERCHANT_CITY": "Recife",
    }
    with database() as db_url, platform(db_url, **static_pix) as (procs, _sandbox):
        cookies = asyncio.run(seed_database(db_url))
        asyncio.run(seed_queue())
        # This process's own full collections (~140,000 objects: tgadmin, SQLAlchemy, BullMQ imported
        # for the seeding) stopped its 50 clients' loop for 80-140 ms at a time, and every answer in
        # flight was timed that much later: the pause was the load generator's, not the dashboard's.
        gc.collect()
        gc.freeze()
        port = free_port()
        procs.start("dashboard", "dashboard", "--port", str(port), "--workers", str(WORKERS))
        url = f"http://127.0.0.1:{port}"
        # Each worker imports aiogram's ~7 s of CPU of models: minutes on a shared, loaded machine.
        wait_http(f"{url}/healthz", timeout=300)
        figures: dict[str, float] = {}
        for name in PAGES:
            figures.update(asyncio.run(measure(url, cookies, name)))
    report(bench="dashboard", rows=ROWS, clients=CLIENTS, dashboard_workers=WORKERS, **figures)


if __name__ == "__main__":
    main()
