"""Expiry sweep and polling against the sandbox PSP: charges cancelled there and expired here, payments
racing the cancel, payments after the cancel (kept, flagged for refund), missed notifications."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.payment.conftest import Shop
from tgadmin.clock import frozen_at, utcnow
from tgadmin.db import session_scope
from tgadmin.models.enums import PurchaseStatus, TransactionStatus
from tgadmin.payment import expiry, jobs, refunds
from tgadmin.payment.service import Result
from tgadmin.pix.providers.base import Charge, ChargeState, PixProvider
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.redis import free_port

LATER = timedelta(minutes=31)


@dataclass
class Recorded:
    """A delivery hook that records what it was handed (the queue itself is tested elsewhere)."""

    calls: list[int] = field(default_factory=list)

    async def __call__(self, purchase_ids: Any) -> None:
        self.calls.extend(purchase_ids)


async def sweep(shop: Shop, provider: PixProvider | None = None, *, after: timedelta = LATER) -> Counter[str]:
    async with session_scope(shop.sessions) as session:
        return await jobs.sweep_expired(
            session, provider or shop.psp, session.commit, Recorded(), now=utcnow() + after
        )


async def cob_status(shop: Shop, txid: str | None) -> str:
    charges = (await shop.sandbox.control.get("/sandbox/pix/charges")).json()["charges"]
    return next(str(c["status"]) for c in charges if c["txid"] == txid)


async def lose_notifications(shop: Shop) -> None:
    await shop.psp.register_webhook(f"http://127.0.0.1:{free_port()}/closed")


async def test_an_unpaid_charge_is_cancelled_at_the_psp_and_expired(shop: Shop) -> None:
    tx = await shop.charge()
    assert await sweep(shop, after=timedelta(minutes=29)) == Counter()  # not due yet
    await shop.sandbox.advance(LATER.total_seconds())
    # At the PSP the charge is still ATIVA after its expiry: only our cancel removes it.
    assert await cob_status(shop, tx.provider_txid) == "ATIVA"
    assert await sweep(shop) == Counter({"expired": 1})
    expired = await shop.tx(tx.id)
    assert expired.status == TransactionStatus.EXPIRED and expired.failed_at is not None
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.FAILED
    assert await cob_status(shop, tx.provider_txid) == "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    assert await shop.audit(tx.id) == ["payment.charge_created", "payment.expired"]
    assert await sweep(shop) == Counter()  # nothing twice


async def test_the_sweep_confirms_a_charge_whose_notification_was_lost(shop: Shop) -> None:
    await lose_notifications(shop)
    tx = await shop.charge()
    await shop.bank_pays(tx)
    hook = Recorded()
    async with session_scope(shop.sessions) as session:
        tally = await jobs.sweep_expired(session, shop.psp, session.commit, hook, now=utcnow() + LATER)
    assert tally == Counter({"confirmed": 1}) and hook.calls == [tx.purchase_id]
    assert (await shop.tx(tx.id)).status == TransactionStatus.PAID
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID


class PaysDuringCancel(SandboxProvider):
    """The buyer's bank pays in the instant between our read and our cancel (real sandbox calls)."""

    shop: Shop

    async def cancel_charge(self, txid: str) -> Charge:
        charges = (await self.shop.sandbox.control.get("/sandbox/pix/charges")).json()["charges"]
        code = next(c["pixCopiaECola"] for c in charges if c["txid"] == txid)
        await self.shop.sandbox.control.post("/sandbox/pix/pay", json={"code": code})
        return await super().cancel_charge(txid)  # the PSP refuses: the charge is CONCLUIDA


class LosesTheCancel(SandboxProvider):
    """A PSP that acknowledges the cancel but still lets the charge be paid (its own race)."""

    async def cancel_charge(self, txid: str) -> Charge:
        charge = await self.get_charge(txid)
        return Charge(charge.provider, txid, ChargeState.CANCELLED, charge.amount_cents, "", None)


def variant(kind: type[SandboxProvider], shop: Shop) -> SandboxProvider:
    base = shop.psp
    provider = kind(
        base_url=base.base_url,
        client_id="tgadmin",
        client_secret="sandbox",
        pix_key=base.pix_key,
        merchant_name=base.merchant_name,
        merchant_city=base.merchant_city,
    )
    if isinstance(provider, PaysDuringCancel):
        provider.shop = shop
    return provider


async def test_a_payment_racing_the_cancel_is_confirmed_not_expired(shop: Shop) -> None:
    await lose_notifications(shop)
    tx = await shop.charge()
    racing = variant(PaysDuringCancel, shop)
    try:
        assert await sweep(shop, racing, after=LATER) == Counter({"confirmed": 1})
    finally:
        await racing.aclose()
    assert (await shop.tx(tx.id)).status == TransactionStatus.PAID
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID


async def test_a_payment_after_the_cancel_is_kept_and_flagged_for_refund(shop: Shop) -> None:
    tx = await shop.charge()
    sloppy = variant(LosesTheCancel, shop)
    try:
        assert await sweep(shop, sloppy) == Counter({"expired": 1})
    finally:
        await sloppy.aclose()
    paid = await shop.bank_pays(tx)  # the PSP still took the money; its webhook reaches our route
    late = await shop.wait_for(tx.id, "needs_refund", True)
    assert late.status == TransactionStatus.EXPIRED
    assert (late.end_to_end_id, late.paid_amount_cents) == (paid["endToEndId"], 1990)
    assert late.failure_reason == "paid after the charge was expired"
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.FAILED
    assert await shop.deliveries() == []
    assert await shop.audit(tx.id) == [
        "payment.charge_created",
        "payment.expired",
        "payment.flagged_for_refund",
    ]
    (event,) = await shop.events()
    assert event.result == "late_payment"

    admin = await shop.operator()
    async with session_scope(shop.sessions) as session:
        refunded = await refunds.refund_pix(session, shop.psp, tx.id, admin)
    assert refunded.result == Result.REFUNDED
    settled = await shop.tx(tx.id)
    assert not settled.needs_refund and settled.refunded_at is not None
    assert settled.status == TransactionStatus.EXPIRED  # never paid for the purchase
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.FAILED


