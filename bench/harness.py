"""What every benchmark shares: its own PostgreSQL database, Redis prefix, a sandbox process with
Telegram's limits on, worker processes, and the last-line JSON report.

Benchmarks run from the repository root as `python bench/<name>.py` in the installed environment.
They read DATABASE_URL / REDIS_URL (defaulting to the test services) and talk only to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def report(**figures: Any) -> None:
    """The benchmark's last line: one JSON object."""
    print(json.dumps(figures), flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def database() -> Iterator[str]:
    """DATABASE_URL if given, else a PostgreSQL database of this run's own, migrated, dropped after."""
    from tgadmin.migrate import upgrade

    given = os.environ.get("DATABASE_URL")
    if given:
        upgrade(given)
        yield given
        return
    name = f"tgadmin_bench_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    host_part = PG_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+asyncpg://{host_part}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Processes:
    env: dict[str, str]
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path = field(default_factory=lambda: ROOT / "bench" / "out")

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "tgadmin", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def platform(db_url: str, **settings: str) -> Iterator[tuple[Processes, str]]:
    """A sandbox process (limits on) and the environment for tgadmin processes: (procs, sandbox url)."""
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    port = free_port()
    sandbox = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "TELEGRAM_API_BASE_URL": sandbox,
        "DATA_ENCRYPTION_KEY": os.environ.get(
            "DATA_ENCRYPTION_KEY", "8kbJ0JdPX8Qm1TnQd0a3H0p9HqkK3X2ZcJ6mM8Yj3gU="
        ),
        "SESSION_SECRET": "bench",
        "MAGIC_LINK_SECRET": "bench",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "REDIS_URL",
                "REDIS_PREFIX",
                "TELEGRAM_API_BASE_URL",
                "DATA_ENCRYPTION_KEY",
                "SESSION_SECRET",
                "MAGIC_LINK_SECRET",
            )
        }
    )
    procs = Processes(env)
    procs.start("sandbox", "sandbox", "--port", str(port))
    try:
        wait_http(f"{sandbox}/sandbox/clock", timeout=90)  # a loaded 2-core machine starts slowly
        yield procs, sandbox
    finally:
        procs.stop_all()
        asyncio.run(_drop_prefix(prefix))


