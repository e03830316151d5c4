"""A Stars payment is never lost: a recording that fails is answered 500 and Telegram's retry records
it; reconciliation records one whose update was lost, and only that; a failed pre-checkout check is
accepted when Telegram retries."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from aiogram.types import WebhookInfo
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.bot.conftest import eventually
from tests.factories import make_operator
from tests.payment.stars_world import StarsShop, deliveries, invoice_sent, paid_transaction
from tgadmin.db import session_scope
from tgadmin.models import Bot as BotRecord
from tgadmin.models import PaymentEvent, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import PurchaseStatus, TransactionStatus
from tgadmin.payment import refunds, repository, stars
from tgadmin.payment.service import Result
from tgadmin.queue.names import JobName, QueueName
from tgadmin.telegram import stars as telegram_stars
from tgadmin.worker.runner import WorkerProcess


def fail_insert_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fault: the real `payment.repository.insert_event` (the inbox row every Stars payment
    starts with) raises once, as a database that went away mid-update would; later calls go
    through. Returns the charge ids of the calls that failed."""
    real = repository.insert_event
    failed: list[str] = []

    async def flaky(session: AsyncSession, provider: str, external_id: str, payload: Any) -> int | None:
        if not failed:
            failed.append(external_id)
            raise OperationalError("INSERT INTO payment_events", {}, ConnectionError("database is down"))
        return await real(session, provider, external_id, payload)

    monkeypatch.setattr(repository, "insert_event", flaky)
    return failed


