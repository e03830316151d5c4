"""A refunded subscription loses its access, whether PIX (refunded at the sandbox PSP) or Stars
(refundStarPayment at the sandbox): the admin's refund commits, a `revoke-access` job runs in the
real worker, the delivered messages disappear from the buyer's chat, the buyer is out of the access
chat (free to come back), and the buyer is told why, in their language. Each end of access is
audited once. PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import LabeledPrice

from tests.factories import audit_actions, make_operator, make_transaction
from tests.payment.conftest import WEBHOOK_SECRET
from tests.purchase.conftest import Buyer, Shop
from tgadmin.clock import utcnow
from tgadmin.db import AfterCommit, session_scope
from tgadmin.models import Purchase
from tgadmin.models.enums import Currency, PaymentMethod, ProductType, PurchaseStatus, TransactionStatus
from tgadmin.payment import actions, charges, expiry, refunds, service
from tgadmin.payment.service import Outcome, Result
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.pix.providers import get_provider
from tgadmin.purchase.enqueue import revocation_job_id
from tgadmin.queue.names import JobName


@pytest.fixture
def world_overrides(tmp_path: Path, sandbox: Any) -> dict[str, Any]:
    return {
        "media_dir": tmp_path / "media",
        "pix_provider": "sandbox",
        "pix_api_url": sandbox.url,
        "pix_webhook_secret": WEBHOOK_SECRET,
    }


@dataclass
class Subscribed:
    buyer: Buyer
    access_chat: int
    purchase_id: int
    delivered: list[int]


async def subscription(shop: Shop, language: str) -> tuple[Buyer, int, Any]:
    sandbox = shop.world.sandbox
    access_chat = await sandbox.create_chat("supergroup", "VIP")
    rights = {"can_invite_users": True, "can_restrict_members": True, "can_delete_messages": True}
    await sandbox.add_member(access_chat, bot_id=shop.world.tg.id, status="administrator", rights=rights)
    buyer = await shop.buyer(language=language)
    product = await shop.product(photos=2, kind=ProductType.SUBSCRIPTION, access_chat_id=access_chat)
    return buyer, access_chat, product


async def delivered_and_joined(shop: Shop, buyer: Buyer, access_chat: int, purchase_id: int) -> Subscribed:
    assert (await shop.deliver(purchase_id)).state == "completed"
    invitation = (await shop.chat(buyer))[-1]
    joined = await shop.world.sandbox.control.post(
        f"/sandbox/users/{buyer.telegram_id}/join", json={"invite_link": invitation["buttons"][0][0]["url"]}
    )
    assert joined.status_code == 200, joined.text
    assert await member_status(shop, access_chat, buyer) == "member"
    delivered = (await shop.purchase(purchase_id)).sent_messages[0]["message_ids"]
    assert len(delivered) == 3  # 2 photos (the confirmation their caption), invitation
    return Subscribed(buyer, access_chat, purchase_id, delivered)


async def member_status(shop: Shop, chat_id: int, buyer: Buyer) -> str:
    member = await shop.world.tg.bot.get_chat_member(chat_id, buyer.telegram_id)
    return str(member.status)


async def refund(shop: Shop, transaction_id: int) -> Outcome:
    """What the refund endpoint does: the admin's refund, the commit, then the jobs after it."""
    runtime = PaymentRuntime(shop.world.settings)
    after_commit = AfterCommit()
    try:
        async with session_scope(shop.world.sessions, after_commit) as session:
            admin = await make_operator(session)
            act = partial(refunds.refund, session, runtime, transaction_id, admin)
            outcome = await actions.run(session, after_commit, runtime, act)
    finally:
        await runtime.aclose()
    return outcome


async def assert_access_ended(shop: Shop, sub: Subscribed, notice: str) -> None:
    ended = await shop.world.wait(JobName.REVOKE_ACCESS, revocation_job_id(sub.purchase_id))
    assert ended.state == "completed", ended.reason
    shown = await shop.chat(sub.buyer)
    assert [m["text"] for m in shown] == [notice]  # the delivered messages are gone
    everything = await shop.world.sandbox.messages(sub.buyer.telegram_id)
    assert {m["message_id"] for m in everything if m["deleted"]} >= set(sub.delivered)
    assert await member_status(shop, sub.access_chat, sub.buyer) == "left"
    purchase: Purchase = await shop.purchase(sub.purchase_id)
    assert purchase.status is PurchaseStatus.REFUNDED and purchase.access_revoked_at is not None
    assert purchase.sent_messages == []
    async with shop.world.sessions() as session:
        assert (await audit_actions(session, "purchase", sub.purchase_id)).count(
            "purchase.access_revoked"
        ) == 1


