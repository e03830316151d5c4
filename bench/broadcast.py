"""broadcast: 600 messages spread over 300 groups (2 each) through N worker processes, against the
sandbox with Telegram's limits on. Reports achieved messages/s over the bot's 30/s (target >= 0.95)
and how many 429s the sandbox answered (target 0).

    python bench/broadcast.py [--workers N]
"""

from __future__ import annotations

import argparse
import itertools

from harness import Sandbox, database, platform, report, say, start_broadcast, wait_for
from tgadmin.worker.processes import stop_workers

MESSAGES = 600
GROUPS = 300
BOT_LIMIT = 30


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    workers_n = parser.parse_args().workers
    with database() as db_url, platform(db_url) as (procs, url):
        sandbox = Sandbox(url)
        run = start_broadcast(
            procs, sandbox, db_url, workers=workers_n, messages=MESSAGES, groups=GROUPS, tag="broadcast"
        )
        log = run.log
        wait_for(lambda: len(log.accepted("sendMessage")) >= MESSAGES, 300, f"{MESSAGES} accepted", poll=2)
        calls = log.of("sendMessage")
        stop_workers(run.workers)
    ok_times = sorted(c["time"] for c in calls if c["ok"])
    seconds = ok_times[-1] - ok_times[0]
    rate = (len(ok_times) - 1) / seconds
    refused = sum(1 for c in calls if c.get("error_code") == 429)
    for call in calls:
        if call.get("error_code") == 429:
            at = call["time"]
            say(f"429 at +{at - ok_times[0]:.3f} s in chat {call['chat_id']}: {call['description']}")
            near = [round((t - at) * 1000) for t in ok_times if at - 1.0 <= t <= at]
            say(f"  accepted in the second before it ({len(near)}), ms before the 429: {near}")
    gaps = sorted(b - a for a, b in itertools.pairwise(ok_times))
    say(
        f"gaps between accepted sends: min {gaps[0] * 1000:.1f} ms,"
        f" median {gaps[len(gaps) // 2] * 1000:.1f} ms"
    )
    say(f"{len(ok_times)} accepted in {seconds:.2f} s = {rate:.2f} msg/s; {refused} answered 429")
    report(
        bench="broadcast",
        workers=workers_n,
        messages=len(ok_times),
        groups=GROUPS,
        seconds=round(seconds, 2),
        rate_ratio=round(rate / BOT_LIMIT, 3),
        http_429=refused,
    )


if __name__ == "__main__":
    main()
