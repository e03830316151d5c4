"""per_group: 60 messages to one group with a 0 s cooldown, through a worker, against the sandbox
with Telegram's limits on. Reports the most the sandbox accepted in any 60 s window (must be <= 20)
and the time taken over the theoretical minimum: the sliding window allows 20 now, 20 after 60 s and
20 after 120 s, so 120 s. Our GCRA deliberately spaces messages evenly (burst 1, 3 s apart, +3 %
margin), so it cannot go below 59 x 3 s = 177 s; `time_ratio_even` is the time over that."""

from __future__ import annotations

import time

from harness import (
    CallLog,
    Sandbox,
    build_world,
    database,
    enqueue,
    max_in_window,
    platform,
    report,
    say,
    wait_for,
)
from tgadmin.worker.processes import spawn_workers, stop_workers

MESSAGES = 60
PER_MINUTE = 20


def main() -> None:
    with database() as db_url, platform(db_url) as (procs, url):
        sandbox = Sandbox(url)
        world = build_world(sandbox, db_url, 1)
        chat = world.chat_ids[0]
        say(f"enqueueing {MESSAGES} messages to group {chat}")
        enqueue(
            "send-message",
            [{"chatId": chat, "text": f"per-group {i}", "botId": world.bot_id} for i in range(MESSAGES)],
        )
        workers = spawn_workers(1, procs.env, log_dir=procs.logs)
        started = time.monotonic()
        log = CallLog(sandbox, world.telegram_bot_id)
        wait_for(lambda: len(log.accepted("sendMessage")) >= MESSAGES, 400, "60 messages accepted", poll=2)
        calls = log.of("sendMessage")
        stop_workers(workers)
    ok_times = [c["time"] for c in calls if c["ok"]]
    elapsed = max(ok_times) - min(ok_times)
    minimum = (
        (MESSAGES // PER_MINUTE - 1) * 60 if MESSAGES % PER_MINUTE == 0 else (MESSAGES // PER_MINUTE) * 60
    )
    even = (MESSAGES - 1) * 60 / PER_MINUTE
    say(
        f"{len(ok_times)} accepted over {elapsed:.1f} s (theoretical minimum {minimum} s), "
        f"{sum(1 for c in calls if not c['ok'])} refused, wall {time.monotonic() - started:.0f} s"
    )
    report(
        bench="per_group",
        messages=len(ok_times),
        max_in_any_60s=max_in_window(ok_times, 60.0),
        time_ratio=round(elapsed / minimum, 3),
        time_ratio_even=round(elapsed / even, 3),
        http_429=sum(1 for c in calls if c.get("error_code") == 429),
    )


if __name__ == "__main__":
    main()