async def _drop_prefix(prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    async for key in redis.scan_iter(match=f"{prefix}*", count=1000):
        await redis.delete(key)
    await redis.aclose()


class Sandbox:
    """The sandbox's control API (see tgadmin/sandbox)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def post(self, path: str, **body: Any) -> Any:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()


@dataclass
class World:
    """A bot registered in our database and admin of `chat_ids` (groups recorded as discovery would)."""

    bot_id: int  # our database id
    telegram_bot_id: int
    token: str
    chat_ids: list[int]


def build_world(sandbox: Sandbox, db_url: str, groups: int, *, cooldown_seconds: int = 0) -> World:
    created = sandbox.post("/sandbox/bots", username=f"bench_{uuid.uuid4().hex[:8]}_bot")
    chat_ids = []
    for index in range(groups):
        chat = sandbox.post("/sandbox/chats", type="supergroup", title=f"Bench group {index}")
        sandbox.post(f"/sandbox/chats/{chat['id']}/members", bot_id=created["id"], status="administrator")
        chat_ids.append(int(chat["id"]))
    bot_id = asyncio.run(_record(db_url, created["token"], chat_ids, cooldown_seconds))
    return World(bot_id, int(created["id"]), str(created["token"]), chat_ids)


async def _record(db_url: str, token: str, chat_ids: list[int], cooldown_seconds: int) -> int:
    from tgadmin.config import get_settings
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.group.service import ChatFacts, upsert_membership
    from tgadmin.models.enums import BotMemberStatus, ChatType
    from tgadmin.telegram.bots import register_from_token

    get_settings.cache_clear()
    settings = get_settings()
    engine = create_engine(db_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            bot = (await register_from_token(session, token, settings)).bot
            for chat_id in chat_ids:
                group = await upsert_membership(
                    session,
                    bot.id,
                    ChatFacts(chat_id, ChatType.SUPERGROUP, f"Bench {chat_id}"),
                    BotMemberStatus.ADMINISTRATOR,
                    {"can_delete_messages": True, "can_post_messages": True},
                )
                group.cooldown_seconds = cooldown_seconds
            return bot.id
    finally:
        await engine.dispose()


def enqueue(job: str, items: list[dict[str, Any]], **options: Any) -> list[str]:
    from tgadmin.config import get_settings
    from tgadmin.queue.client import Queues
    from tgadmin.queue.names import JobName

    async def add() -> list[str]:
        get_settings.cache_clear()
        queues = Queues(get_settings())
        try:
            return await queues.enqueue_many(JobName(job), items, **options)
        finally:
            await queues.close()

    return asyncio.run(add())


class CallLog:
    """The sandbox's record of one bot's Bot API calls, fetched incrementally (a full fetch while
    the benchmark runs would stall the sandbox and distort the very timings being measured)."""

    def __init__(self, sandbox: Sandbox, bot_id: int) -> None:
        self.sandbox, self.bot_id, self.seen, self.calls = sandbox, bot_id, 0, []  # type: ignore[var-annotated]

    def refresh(self) -> list[dict[str, Any]]:
        new = self.sandbox.get("/sandbox/calls", since=self.seen, bot_id=self.bot_id)
        if new:
            self.seen = new[-1]["seq"]
            self.calls.extend(new)
        return self.calls

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c for c in self.refresh() if c["method"] == method]

    def accepted(self, method: str) -> list[dict[str, Any]]:
        return [c for c in self.of(method) if c["ok"]]


def wait_for(predicate: Any, timeout: float, what: str, poll: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def max_in_window(times: list[float], window: float) -> int:
    """The largest number of events in any half-open window of `window` seconds."""
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def queue_counts() -> dict[str, int]:
    """Jobs per state on bot-tasks (the queue every benchmark job goes to)."""
    from tgadmin.config import get_settings
    from tgadmin.queue.client import Queues
    from tgadmin.queue.monitor import QueueMonitor
    from tgadmin.queue.names import QueueName

    async def read() -> dict[str, int]:
        queues = Queues(get_settings())
        try:
            return (await QueueMonitor(queues).counts())[QueueName.BOT_TASKS]
        finally:
            await queues.close()

    return asyncio.run(read())


def drained() -> bool:
    counts = queue_counts()
    return (
        sum(counts.get(state, 0) for state in ("waiting", "active", "delayed", "prioritized", "paused")) == 0
    )


@dataclass
class Broadcast:
    world: World
    workers: list[subprocess.Popen[bytes]]
    log: CallLog


def start_broadcast(
    procs: Processes, sandbox: Sandbox, db_url: str, *, workers: int, messages: int, groups: int, tag: str
) -> Broadcast:
    """`groups` groups with the bot as admin, `workers` worker processes, then `messages`
    send-message jobs spread round-robin over the groups, texts "{tag} {i}"."""
    from tgadmin.worker.processes import spawn_workers

    say(f"creating {groups} groups with the bot as admin")
    world = build_world(sandbox, db_url, groups)
    started = spawn_workers(workers, procs.env, log_dir=procs.logs)
    time.sleep(3)  # let the workers connect before the burst arrives
    say(f"enqueueing {messages} messages; {workers} worker process(es)")
    enqueue(
        "send-message",
        [
            {"chatId": world.chat_ids[i % groups], "text": f"{tag} {i}", "botId": world.bot_id}
            for i in range(messages)
        ],
    )
    return Broadcast(world, started, CallLog(sandbox, world.telegram_bot_id))


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def _reads_whole(node: dict[str, Any], tables: Collection[str]) -> str | None:
    """The table of `tables` (or its index) this plan node reads from end to end, if it does."""
    table = node.get("Relation Name")
    if table not in tables:
        return None
    if node["Node Type"] == "Seq Scan":
        return f"{table} (seq scan)"
    if "Index Name" in node and "Index Cond" not in node:  # an index read in full, filtered row by row
        return f"{table} (all of {node['Index Name']})"
    return None


async def explain_work(engine: Any, work: Callable[[], Awaitable[object]], tables: Collection[str]) -> bool:
    """Run `work`, then EXPLAIN (PostgreSQL) every statement it ran, as it ran them; print each
    distinct plan's use of indexes and return True if one reads a table of `tables` whole."""
    from sqlalchemy import event

    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        await work()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    full_scan, seen = False, set()
    async with engine.connect() as conn:
        for statement, parameters in captured:
            if statement.lstrip().upper().startswith("INSERT"):
                continue  # writes of the work's own rows: no table read
            raw = (await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)).scalar_one()
            nodes = list(_plan_nodes((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]))
            whole = sorted({where for node in nodes if (where := _reads_whole(node, tables))})
            indexes = sorted({node["Index Name"] for node in nodes if "Index Name" in node})
            full_scan = full_scan or bool(whole)
            used = f"WHOLE {', '.join(whole)}" if whole else f"indexes {', '.join(indexes)}"
            if used not in seen:
                seen.add(used)
                say(f"  {' '.join(statement.split())[:70]}...: {used}")
    say(f"  ({len(captured)} statements explained)")
    return full_scan


def wait_workers_ready(count: int, timeout: float = 120.0) -> None:
    """Until `count` worker processes listen on bot-tasks: a payment made before that would measure
    the workers' start-up (slow on a loaded machine), not the delivery path."""
    from tgadmin.config import get_settings
    from tgadmin.queue.client import Queues
    from tgadmin.queue.names import QueueName

    async def listening() -> int:
        get_settings.cache_clear()
        queues = Queues(get_settings())
        try:
            return int(await queues.queue(QueueName.BOT_TASKS).get_workers_count())
        finally:
            await queues.close()

    wait_for(lambda: asyncio.run(listening()) >= count, timeout, f"{count} worker(s) listening", poll=1)
