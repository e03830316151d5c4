"""The faults bench's cases: each restarts a service under load and counts what the chats show.

`redis_broadcast`, `postgres_sweep`, `postgres_delivery` (see faults.py for what each does) return
an `Outcome`: messages lost, messages duplicated, seconds until sends resumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from fault_services import PrivatePostgres, PrivateRedis, restart

import harness
from harness import Sandbox, say, wait_for

K = TypeVar("K", bound=Hashable)


@contextlib.contextmanager
def case_platform(**settings: str) -> Iterator[tuple[harness.Processes, Sandbox, str]]:
    """A database of the case's own on the private cluster, a sandbox, the environment."""
    os.environ.pop("DATABASE_URL", None)  # the previous case's platform exported its own
    with harness.database() as db_url, harness.platform(db_url, **settings) as (procs, url):
        yield procs, Sandbox(url), db_url


@dataclass
class Outcome:
    lost: int
    duplicated: int
    resumed_seconds: float | None
    extra: dict[str, Any]

    def figures(self) -> dict[str, Any]:
        return {
            "lost": self.lost,
            "duplicated": self.duplicated,
            "resumed_seconds": self.resumed_seconds,
            **self.extra,
        }


def reached(log: harness.CallLog, method: str, target: int) -> Callable[[], bool]:
    """A wait_for predicate that also prints progress every 10 s."""
    last = [0.0]

    def check() -> bool:
        done = len(log.accepted(method))
        if time.monotonic() - last[0] > 10:
            last[0] = time.monotonic()
            say(f"  {done} {method} accepted (waiting for {target})")
        return done >= target

    return check


def resumed_after(log: harness.CallLog, methods: set[str], back_at: float) -> float | None:
    after = [c["time"] for c in log.refresh() if c["ok"] and c["method"] in methods and c["time"] >= back_at]
    return round(min(after) - back_at, 1) if after else None


def count(expected: Counter[K], shown: Counter[K]) -> tuple[int, int]:
    """(lost, duplicated): what was expected and not shown, what was shown more often than expected."""
    lost = sum(max(0, n - shown[key]) for key, n in expected.items())
    duplicated = sum(max(0, n - expected[key]) for key, n in shown.items())
    return lost, duplicated


# --- Redis restarted mid-broadcast -------------------------------------------------------------------

BROADCAST_MESSAGES, BROADCAST_GROUPS, BROADCAST_RESTART_AFTER = 600, 300, 200


def redis_broadcast(redis: PrivateRedis) -> Outcome:
    say("== redis_broadcast: Redis restarted in the middle of a 600-message broadcast")
    with case_platform() as (procs, sandbox, db_url):
        run = harness.start_broadcast(
            procs,
            sandbox,
            db_url,
            workers=2,
            messages=BROADCAST_MESSAGES,
            groups=BROADCAST_GROUPS,
            tag="fault",
        )
        procs.running.extend(run.workers)  # stopped with the platform, even on failure
        log = run.log
        wait_for(reached(log, "sendMessage", BROADCAST_RESTART_AFTER), 300, "the restart point", 0.2)
        back_at = restart("redis", redis.stop, redis.start)
        wait_for(harness.drained, 300, "the queue to drain after the restart", poll=2)
        with contextlib.suppress(RuntimeError):  # a lost message is counted below, not a crash
            wait_for(reached(log, "sendMessage", BROADCAST_MESSAGES), 30, "every send", poll=1)
        failed = failed_reasons()
        resumed = resumed_after(log, {"sendMessage"}, back_at)
        from tgadmin.worker.processes import stop_workers

        stop_workers(run.workers)
        shown: Counter[str] = Counter()
        for chat in run.world.chat_ids:
            for message in sandbox.get(f"/sandbox/chats/{chat}/messages"):
                if (text := message.get("text") or "").startswith("fault "):
                    shown[text] += 1
    expected = Counter(f"fault {i}" for i in range(BROADCAST_MESSAGES))
    lost, duplicated = count(expected, shown)
    say(
        f"redis_broadcast: posted {sum(shown.values())}, lost {lost}, duplicated {duplicated},"
        f" resumed {resumed} s"
    )
    for reason, times in Counter(failed).most_common(5):
        say(f"  failed job: {times} x {reason[:200]}")
    extra = {"messages": BROADCAST_MESSAGES, "posted": sum(shown.values()), "failed_jobs": len(failed)}
    return Outcome(lost, duplicated, resumed, extra)


