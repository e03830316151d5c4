"""crash: 600 messages over 300 groups through 3 worker processes; one of them is killed with
SIGKILL mid-broadcast. BullMQ's stalled check hands its jobs to the survivors once their locks
lapse (up to about a minute). Counted from what the sandbox's chats show: messages never posted
(lost) and posted more than once (duplicated), targets 0 and 0; also PostHistory rows against
the messages posted, and jobs left failed (with their reasons).

    python bench/crash.py
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter

from harness import (
    Sandbox,
    database,
    drained,
    platform,
    queue_counts,
    report,
    say,
    start_broadcast,
    wait_for,
)
from tgadmin.worker.processes import stop_workers

MESSAGES = 600
GROUPS = 300
WORKERS = 3
KILL_AFTER = 200  # accepted sends before the kill


def posted_texts(sandbox: Sandbox, chat_ids: list[int]) -> Counter[str]:
    shown: Counter[str] = Counter()
    for chat in chat_ids:
        for message in sandbox.get(f"/sandbox/chats/{chat}/messages"):
            text = message.get("text") or ""
            if text.startswith("crash "):
                shown[text] += 1
    return shown


def history_rows(db_url: str) -> int:
    from sqlalchemy import func, select

    from tgadmin.db import create_engine, session_factory
    from tgadmin.models import PostHistory

    async def count() -> int:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return int(await session.scalar(select(func.count()).select_from(PostHistory)) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(count())


def failed_reasons() -> list[str]:
    from tgadmin.config import get_settings
    from tgadmin.queue.client import Queues
    from tgadmin.queue.monitor import QueueMonitor
    from tgadmin.queue.names import QueueName

    async def read() -> list[str]:
        queues = Queues(get_settings())
        try:
            failed = await QueueMonitor(queues).failed(QueueName.BOT_TASKS, limit=MESSAGES)
            return [job.failed_reason or "" for job in failed]
        finally:
            await queues.close()

    return asyncio.run(read())


def main() -> None:
    with database() as db_url, platform(db_url) as (procs, url):
        sandbox = Sandbox(url)
        run = start_broadcast(
            procs, sandbox, db_url, workers=WORKERS, messages=MESSAGES, groups=GROUPS, tag="crash"
        )
        workers, world, log = run.workers, run.world, run.log
        wait_for(lambda: len(log.accepted("sendMessage")) >= KILL_AFTER, 120, "the kill point", poll=0.2)
        victim = workers[0]
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        killed_at = time.time()
        accepted = len(log.accepted("sendMessage"))
        say(f"killed worker pid {victim.pid} with SIGKILL after {accepted} accepted sends")
        say(f"jobs per state right after the kill: {queue_counts()}")
        wait_for(drained, 300, "the queue to drain (stalled jobs recovered by the survivors)", poll=2)
        recovered_at = max(c["time"] for c in log.accepted("sendMessage"))
        failed = failed_reasons()
        stop_workers(workers[1:])
        shown = posted_texts(sandbox, world.chat_ids)
        rows = history_rows(db_url)
    lost = sum(1 for i in range(MESSAGES) if shown[f"crash {i}"] == 0)
    duplicated = sum(n - 1 for n in shown.values() if n > 1)
    posted = sum(shown.values())
    say(f"posted {posted} messages ({len(shown)} distinct); PostHistory rows {rows}")
    say(f"last send {recovered_at - killed_at:.1f} s after the kill; failed jobs {len(failed)}")
    for reason in Counter(failed).most_common(5):
        say(f"  failed: {reason[1]} x {reason[0][:160]}")
    report(
        bench="crash",
        workers=WORKERS,
        messages=MESSAGES,
        lost=lost,
        duplicated=duplicated,
        posted=posted,
        history_rows=rows,
        failed_jobs=len(failed),
        recovery_seconds=round(recovered_at - killed_at, 1),
    )


if __name__ == "__main__":
    main()
