"""The payment jobs run by a real worker (in this process) from the real queue: `pix-poll` catches a
payment whose notification was lost and enqueues its delivery; `pix-expiry-sweep` expires a charge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from tests.payment.conftest import Shop
from tgadmin.clock import utcnow
from tgadmin.models import Transaction
from tgadmin.models.enums import PurchaseStatus, TransactionStatus
from tgadmin.payment import jobs
from tgadmin.queue.names import JobName, QueueName
from tgadmin.redis import free_port
from tgadmin.worker.runner import WorkerProcess


@pytest.fixture
async def worker(shop: Shop) -> AsyncIterator[WorkerProcess]:
    # Only the system queue: the deliver-purchase jobs must stay waiting for us to look at. No
    # schedules: the repeatable pix-poll would otherwise race the job this test runs by hand.
    process = WorkerProcess(shop.settings, concurrency=2, queues=(QueueName.SYSTEM,), schedules=False)
    process.handlers.update(jobs.HANDLERS)
    await process.start()
    yield process
    await process.stop(grace=5)


async def age(shop: Shop, tx: Transaction, **when: datetime) -> None:
    """Time passes for one charge (the worker runs on the real clock)."""
    async with shop.sessions() as session:
        row = await session.get(Transaction, tx.id)
        assert row is not None
        for name, value in when.items():
            setattr(row, name, value)
        await session.commit()


async def run_job(shop: Shop, job: JobName, data: dict[str, Any]) -> tuple[str, Any]:
    queue = shop.queues.queue(job.queue)
    job_id = await shop.queues.enqueue(job, data)
    for _ in range(600):
        state = await queue.getJobState(job_id)
        if state in ("completed", "failed"):
            found = await queue.getJob(job_id)
            return state, found.returnvalue if state == "completed" else found.failedReason
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job} did not finish")


async def test_the_poll_job_confirms_a_missed_payment_and_enqueues_delivery(
    shop: Shop, worker: WorkerProcess
) -> None:
    await shop.psp.register_webhook(f"http://127.0.0.1:{free_port()}/closed")
    tx = await shop.charge()
    await shop.bank_pays(tx)
    await age(shop, tx, next_poll_at=utcnow())  # due now rather than in a minute
    state, value = await run_job(shop, JobName.PIX_POLL, {})
    assert (state, value) == ("completed", {"confirmed": 1, "redelivered": 0})
    assert (await shop.tx(tx.id)).status == TransactionStatus.PAID
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]
    state, reason = await run_job(shop, JobName.PIX_POLL, {"limit": -1})
    assert state == "failed" and "limit" in reason


async def test_the_sweep_job_expires_a_charge(shop: Shop, worker: WorkerProcess) -> None:
    tx = await shop.charge()
    await shop.sandbox.advance(31 * 60)
    await age(shop, tx, pix_expires_at=utcnow())  # our side of the same half hour
    state, value = await run_job(shop, JobName.PIX_EXPIRY_SWEEP, {})
    assert (state, value) == ("completed", {"expired": 1})
    assert (await shop.tx(tx.id)).status == TransactionStatus.EXPIRED
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.FAILED