def failed_reasons() -> list[str]:
    from tgadmin.config import get_settings
    from tgadmin.queue.client import Queues
    from tgadmin.queue.monitor import QueueMonitor
    from tgadmin.queue.names import QueueName

    async def read() -> list[str]:
        get_settings.cache_clear()
        queues = Queues(get_settings())
        try:
            failed = await QueueMonitor(queues).failed(QueueName.BOT_TASKS, limit=100)
            return [job.failed_reason or "" for job in failed]
        finally:
            await queues.close()

    return asyncio.run(read())


# --- PostgreSQL restarted mid-sweep ------------------------------------------------------------------

SWEEP_BUYERS, SWEEP_RESTART_AFTER = 120, 30


async def _subscribers(db_url: str, sandbox: Sandbox, token: str, buyers: int) -> list[int]:
    """`buyers` subscribers who started the bot, each 5 days from expiry (a 7-day warning due)."""
    from tests.factories import make_buyer, make_product, make_purchase
    from tgadmin.clock import utcnow
    from tgadmin.config import get_settings
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.models.enums import ProductType, PurchaseStatus
    from tgadmin.telegram.bots import register_from_token

    get_settings.cache_clear()
    engine = create_engine(db_url)
    ids = []
    try:
        async with session_scope(session_factory(engine)) as session:
            bot = (await register_from_token(session, token, get_settings())).bot
            product = await make_product(session, kind=ProductType.SUBSCRIPTION, title="VIP")
            for n in range(buyers):
                telegram_id = sandbox.post("/sandbox/users", first_name=f"Assinante {n}")["id"]
                sandbox.post(f"/sandbox/users/{telegram_id}/messages", text="/start")
                buyer = await make_buyer(session, telegram_id)
                await make_purchase(
                    session,
                    product=product,
                    buyer=buyer,
                    status=PurchaseStatus.COMPLETED,
                    bot_id=bot.id,
                    delivered_at=utcnow(),
                    access_expires_at=utcnow() + timedelta(days=5),
                )
                ids.append(int(telegram_id))
    finally:
        await engine.dispose()
    return ids


def _bot_messages(sandbox: Sandbox, chat_id: int, telegram_bot_id: int) -> list[dict[str, Any]]:
    return [
        m
        for m in sandbox.get(f"/sandbox/chats/{chat_id}/messages", bot_id=telegram_bot_id)
        if (m.get("sender") or {}).get("id") == telegram_bot_id and not m.get("deleted")
    ]


def postgres_sweep(postgres: PrivatePostgres) -> Outcome:
    say(
        f"== postgres_sweep: PostgreSQL restarted in the middle of a sweep warning {SWEEP_BUYERS} subscribers"
    )
    from tgadmin.worker.processes import spawn_workers, stop_workers

    with case_platform() as (procs, sandbox, db_url):
        created = sandbox.post("/sandbox/bots", username="faults_sweep_bot")
        bot_tg = int(created["id"])
        buyers = asyncio.run(_subscribers(db_url, sandbox, created["token"], SWEEP_BUYERS))
        log = harness.CallLog(sandbox, bot_tg)
        say(f"{len(buyers)} subscribers with a 7-day warning due; starting 1 worker (it sweeps every minute)")
        workers = spawn_workers(1, procs.env, log_dir=procs.logs)
        procs.running.extend(workers)
        wait_for(reached(log, "sendMessage", SWEEP_RESTART_AFTER), 300, "the restart point", 0.2)
        back_at = restart("postgres", postgres.stop, postgres.start)
        wait_for(reached(log, "sendMessage", SWEEP_BUYERS), 200, "every warning after the restart", 1)
        time.sleep(3)  # anything that would come twice has its chance
        resumed = resumed_after(log, {"sendMessage"}, back_at)
        stop_workers(workers)
        shown = Counter({b: len(_bot_messages(sandbox, b, bot_tg)) for b in buyers})
    lost, duplicated = count(Counter(dict.fromkeys(buyers, 1)), shown)
    say(
        f"postgres_sweep: warned {sum(shown.values())}, lost {lost}, duplicated {duplicated},"
        f" resumed {resumed} s"
    )
    return Outcome(lost, duplicated, resumed, {"subscribers": SWEEP_BUYERS, "warnings": sum(shown.values())})


# --- PostgreSQL restarted mid-delivery ---------------------------------------------------------------

