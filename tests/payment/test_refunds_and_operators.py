"""Refunds by an admin (retry-safe, refunded only once the PSP confirms), static PIX confirmed by an
operator, every transition audited, and bad input refused with nothing stored half-made."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.factories import make_product
from tests.payment.conftest import Shop
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.errors import BadRequest, Conflict, Forbidden, InvalidTransition, ServiceUnavailable
from tgadmin.models import AuditLog, Transaction
from tgadmin.models.enums import Currency, OperatorRole, PurchaseStatus, TransactionStatus
from tgadmin.models.status import allowed_sources, ensure_transition
from tgadmin.payment import charges, confirmation, expiry, refunds
from tgadmin.payment.service import Result
from tgadmin.pix.providers.base import Refund
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.pix.providers.static import StaticPixProvider
from tgadmin.redis import free_port


async def paid_charge(shop: Shop) -> Transaction:
    await shop.psp.register_webhook(f"http://127.0.0.1:{free_port()}/closed")
    tx = await shop.charge()
    await shop.bank_pays(tx)
    async with session_scope(shop.sessions) as session:
        assert (await expiry.poll_charge(session, shop.psp, tx.id, 0)).result == Result.CONFIRMED
    return await shop.tx(tx.id)


async def refunds_at_psp(shop: Shop, tx: Transaction) -> list[dict[str, str]]:
    charges = (await shop.sandbox.control.get("/sandbox/pix/charges")).json()["charges"]
    cob = next(c for c in charges if c["txid"] == tx.provider_txid)
    return [dict(r) for pix in cob.get("pix", []) for r in pix.get("devolucoes", [])]


class Flaky(SandboxProvider):
    """A real sandbox client whose first refund answer is lost (the PSP did refund), or still processing."""

    mode = "lost"
    calls = 0

    async def refund(
        self, end_to_end_id: str, refund_id: str, amount_cents: int, *, txid: str | None = None
    ) -> Refund:
        answer = await super().refund(end_to_end_id, refund_id, amount_cents, txid=txid)
        self.calls += 1
        if self.calls == 1 and self.mode == "lost":
            raise ServiceUnavailable("sandbox: PUT devolucao timed out")
        if self.calls == 1 and self.mode == "processing":
            return replace(answer, confirmed=False)
        return answer


def flaky(shop: Shop, mode: str) -> Flaky:
    provider = Flaky(
        base_url=shop.psp.base_url,
        client_id="tgadmin",
        client_secret="sandbox",
        pix_key=shop.psp.pix_key,
        merchant_name="X",
        merchant_city="Y",
    )
    provider.mode = mode
    return provider


async def test_an_admin_refund_is_confirmed_by_the_psp_then_recorded(shop: Shop) -> None:
    tx = await paid_charge(shop)
    admin = await shop.operator()
    async with session_scope(shop.sessions) as session:
        outcome = await refunds.refund_pix(session, shop.psp, tx.id, admin)
    assert outcome.result == Result.REFUNDED
    refunded = await shop.tx(tx.id)
    assert refunded.status == TransactionStatus.REFUNDED and refunded.refunded_at is not None
    assert refunded.refund_id == refunds.refund_id_for(tx) and len(refunded.refund_id) <= 35
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.REFUNDED
    assert [(r["id"], r["valor"], r["status"]) for r in await refunds_at_psp(shop, tx)] == [
        (refunded.refund_id, "19.90", "DEVOLVIDO")
    ]
    assert (await shop.audit(tx.id))[-1] == "payment.refunded"
    async with session_scope(shop.sessions) as session:
        with pytest.raises(Conflict, match="already refunded"):
            await refunds.refund_pix(session, shop.psp, tx.id, admin)


async def test_a_refund_whose_answer_was_lost_is_retried_with_the_same_id(shop: Shop) -> None:
    tx = await paid_charge(shop)
    admin = await shop.operator()
    psp = flaky(shop, "lost")
    try:
        with pytest.raises(ServiceUnavailable):
            async with session_scope(shop.sessions) as session:
                await refunds.refund_pix(session, psp, tx.id, admin)
        assert (await shop.tx(tx.id)).status == TransactionStatus.PAID  # not refunded on our side yet
        async with session_scope(shop.sessions) as session:
            assert (await refunds.refund_pix(session, psp, tx.id, admin)).result == Result.REFUNDED
    finally:
        await psp.aclose()
    assert len(await refunds_at_psp(shop, tx)) == 1  # the PSP gave the money back once
    assert (await shop.tx(tx.id)).status == TransactionStatus.REFUNDED


async def test_a_refund_still_processing_is_not_marked_refunded_until_confirmed(shop: Shop) -> None:
    tx = await paid_charge(shop)
    admin = await shop.operator()
    psp = flaky(shop, "processing")
    try:
        async with session_scope(shop.sessions) as session:
            assert (await refunds.refund_pix(session, psp, tx.id, admin)).result == Result.REFUND_PENDING
        pending = await shop.tx(tx.id)
        assert pending.status == TransactionStatus.PAID and pending.refund_id == refunds.refund_id_for(tx)
        assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID
        assert (await shop.audit(tx.id))[-1] == "payment.refund_requested"
        async with session_scope(shop.sessions) as session:
            assert (await refunds.refund_pix(session, psp, tx.id, admin)).result == Result.REFUNDED
    finally:
        await psp.aclose()
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.REFUNDED


async def test_a_refund_the_psp_refuses_leaves_the_payment_paid_and_a_retry_is_a_new_request(
    shop: Shop,
) -> None:
    tx = await paid_charge(shop)
    admin = await shop.operator()
    refusing = {"refund_refusal": "saldo insuficiente na conta do recebedor"}
    (await shop.sandbox.control.post("/sandbox/pix/settings", json=refusing)).raise_for_status()
    try:
        async with session_scope(shop.sessions) as session:
            refused = await refunds.refund_pix(session, shop.psp, tx.id, admin)
    finally:
        await shop.sandbox.control.post("/sandbox/pix/settings", json={"refund_refusal": None})

    assert (refused.result, refused.detail) == (Result.REFUND_REFUSED, refusing["refund_refusal"])
    row = await shop.tx(tx.id)
    # Not pending any more (polling stops), still paid, and the buyer keeps the purchase.
    assert (row.status, row.refund_id, row.refund_attempts) == (TransactionStatus.PAID, None, 1)
    assert not refunds.refund_pending(row)
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID
    assert (await shop.audit(tx.id))[-1] == "payment.refund_refused"

    async with session_scope(shop.sessions) as session:
        assert (await refunds.refund_pix(session, shop.psp, tx.id, admin)).result == Result.REFUNDED
    first_id = refunds.refund_id_for(tx)
    assert (await shop.tx(tx.id)).refund_id not in (None, first_id)
    assert [(r["id"], r["status"]) for r in await refunds_at_psp(shop, tx)] == [
        (first_id, "NAO_REALIZADO"),
        ((await shop.tx(tx.id)).refund_id, "DEVOLVIDO"),
    ]
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.REFUNDED


async def test_a_refund_refused_while_processing_is_closed_by_the_next_poll(shop: Shop) -> None:
    tx = await paid_charge(shop)
    admin = await shop.operator()
    await shop.sandbox.freeze()
    held = {"refund_processing_seconds": 60, "refund_refusal": "conta de destino encerrada"}
    (await shop.sandbox.control.post("/sandbox/pix/settings", json=held)).raise_for_status()
    try:
        async with session_scope(shop.sessions) as session:
            pending = await refunds.refund_pix(session, shop.psp, tx.id, admin)
        assert pending.result == Result.REFUND_PENDING
        await shop.sandbox.advance(61)
        async with session_scope(shop.sessions) as session:
            polled = await refunds.poll_refund(session, shop.psp, tx.id, 0)
    finally:
        await shop.sandbox.control.post(
            "/sandbox/pix/settings", json={"refund_processing_seconds": 0, "refund_refusal": None}
        )
        await shop.sandbox.freeze(False)

    assert (polled.result, polled.detail) == (Result.REFUND_REFUSED, "conta de destino encerrada")
    row = await shop.tx(tx.id)
    assert (row.status, row.refund_id) == (TransactionStatus.PAID, None)
    async with session_scope(shop.sessions) as session:  # nothing left for polling to ask about
        assert (await refunds.poll_refund(session, shop.psp, tx.id, 1)).result == Result.SKIPPED


async def test_only_admins_refund_and_only_payments(shop: Shop) -> None:
    tx = await paid_charge(shop)
    for role in (OperatorRole.OPERATOR, OperatorRole.VIEWER):
        someone = await shop.operator(role)
        async with session_scope(shop.sessions) as session:
            with pytest.raises(Forbidden):
                await refunds.refund_pix(session, shop.psp, tx.id, someone)
    unpaid = await shop.charge()
    admin = await shop.operator()
    async with session_scope(shop.sessions) as session:
        with pytest.raises(Conflict, match="no payment to refund"):
            await refunds.refund_pix(session, shop.psp, unpaid.id, admin)
    assert await refunds_at_psp(shop, tx) == []


@pytest.fixture
def static_psp() -> StaticPixProvider:
    return StaticPixProvider(pix_key="fulano@example.com", merchant_name="Loja Teste", merchant_city="Recife")


async def test_static_payment_confirmed_by_an_operator_is_audited_and_delivered(
    shop: Shop, static_psp: StaticPixProvider
) -> None:
    purchase = await shop.purchase()
    async with session_scope(shop.sessions) as session:
        tx = await charges.create_pix_charge(session, static_psp, purchase.id, expires_minutes=30)
    assert tx.provider == "static" and (tx.pix_copy_paste or "").startswith("000201")
    viewer = await shop.operator(OperatorRole.VIEWER)
    operator = await shop.operator(OperatorRole.OPERATOR)
    async with session_scope(shop.sessions) as session:
        with pytest.raises(Forbidden):
            await confirmation.confirm_static_payment(session, tx.id, viewer)
    async with session_scope(shop.sessions) as session:
        outcome = await confirmation.confirm_static_payment(
            session, tx.id, operator, end_to_end_id="E1234567820261123"
        )
    assert outcome.result == Result.CONFIRMED and outcome.deliver == (purchase.id,)
    async with shop.sessions() as session:
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "payment.confirmed"))
    assert entry is not None and entry.actor_label == operator.email and entry.after is not None
    assert (entry.before or {})["status"] == "pending" and entry.after["status"] == "paid"
    async with session_scope(shop.sessions) as session:
        again = await confirmation.confirm_static_payment(
            session, tx.id, operator, end_to_end_id="E1234567820261123"
        )
    assert again.result == Result.ALREADY_PAID and again.deliver == ()
    admin = await shop.operator()
    async with session_scope(shop.sessions) as session:
        with pytest.raises(BadRequest, match="bank app"):
            await refunds.refund_pix(session, static_psp, tx.id, admin)
    async with session_scope(shop.sessions) as session:
        assert (await refunds.record_manual_refund(session, tx.id, admin)).result == Result.REFUNDED
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.REFUNDED


async def test_static_payment_after_expiry_or_of_another_amount_is_flagged(
    shop: Shop, static_psp: StaticPixProvider
) -> None:
    operator = await shop.operator(OperatorRole.OPERATOR)
    late_purchase, odd_purchase = await shop.purchase(), await shop.purchase()
    async with session_scope(shop.sessions) as session:
        late = await charges.create_pix_charge(session, static_psp, late_purchase.id, expires_minutes=30)
        odd = await charges.create_pix_charge(session, static_psp, odd_purchase.id, expires_minutes=30)
    async with session_scope(shop.sessions) as session:
        expired = await expiry.expire_charge(session, static_psp, late.id, now=utcnow() + timedelta(hours=1))
    assert expired.result == Result.EXPIRED
    async with session_scope(shop.sessions) as session:
        flagged = await confirmation.confirm_static_payment(session, late.id, operator)
        mismatch = await confirmation.confirm_static_payment(session, odd.id, operator, amount_cents=990)
    assert (flagged.result, flagged.deliver) == (Result.LATE_PAYMENT, ())
    assert (mismatch.result, mismatch.deliver) == (Result.AMOUNT_MISMATCH, ())
    odd_row = await shop.tx(odd.id)
    assert odd_row.status == TransactionStatus.FAILED and odd_row.needs_refund
    assert odd_row.paid_amount_cents == 990 and "paid 990, charged 1990" in (odd_row.failure_reason or "")
    assert (await shop.purchase_of(odd)).status == PurchaseStatus.FAILED
    psp_charge = await shop.charge()
    async with session_scope(shop.sessions) as session:
        with pytest.raises(BadRequest, match="positive"):
            await confirmation.confirm_static_payment(session, odd.id, operator, amount_cents=-5)
        with pytest.raises(BadRequest, match="the PSP confirms it"):
            await confirmation.confirm_static_payment(session, psp_charge.id, operator)


async def test_bad_input_is_refused_before_the_psp_and_nothing_is_stored(shop: Shop) -> None:
    free, dollars = await shop.purchase(amount_cents=0), await shop.purchase(currency=Currency.USD)
    async with session_scope(shop.sessions) as session:
        with pytest.raises(BadRequest, match="positive amount, not 0 cents"):
            await charges.create_pix_charge(session, shop.psp, free.id, expires_minutes=30)
        with pytest.raises(BadRequest, match="in BRL, not USD"):
            await charges.create_pix_charge(session, shop.psp, dollars.id, expires_minutes=30)
    with pytest.raises(IntegrityError, match="price_not_negative"):  # the database refuses it too
        async with session_scope(shop.sessions) as session:
            await make_product(session, price_cents=-100)
    paid = await paid_charge(shop)
    async with session_scope(shop.sessions) as session:
        with pytest.raises(Conflict, match="is paid, not pending"):
            await charges.create_pix_charge(session, shop.psp, paid.purchase_id, expires_minutes=30)
    async with shop.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Transaction))
    assert count == 1  # only the paid one
    cobs = (await shop.sandbox.control.get("/sandbox/pix/charges")).json()["charges"]
    assert len(cobs) == 1


def test_transitions_come_from_the_one_table() -> None:
    assert allowed_sources(TransactionStatus.PAID) == {
        TransactionStatus.PENDING,
        TransactionStatus.PROCESSING,
    }
    assert allowed_sources(PurchaseStatus.REFUNDED) == {PurchaseStatus.PAID, PurchaseStatus.COMPLETED}
    with pytest.raises(InvalidTransition):
        ensure_transition(TransactionStatus.EXPIRED, TransactionStatus.PAID)
