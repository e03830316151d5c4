"""`tgadmin subscriptions sweep [--now ISO]` as an operator runs it (the real CLI in a subprocess),
and the `subscription-sweep` job as the real worker runs it from its queue and schedule."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from tests.fixtures.redis import REDIS_URL
from tests.subscription.conftest import Subs
from tests.worker.harness import World
from tgadmin.clock import utcnow
from tgadmin.models.enums import PurchaseStatus
from tgadmin.queue.names import JobName, QueueName


def tgadmin(subs: Subs, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": subs.settings.database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": subs.settings.redis_prefix,
        "TELEGRAM_API_BASE_URL": subs.sandbox.url,
    }
    return subprocess.run(
        [sys.executable, "-m", "tgadmin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


async def test_the_cli_sweeps_once_at_the_given_time_and_prints_one_line(subs: Subs) -> None:
    warned, ending = await subs.buyer(), await subs.buyer()
    await subs.subscription(warned, expires_in=timedelta(days=30))
    ids = await subs.deliver(ending.telegram_id, 2)
    ending_id = await subs.subscription(
        ending,
        expires_in=timedelta(days=25),
        sent_messages=[{"chat_id": ending.telegram_id, "message_ids": ids}],
    )
    now = (utcnow() + timedelta(days=26)).replace(microsecond=0)

    result = tgadmin(subs, "subscriptions", "sweep", "--now", now.isoformat())

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        f"subscription sweep at {now.isoformat()}: warned 7d 1, warned 1d 0, expired 1, failures 0"
    ]
    assert len(await subs.shown(warned.telegram_id)) == 1
    # The delivered photos are gone; what is left is the notice that the subscription ended.
    (notice,) = await subs.shown(ending.telegram_id)
    assert notice.startswith("⌛ Sua assinatura “Assinatura VIP” terminou")
    assert (await subs.purchase(ending_id)).status == PurchaseStatus.EXPIRED
    (row,) = await subs.audit(ending_id)
    assert row.created_at == now  # the whole run saw the clock `--now` set


async def test_the_cli_refuses_a_malformed_now_with_one_line(subs: Subs) -> None:
    buyer = await subs.buyer()
    await subs.subscription(buyer, expires_in=timedelta(days=3))
    result = tgadmin(subs, "subscriptions", "sweep", "--now", "amanhã às 9")
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: --now: 'amanhã às 9' is not an ISO 8601 timestamp (e.g. 2026-12-01T09:00:00Z)"
    ]
    assert await subs.shown(buyer.telegram_id) == []


async def test_the_worker_schedules_the_sweep_and_runs_it_from_the_queue(world: World) -> None:
    assert world.worker.ctx is not None
    subs = Subs(
        world.settings, world.sessions, world.sandbox, world.tg, world.bot_id, world.worker.ctx.gateway
    )
    schedulers = await world.queues.queue(QueueName.SUBSCRIPTIONS).getJobSchedulers()
    assert [(s["key"], s["every"]) for s in schedulers] == [("subscription-sweep", 60_000)]
    buyer = await subs.buyer()
    purchase_id = await subs.subscription(buyer, expires_in=timedelta(days=2))

    done = await world.run(JobName.SUBSCRIPTION_SWEEP, {})
    refused = await world.run(JobName.SUBSCRIPTION_SWEEP, {"batchSize": 0})

    assert done.state == "completed", done.reason
    assert set(done.value) >= {"warned7d", "warned1d", "expired", "failures"}
    assert len(await subs.shown(buyer.telegram_id)) == 1
    assert (await subs.purchase(purchase_id)).expiration_notified_7_days
    assert refused.state == "failed" and "batchSize" in (refused.reason or "")
    assert refused.attempts_made == 1