DELIVERIES, DOCUMENTS, DELIVERY_RESTART_AFTER = 40, 3, 10


async def _paid_purchases(db_url: str, sandbox: Sandbox, token: str, media: Path) -> dict[int, int]:
    """DELIVERIES paid purchases of one pack of DOCUMENTS files; {purchase id: buyer telegram id}."""

    from tests.factories import add_product_file, make_buyer, make_product, make_purchase
    from tgadmin.config import get_settings
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.models.enums import PurchaseStatus
    from tgadmin.storage import LocalStorage
    from tgadmin.telegram.bots import register_from_token

    get_settings.cache_clear()
    engine = create_engine(db_url)
    storage = LocalStorage(media)
    purchases = {}
    try:
        async with session_scope(session_factory(engine)) as session:
            bot = (await register_from_token(session, token, get_settings())).bot
            product = await make_product(session, title="Pack Verão")
            for position in range(DOCUMENTS):
                await add_product_file(
                    session, storage, product, position, f"arquivo {position}".encode(), "text/plain"
                )
            for n in range(DELIVERIES):
                telegram_id = sandbox.post("/sandbox/users", first_name=f"Comprador {n}")["id"]
                sandbox.post(f"/sandbox/users/{telegram_id}/messages", text="/start")
                buyer = await make_buyer(session, telegram_id)
                purchase = await make_purchase(
                    session, product=product, buyer=buyer, status=PurchaseStatus.PAID, bot_id=bot.id
                )
                purchases[purchase.id] = int(telegram_id)
    finally:
        await engine.dispose()
    return purchases


def postgres_delivery(postgres: PrivatePostgres) -> Outcome:
    say(f"== postgres_delivery: PostgreSQL restarted in the middle of {DELIVERIES} deliveries")
    from tgadmin.worker.processes import spawn_workers, stop_workers

    media = Path(tempfile.mkdtemp(prefix="tgadmin-faults-media-"))
    try:
        with case_platform(MEDIA_DIR=str(media)) as (procs, sandbox, db_url):
            created = sandbox.post("/sandbox/bots", username="faults_shop_bot")
            bot_tg = int(created["id"])
            purchases = asyncio.run(_paid_purchases(db_url, sandbox, created["token"], media))
            log = harness.CallLog(sandbox, bot_tg)
            workers = spawn_workers(2, procs.env, log_dir=procs.logs)
            procs.running.extend(workers)
            time.sleep(3)
            harness.enqueue("deliver-purchase", [{"purchaseId": pid} for pid in purchases])
            say(f"{DELIVERIES} deliveries enqueued; 2 worker processes")
            wait_for(reached(log, "sendMediaGroup", DELIVERY_RESTART_AFTER), 300, "the restart point", 0.2)
            back_at = restart("postgres", postgres.stop, postgres.start)
            wait_for(harness.drained, 240, "the deliveries to finish after the restart", poll=2)
            time.sleep(2)
            resumed = resumed_after(log, {"sendMessage", "sendMediaGroup"}, back_at)
            stop_workers(workers)
            expected: Counter[str] = Counter()
            shown: Counter[str] = Counter()
            for buyer in purchases.values():
                expected[f"{buyer}:text"] = 1
                expected[f"{buyer}:document"] = DOCUMENTS
                for message in _bot_messages(sandbox, buyer, bot_tg):
                    if (message.get("media") or {}).get("kind") == "document":
                        shown[f"{buyer}:document"] += 1
                    elif message.get("text"):
                        shown[f"{buyer}:text"] += 1
            completed = asyncio.run(_completed(db_url, list(purchases)))
    finally:
        shutil.rmtree(media, ignore_errors=True)
    lost, duplicated = count(expected, shown)
    say(
        f"postgres_delivery: {sum(shown.values())} messages shown of {sum(expected.values())},"
        f" lost {lost}, duplicated {duplicated}, {completed} completed, resumed {resumed} s"
    )
    return Outcome(lost, duplicated, resumed, {"purchases": DELIVERIES, "completed": completed})


async def _completed(db_url: str, purchase_ids: list[int]) -> int:
    from sqlalchemy import func, select

    from tgadmin.db import create_engine
    from tgadmin.models import Purchase
    from tgadmin.models.enums import PurchaseStatus

    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            query = select(func.count()).where(
                Purchase.id.in_(purchase_ids), Purchase.status == PurchaseStatus.COMPLETED
            )
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()
