"""campaign: one campaign to 500 groups, started by the `campaign-check` job in a worker process and
posted by the same `send-message` jobs as any post, against the sandbox with Telegram's limits on.
Reports achieved messages/s over the bot's 30/s (target >= 0.95), how many 429s the sandbox
answered (target 0), and that the campaign ended completed with every group counted.

    python bench/campaign.py [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools

from harness import (
    CallLog,
    Sandbox,
    build_world,
    database,
    enqueue,
    platform,
    report,
    say,
    wait_for,
    wait_workers_ready,
)
from tgadmin.worker.processes import spawn_workers, stop_workers

GROUPS = 500
BOT_LIMIT = 30


async def _create(db_url: str, chat_ids: list[int]) -> int:
    """The campaign as an operator makes it: to every group, due now, with a url button."""
    from sqlalchemy import select

    from tgadmin.audit.service import Actor
    from tgadmin.campaign import service
    from tgadmin.campaign.schemas import CampaignCreate
    from tgadmin.clock import utcnow
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.models import Group

    engine = create_engine(db_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            ids = list(
                (await session.execute(select(Group.id).where(Group.telegram_id.in_(chat_ids)))).scalars()
            )
            data = CampaignCreate.model_validate(
                {
                    "name": "bench",
                    "content": {
                        "text": "Promoção <b>hoje</b>",
                        "parse_mode": "HTML",
                        "buttons": [{"text": "Ver", "url": "https://example.com/oferta"}],
                    },
                    "group_ids": ids,
                    "scheduled_at": utcnow(),
                }
            )
            return (await service.create_campaign(session, Actor.system("bench"), data)).id
    finally:
        await engine.dispose()


async def _outcome(db_url: str, campaign_id: int) -> tuple[str, int, int, int]:
    from tgadmin.db import create_engine, session_factory
    from tgadmin.models import Campaign

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            found = await session.get_one(Campaign, campaign_id)
            return found.status.value, found.total, found.sent, found.failed
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    workers_n = parser.parse_args().workers
    with database() as db_url, platform(db_url) as (procs, url):
        sandbox = Sandbox(url)
        say(f"creating {GROUPS} groups with the bot as admin")
        world = build_world(sandbox, db_url, GROUPS)
        workers = spawn_workers(workers_n, procs.env, log_dir=procs.logs)
        wait_workers_ready(workers_n)
        campaign_id = asyncio.run(_create(db_url, world.chat_ids))
        say(f"campaign {campaign_id} to {GROUPS} groups scheduled now; asking the worker to check")
        enqueue("campaign-check", [{}])
        log = CallLog(sandbox, world.telegram_bot_id)
        last = [0]

        def progress() -> bool:
            accepted = len(log.accepted("sendMessage"))
            if accepted >= last[0] + 100:
                last[0] = accepted - accepted % 100
                say(f"  {accepted} of {GROUPS} posted")
            return accepted >= GROUPS

        wait_for(progress, 300, f"{GROUPS} accepted", poll=2)
        wait_for(
            lambda: asyncio.run(_outcome(db_url, campaign_id))[0] == "completed", 60, "campaign completed"
        )
        status, total, sent, failed = asyncio.run(_outcome(db_url, campaign_id))
        calls = log.of("sendMessage")
        stop_workers(workers)
    ok_times = sorted(c["time"] for c in calls if c["ok"])
    seconds = ok_times[-1] - ok_times[0]
    rate = (len(ok_times) - 1) / seconds
    refused = sum(1 for c in calls if c.get("error_code") == 429)
    for call in calls:
        if call.get("error_code") == 429:
            at = call["time"]
            near = [round((t - at) * 1000) for t in ok_times if at - 1.0 <= t <= at]
            say(f"429 at +{at - ok_times[0]:.3f} s in chat {call['chat_id']}: {call['description']}")
            say(f"  accepted in the second before it ({len(near)}), ms before the 429: {near}")
    gaps = sorted(b - a for a, b in itertools.pairwise(ok_times))
    say(
        f"gaps between accepted sends: min {gaps[0] * 1000:.1f} ms,"
        f" median {gaps[len(gaps) // 2] * 1000:.1f} ms"
    )
    say(f"{len(ok_times)} accepted in {seconds:.2f} s = {rate:.2f} msg/s; {refused} answered 429")
    say(f"campaign {campaign_id}: {status}, {sent} sent and {failed} failed of {total}")
    report(
        bench="campaign",
        workers=workers_n,
        groups=GROUPS,
        messages=len(ok_times),
        seconds=round(seconds, 2),
        rate_ratio=round(rate / BOT_LIMIT, 3),
        http_429=refused,
        status=status,
        sent=sent,
        failed=failed,
    )


if __name__ == "__main__":
    main()
