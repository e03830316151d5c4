"""bulk_delete: 1,000 messages of one group deleted by one `delete-messages-bulk` job (deleteMessages
in batches of 100), against the seed's approach measured in the same run: one deleteMessage every
50 ms for another 1,000 messages. Reports Bot API calls used (target <= 12) and both times."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx

from harness import CallLog, Sandbox, build_world, database, drained, enqueue, platform, report, say, wait_for
from tgadmin.worker.processes import spawn_workers, stop_workers

MESSAGES = 1000


def post_messages(url: str, token: str, chat: int, count: int, tag: str) -> list[int]:
    """Fill the group fast (limits are switched off for the set-up only)."""

    async def send_all() -> list[int]:
        async with httpx.AsyncClient(base_url=f"{url}/bot{token}", timeout=30) as http:
            sem = asyncio.Semaphore(32)

            async def one(i: int) -> int:
                async with sem:
                    body = (
                        await http.post("/sendMessage", json={"chat_id": chat, "text": f"{tag} {i}"})
                    ).json()
                    return int(body["result"]["message_id"])

            return list(await asyncio.gather(*(one(i) for i in range(count))))

    return asyncio.run(send_all())


async def record_history(db_url: str, bot_id: int, chat: int, message_ids: list[int]) -> int:
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.group.service import find
    from tgadmin.models.enums import PostKind
    from tgadmin.post.service import record_sent

    engine = create_engine(db_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            group = await find(session, bot_id, chat)
            assert group is not None
            for message_id in message_ids:
                await record_sent(
                    session,
                    group,
                    chat_id=chat,
                    message_id=message_id,
                    kind=PostKind.TEXT,
                    text="bench",
                    job_id=None,
                )
            return group.id
    finally:
        await engine.dispose()


def seed_approach(url: str, token: str, chat: int, message_ids: list[int]) -> float:
    """The replaced system: one deleteMessage, then wait 50 ms, for each message."""
    started = time.monotonic()
    with httpx.Client(base_url=f"{url}/bot{token}", timeout=30) as http:
        for message_id in message_ids:
            http.post("/deleteMessage", json={"chat_id": chat, "message_id": message_id})
            time.sleep(0.05)
    return time.monotonic() - started


def main() -> None:
    with database() as db_url, platform(db_url) as (procs, url):
        sandbox = Sandbox(url)
        world = build_world(sandbox, db_url, 1)
        chat = world.chat_ids[0]
        sandbox.post("/sandbox/config", enforce_limits=False)
        say(f"posting {2 * MESSAGES} messages to group {chat} (limits off for the set-up)")
        ours = post_messages(url, world.token, chat, MESSAGES, "ours")
        theirs = post_messages(url, world.token, chat, MESSAGES, "seed")
        group_db_id = asyncio.run(record_history(db_url, world.bot_id, chat, ours))
        sandbox.post("/sandbox/config", enforce_limits=True)
        log = CallLog(sandbox, world.telegram_bot_id)
        log.refresh()
        before = len(log.calls)
        say("seed approach: one deleteMessage every 50 ms")
        seed_seconds = seed_approach(url, world.token, chat, theirs)
        log.refresh()
        seed_calls = len(log.calls) - before
        workers = spawn_workers(1, procs.env, log_dir=procs.logs)
        time.sleep(8)  # the worker is up and waiting for jobs before the clock starts
        before = len(log.calls)
        say(f"ours: one delete-messages-bulk job for {MESSAGES} messages")
        started = time.time()  # the sandbox stamps calls with the same wall clock
        enqueue(
            "delete-messages-bulk",
            [{"chatId": chat, "messageIds": ours, "groupDbId": group_db_id, "botId": world.bot_id}],
        )

        def remaining() -> int:
            shown = sandbox.get(f"/sandbox/chats/{chat}/messages")
            return sum(1 for m in shown if (m.get("text") or "").startswith("ours") and not m.get("deleted"))

        wait_for(lambda: not remaining() and drained(), 120, "all our messages deleted", poll=0.25)
        log.refresh()
        # Every call the bot made for the job counts, not only the deletes.
        ours_calls = log.calls[before:]
        seconds = max(c["time"] for c in ours_calls) - started
        methods = Counter(c["method"] for c in ours_calls)
        stop_workers(workers)
    say(f"ours: {dict(methods)}")
    say(f"ours: {len(ours_calls)} API calls, {seconds:.2f} s; seed: {seed_calls} calls, {seed_seconds:.1f} s")
    report(
        bench="bulk_delete",
        messages=MESSAGES,
        api_calls=len(ours_calls),
        seconds=round(seconds, 2),
        seed_seconds=round(seed_seconds, 2),
        seed_api_calls=seed_calls,
        speedup=round(seed_seconds / seconds, 1),
    )


if __name__ == "__main__":
    main()
