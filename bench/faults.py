"""faults: infrastructure restarted under load, outcomes counted from what the sandbox's chats show.

Runs on a PRIVATE redis-server and a PRIVATE PostgreSQL cluster (temporary directories, free
loopback ports) so that the shared services of the other test runs are never touched; both are
stopped (fast shutdown, connections cut) and started again mid-run, a few seconds apart:

  redis_broadcast    600 send-message jobs over 300 groups, 2 worker processes; Redis restarted
                     after 200 accepted sends. Redis runs with `appendonly yes, appendfsync always`,
                     as BullMQ requires of production Redis: without persistence a restart loses
                     the queue itself.
  postgres_sweep     the subscription sweep warning 120 subscribers (7 days before expiry);
                     PostgreSQL restarted after 30 warnings.
  postgres_delivery  40 paid purchases delivered (confirmation + an album of 3 documents each);
                     PostgreSQL restarted after 10 buyers have their album.

Each case: `lost` (expected message never shown), `duplicated` (shown more than once),
`resumed_seconds` (from the service answering again to the next message accepted by the sandbox;
target within 30 s).

    python bench/faults.py [redis_broadcast|postgres_sweep|postgres_delivery ...]   (default: all)
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import harness
from harness import Sandbox, free_port, report, say, wait_for

DOWN_SECONDS = 4.0  # how long a service stays down
RESUME_TARGET = 30.0


# --- private services ---------------------------------------------------------------------------


class PrivateRedis:
    """redis-server on a free port, AOF on with fsync at every write (BullMQ's requirement)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir), "--save", ""),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.answers, 20, "the private redis-server", poll=0.1)

    def answers(self) -> bool:
        done = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False)
        return done.stdout.strip() == b"PONG"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)


class PrivatePostgres:
    """A PostgreSQL cluster of its own in a temporary directory (initdb as the postgres user)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "pg"
        self.dir.mkdir()
        shutil.chown(root, "postgres")
        shutil.chown(self.dir, "postgres")
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.admin_dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres")

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)

    def _ctl(self, *args: str) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.dir), "-w", *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._ctl("-o", options, "-l", str(self.dir / "server.log"), "start")

    def stop(self) -> None:
        # fast: every connection is cut, as when the server or its machine goes away.
        self._ctl("-m", "fast", "stop")

    def running(self) -> bool:
        return (self.dir / "postmaster.pid").exists()


@contextlib.contextmanager
def services() -> Iterator[tuple[PrivateRedis, PrivatePostgres]]:
    root = Path(tempfile.mkdtemp(prefix="tgadmin-faults-"))
    redis, postgres = PrivateRedis(root), None
    try:
        postgres = PrivatePostgres(root)
        redis.start()
        postgres.start()
        say(f"private redis on {redis.port}, private PostgreSQL on {postgres.port} ({root})")
        harness.REDIS_URL, harness.PG_ADMIN_DSN = redis.url, postgres.admin_dsn
        yield redis, postgres
    finally:
        redis.stop()
        if postgres is not None and postgres.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


def restart(name: str, stop: Callable[[], None], start: Callable[[], None]) -> float:
    """Stop, stay down DOWN_SECONDS, start; returns the moment the service answers again."""
    stop()
    say(f"{name} stopped; down for {DOWN_SECONDS:.0f} s")
    time.sleep(DOWN_SECONDS)
    start()
    say(f"{name} back")
    return time.time()


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


def count(expected: Counter[str], shown: Counter[str]) -> tuple[int, int]:
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
    import hashlib

    from tests.factories import make_buyer, make_product, make_purchase
    from tgadmin.config import get_settings
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.models import MediaAsset, ProductMedia
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
                data = f"arquivo {position}".encode()
                key = f"products/{product.id}/{position}.txt"
                await storage.put(key, data, "text/plain")
                asset = MediaAsset(
                    storage_key=key,
                    content_type="text/plain",
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    crop=None,
                )
                session.add(asset)
                await session.flush()
                session.add(ProductMedia(product_id=product.id, asset_id=asset.id, position=position))
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


def main() -> None:
    started = time.monotonic()
    results: dict[str, Any] = {}
    chosen = sys.argv[1:] or ["redis_broadcast", "postgres_sweep", "postgres_delivery"]
    with services() as (redis, postgres):
        cases: dict[str, Callable[[], Outcome]] = {
            "redis_broadcast": lambda: redis_broadcast(redis),
            "postgres_sweep": lambda: postgres_sweep(postgres),
            "postgres_delivery": lambda: postgres_delivery(postgres),
        }
        for name in chosen:
            results[name] = cases[name]().figures()
    say(f"all cases in {time.monotonic() - started:.0f} s")
    report(bench="faults", down_seconds=DOWN_SECONDS, **results)


if __name__ == "__main__":
    main()