async def test_a_payment_whose_recording_fails_is_answered_500_and_recorded_when_telegram_retries(
    stars_shop: StarsShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = stars_shop.world
    buyer, purchase, message = await invoice_sent(world)
    failed = fail_insert_once(monkeypatch)

    result = await world.sandbox.pay(buyer.telegram_id, message.message_id)
    charge_id = result["telegram_payment_charge_id"]

    tx = await paid_transaction(world, charge_id)
    assert failed == [charge_id]

    async def settled() -> WebhookInfo | None:
        # The commit comes before the webhook's answer: wait for Telegram to take the 200.
        info = await world.tg.bot.get_webhook_info()
        return info if info.pending_update_count == 0 else None

    # The first delivery was refused with a 5xx (so Telegram kept the update), the retry recorded it.
    info = await eventually(settled)
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert tx.paid_amount_cents == 150 and tx.purchase_id == purchase.id
    assert await eventually(lambda: deliveries(stars_shop.queues)) == [{"purchaseId": purchase.id}]
    events = await world.rows(PaymentEvent, PaymentEvent.external_id == charge_id)
    assert [e.result for e in events] == ["confirmed"]
    # The buyer, who has paid, is not asked to "try again".
    texts = [m["text"] for m in await world.sandbox.messages(buyer.telegram_id) if m["text"]]
    assert not any(text.startswith("Desculpe") for text in texts)


async def run_system_job(stars_shop: StarsShop, job: JobName, data: dict[str, Any]) -> Any:
    """Enqueue one job and let a real worker (system queue only, no schedules) run it."""
    worker = WorkerProcess(stars_shop.world.settings, queues=(QueueName.SYSTEM,), schedules=False)
    await worker.start()
    try:
        queue = stars_shop.queues.queue(job.queue)
        job_id = await stars_shop.queues.enqueue(job, data)

        async def finished() -> str | None:
            state = str(await queue.getJobState(job_id))
            return state if state in ("completed", "failed") else None

        state = await eventually(finished, within=30)
        found = await queue.getJob(job_id)
        assert state == "completed", found.failedReason
        return found.returnvalue
    finally:
        await worker.stop(grace=5)


async def test_reconciliation_records_a_stars_payment_whose_update_was_lost_and_only_that(
    stars_shop: StarsShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault: the real `payment.repository.insert_event` raises once (monkeypatched) and, at
    that moment, Telegram drops the update (deleteWebhook with drop_pending_updates), so the
    `successful_payment` is never seen again: only reconciliation can find the payment."""
    world, running = stars_shop.world, stars_shop.running
    real = repository.insert_event
    failed: list[str] = []

    async def lost(session: AsyncSession, provider: str, external_id: str, payload: Any) -> int | None:
        if not failed:
            failed.append(external_id)
            await world.tg.bot.delete_webhook(drop_pending_updates=True)
            raise OperationalError("INSERT INTO payment_events", {}, ConnectionError("database is down"))
        return await real(session, provider, external_id, payload)

    monkeypatch.setattr(repository, "insert_event", lost)
    buyer, lost_purchase, message = await invoice_sent(world)
    lost_charge = (await world.sandbox.pay(buyer.telegram_id, message.message_id))[
        "telegram_payment_charge_id"
    ]

    async def fault_hit() -> list[str]:
        return failed

    await eventually(fault_hit)
    assert await world.row(Transaction, Transaction.telegram_payment_charge_id == lost_charge) is None

    # The webhook again; another buyer pays normally, and is refunded.
    await running.service.set_webhooks()
    other, kept_purchase, other_message = await invoice_sent(world, "Bob")
    kept_charge = (await world.sandbox.pay(other.telegram_id, other_message.message_id))[
        "telegram_payment_charge_id"
    ]
    kept = await paid_transaction(world, kept_charge)
    # Its delivery is enqueued after the commit: wait for it, then clear the queue.
    assert await eventually(lambda: deliveries(stars_shop.queues)) == [{"purchaseId": kept_purchase.id}]
    async with session_scope(world.sessions) as session:
        admin = await make_operator(session)
    async with session_scope(world.sessions) as session:
        refunder = partial(telegram_stars.refund_through, world.tg.bot)
        assert (await refunds.refund_stars(session, kept.id, admin, refunder)).result == Result.REFUNDED
    await stars_shop.queues.queue(QueueName.BOT_TASKS).obliterate({"force": True})

    # Telegram lists: the lost payment, the kept one, its refund (same id, buyer as receiver).
    tally = await run_system_job(stars_shop, JobName.STARS_RECONCILE, {"pageSize": 1})
    assert tally == {"confirmed": 1, "duplicate": 1, "not_a_payment": 1}
    recovered = await world.row(Transaction, Transaction.telegram_payment_charge_id == lost_charge)
    assert recovered is not None and recovered.status == TransactionStatus.PAID
    assert recovered.purchase_id == lost_purchase.id and recovered.paid_amount_cents == 150
    purchase = await world.row(Purchase, Purchase.id == lost_purchase.id)
    assert (
        purchase is not None and purchase.status == PurchaseStatus.PAID and purchase.bot_id == world.record_id
    )
    assert await deliveries(stars_shop.queues) == [{"purchaseId": lost_purchase.id}]
    # The refunded payment stays refunded: the refund was not taken for a payment.
    refunded = await world.row(Transaction, Transaction.id == kept.id)
    assert refunded is not None and refunded.status == TransactionStatus.REFUNDED
    assert (await world.row(Purchase, Purchase.id == kept_purchase.id)).status == PurchaseStatus.REFUNDED  # type: ignore[union-attr]
    events = await world.rows(PaymentEvent, PaymentEvent.provider == stars.PROVIDER)
    assert sorted(e.external_id for e in events) == sorted([lost_charge, kept_charge])
    bot = await world.row(BotRecord, BotRecord.id == world.record_id)
    assert bot is not None and bot.stars_reconciled == 3

    # The next run starts where this one stopped: one read, past the end, nothing changed.
    since = (await world.sandbox.calls())[-1]["seq"]
    assert await run_system_job(stars_shop, JobName.STARS_RECONCILE, {"pageSize": 1}) == {}
    reads = await world.sandbox.calls(since=since, method="getStarTransactions")
    assert [call["result"] for call in reads] == [{"transactions": []}]
    assert await deliveries(stars_shop.queues) == [{"purchaseId": lost_purchase.id}]


async def test_a_pre_checkout_whose_check_fails_is_answered_500_and_accepted_when_telegram_retries(
    stars_shop: StarsShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault: the real `payment.repository.buyer` (read by the pre-checkout check) raises once
    (monkeypatched); the query is left unanswered, so Telegram's retry is what accepts it."""
    world = stars_shop.world
    buyer, purchase, message = await invoice_sent(world)
    real = repository.buyer
    failed: list[int] = []

    async def flaky(session: AsyncSession, user_id: int) -> TelegramUser | None:
        if not failed:
            failed.append(user_id)
            raise OperationalError("SELECT telegram_users", {}, ConnectionError("database is down"))
        return await real(session, user_id)

    monkeypatch.setattr(repository, "buyer", flaky)
    result = await world.sandbox.pay(buyer.telegram_id, message.message_id)
    assert result["status"] == "paid" and failed == [buyer.id]
    info = await world.tg.bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    tx = await paid_transaction(world, result["telegram_payment_charge_id"])
    assert tx.purchase_id == purchase.id