async def test_a_pix_refunded_subscription_loses_its_access_and_the_buyer_is_told(shop: Shop) -> None:
    buyer, access_chat, product = await subscription(shop, "pt-br")
    purchase_id = await shop.paid(product, buyer, status=PurchaseStatus.PENDING)
    psp = get_provider(shop.world.settings)
    try:
        async with session_scope(shop.world.sessions) as session:
            tx = await charges.create_pix_charge(session, psp, purchase_id, expires_minutes=30)
        paid = await shop.world.sandbox.control.post("/sandbox/pix/pay", json={"code": tx.pix_copy_paste})
        assert paid.status_code == 200, paid.text
        async with session_scope(shop.world.sessions) as session:
            assert (await expiry.poll_charge(session, psp, tx.id, 0)).result == Result.CONFIRMED
    finally:
        await psp.aclose()
    sub = await delivered_and_joined(shop, buyer, access_chat, purchase_id)

    outcome = await refund(shop, tx.id)

    assert outcome.result == Result.REFUNDED and outcome.revoke == (purchase_id,)
    await assert_access_ended(
        shop,
        sub,
        "↩️ O pagamento de “Pack Verão” foi reembolsado, por isso o seu acesso terminou: apagamos o "
        "conteúdo enviado (o que o Telegram ainda permite apagar) e você saiu do grupo de acesso.",
    )


async def pay_stars(shop: Shop, buyer: Buyer, amount: int) -> str:
    """The buyer pays a Stars invoice in the sandbox; the pre-checkout query is answered here."""
    bot = shop.world.tg.bot
    invoice = await bot.send_invoice(
        buyer.telegram_id,
        "Pack Verão",
        "30 dias",
        "test-payload",
        "XTR",
        [LabeledPrice(label="VIP", amount=amount)],
    )
    paying = asyncio.create_task(shop.world.sandbox.pay(buyer.telegram_id, invoice.message_id))
    offset: int | None = None
    while not paying.done():
        for update in await bot.get_updates(offset=offset, timeout=1):
            offset = update.update_id + 1
            if update.pre_checkout_query is not None:
                await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    await bot.delete_message(buyer.telegram_id, invoice.message_id)  # the chat then shows only delivery
    return str((await paying)["telegram_payment_charge_id"])


async def test_a_stars_refunded_subscription_loses_its_access_and_the_buyer_is_told(shop: Shop) -> None:
    buyer, access_chat, product = await subscription(shop, "en")
    charge_id = await pay_stars(shop, buyer, 150)
    purchase_id = await shop.paid(product, buyer, currency=Currency.XTR, amount_cents=150)
    async with session_scope(shop.world.sessions) as session:
        tx = await make_transaction(
            session,
            await session.get_one(Purchase, purchase_id),
            method=PaymentMethod.STARS,
            status=TransactionStatus.PAID,
            amount_cents=150,
            currency=Currency.XTR,
            telegram_payment_charge_id=charge_id,
            paid_at=utcnow(),
            paid_amount_cents=150,
        )
    sub = await delivered_and_joined(shop, buyer, access_chat, purchase_id)

    outcome = await refund(shop, tx.id)

    assert outcome.result == Result.REFUNDED
    await assert_access_ended(
        shop,
        sub,
        "↩️ Your payment for “Pack Verão” was refunded, so your access has ended: we deleted the content "
        "we sent (what Telegram still allows us to delete) and you were removed from the access group.",
    )


async def test_a_refund_settled_where_no_job_is_enqueued_still_ends_access_at_the_next_sweep(
    shop: Shop,
) -> None:
    buyer, access_chat, product = await subscription(shop, "pt-br")
    purchase_id = await shop.paid(product, buyer)
    async with session_scope(shop.world.sessions) as session:
        tx = await make_transaction(
            session,
            await session.get_one(Purchase, purchase_id),
            status=TransactionStatus.PAID,
            provider=service.STATIC_PROVIDER,
            paid_at=utcnow(),
        )
    sub = await delivered_and_joined(shop, buyer, access_chat, purchase_id)
    # A refund confirmed by a path that only commits (a PSP poll, say): nobody enqueues the job.
    async with session_scope(shop.world.sessions) as session:
        admin = await make_operator(session)
        assert (await refunds.record_manual_refund(session, tx.id, admin)).revoke == (purchase_id,)

    swept = await shop.world.run(JobName.SUBSCRIPTION_SWEEP, {}, job_id="sweep-after-refund")

    assert swept.state == "completed" and swept.value["revokedAfterRefund"] == 1, swept.value
    assert await member_status(shop, sub.access_chat, buyer) == "left"
    [notice] = [m["text"] for m in await shop.chat(buyer)]  # the delivered messages are gone
    assert notice.startswith("↩️ O pagamento de “Pack Verão” foi reembolsado")
    assert (await shop.purchase(purchase_id)).access_revoked_at is not None