async def test_two_sweepers_at_once_expire_a_charge_once(shop: Shop) -> None:
    tx = await shop.charge()
    await shop.sandbox.advance(LATER.total_seconds())
    first, second = await asyncio.gather(sweep(shop), sweep(shop))
    assert first + second == Counter({"expired": 1, "skipped": 1}) or first + second == Counter(
        {"expired": 1}
    )
    assert (await shop.audit(tx.id)).count("payment.expired") == 1


async def test_a_new_charge_keeps_the_purchase_alive_when_the_old_one_expires(shop: Shop) -> None:
    """Clock skew between us and the PSP: our old code expired, the buyer took a new one, and paid both."""
    await lose_notifications(shop)
    old = await shop.charge()
    with frozen_at(utcnow() + LATER):
        new = await shop.charge(old.purchase_id)
        assert new.id != old.id
        await shop.bank_pays(new)
        await shop.bank_pays(old)  # the PSP's clock: still payable there
        async with session_scope(shop.sessions) as session:
            polled = await expiry.poll_charge(session, shop.psp, new.id, 0)
        assert polled.result == Result.CONFIRMED
        assert await sweep(shop, after=timedelta(0)) == Counter({"double_payment": 1})
    doubled = await shop.tx(old.id)
    assert doubled.status == TransactionStatus.PAID and doubled.needs_refund
    assert doubled.failure_reason == "paid, but the purchase was already paid"
    admin = await shop.operator()
    async with session_scope(shop.sessions) as session:
        assert (await refunds.refund_pix(session, shop.psp, old.id, admin)).result == Result.REFUNDED
    assert (await shop.tx(old.id)).status == TransactionStatus.REFUNDED
    assert (await shop.purchase_of(old)).status == PurchaseStatus.PAID  # bought with the other payment


async def test_polling_backs_off_and_catches_a_missed_payment(shop: Shop) -> None:
    await lose_notifications(shop)
    tx = await shop.charge()
    start = utcnow()
    hook = Recorded()

    async def poll(at: timedelta) -> Counter[str]:
        async with session_scope(shop.sessions) as session:
            return await jobs.poll_pending(session, shop.psp, session.commit, hook, now=start + at)

    assert await poll(timedelta(seconds=30)) == Counter({"redelivered": 0})  # first poll after a minute
    schedule = []
    moment = timedelta(seconds=61)
    for _ in range(5):
        assert (await poll(moment))["not_paid"] == 1
        polled = await shop.tx(tx.id)
        assert polled.next_poll_at is not None
        schedule.append(polled.next_poll_at - (start + moment))
        moment = polled.next_poll_at - start
    assert [int(step.total_seconds()) for step in schedule] == [60, 120, 240, 480, 600]
    assert (await shop.tx(tx.id)).poll_count == 5
    await shop.bank_pays(tx)
    assert (await poll(moment))["confirmed"] == 1 and hook.calls == [tx.purchase_id]
    assert (await shop.tx(tx.id)).status == TransactionStatus.PAID


async def test_polling_survives_an_unreachable_psp_and_a_charge_removed_by_the_psp(shop: Shop) -> None:
    tx = await shop.charge()
    down = SandboxProvider(
        base_url=f"http://127.0.0.1:{free_port()}",
        client_id="tgadmin",
        client_secret="sandbox",
        pix_key=shop.psp.pix_key,
        merchant_name="X",
        merchant_city="Y",
        timeout=2,
    )
    later = utcnow() + timedelta(minutes=2)
    try:
        async with session_scope(shop.sessions) as session:
            tally = await jobs.poll_pending(session, down, session.commit, Recorded(), now=later)
    finally:
        await down.aclose()
    assert tally["psp_unavailable"] == 1
    waiting = await shop.tx(tx.id)
    assert waiting.status == TransactionStatus.PENDING and waiting.poll_count == 1  # backed off all the same
    await shop.psp.cancel_charge(tx.provider_txid or "")
    async with session_scope(shop.sessions) as session:
        tally = await jobs.poll_pending(
            session, shop.psp, session.commit, Recorded(), now=later + timedelta(minutes=5)
        )
    assert tally["cancelled"] == 1
    assert (await shop.tx(tx.id)).status == TransactionStatus.FAILED
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.FAILED


async def test_a_paid_purchase_whose_delivery_job_was_lost_is_enqueued_again(shop: Shop) -> None:
    await lose_notifications(shop)
    tx = await shop.charge()
    await shop.bank_pays(tx)
    async with session_scope(shop.sessions) as session:
        assert (await expiry.poll_charge(session, shop.psp, tx.id, 0)).result == Result.CONFIRMED
    # ...and the process died before enqueueing. The poll job makes up for it, with the same job id.
    hook = Recorded()
    async with session_scope(shop.sessions) as session:
        soon = await jobs.poll_pending(session, shop.psp, session.commit, hook, now=utcnow())
        later = await jobs.poll_pending(
            session, shop.psp, session.commit, hook, now=utcnow() + timedelta(minutes=6)
        )
    assert (soon["redelivered"], later["redelivered"]) == (0, 1) and hook.calls == [tx.purchase_id]
