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

import sys
import time
from collections.abc import Callable
from typing import Any

from fault_cases import Outcome, postgres_delivery, postgres_sweep, redis_broadcast
from fault_services import DOWN_SECONDS, services

from harness import report, say


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
