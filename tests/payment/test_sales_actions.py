"""Sales for operators, each action end to end: static PIX confirmed, refunds, paying in the sandbox
bank, Stars refunded through the bot that took them; over real HTTP against the dashboard served by
uvicorn (PostgreSQL and SQLite), the sandbox PSP, real Redis for delivery jobs, the Telegram sandbox
for Stars, and headless Chromium for the page."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.exceptions import TelegramBadRequest
from playwright.async_api import async_playwright, expect
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_purchase
from tests.fixtures.dashboard import CHROMIUM_ARGS
from tests.payment.conftest import Person, Shop, log_in
from tests.payment.sales import (
    cob_of,
    flash,
    other_dashboard,
    paid_charge,
    refunds_at_psp,
    row_buttons,
    static_charge,
)
from tgadmin.db import session_scope
from tgadmin.models import AuditLog
from tgadmin.models.enums import OperatorRole, PurchaseStatus, TransactionStatus
from tgadmin.operator.auth import SESSION_COOKIE
from tgadmin.payment import bot as payment_bot
from tgadmin.payment import refunds, repository, stars
from tgadmin.payment.repository import SaleRow
from tgadmin.pix.providers.static import StaticPixProvider
from tgadmin.telegram.bots import register_from_token

# --- each action end to end -------------------------------------------------------------------


async def test_static_payment_confirmed_through_the_api_is_paid_audited_and_delivered_once(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    operator = people[OperatorRole.OPERATOR]
    tx = await static_charge(shop, static_psp)
    answer = await operator.act(tx.id, "confirm", end_to_end_id="E12345678202611231200abcdefghijk")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["result"], body["delivering"]) == ("confirmed", [tx.purchase_id])
    assert body["transaction"]["status"] == "paid" and body["transaction"]["actions"] == []
    paid = await shop.tx(tx.id)
    assert paid.status == TransactionStatus.PAID and paid.end_to_end_id == "E12345678202611231200abcdefghijk"
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]
    async with shop.sessions() as session:
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "payment.confirmed"))
    assert entry is not None and entry.actor_label is not None and entry.actor_label.startswith("op")

    again = await operator.act(tx.id, "confirm")
    assert again.json()["result"] == "already_paid" and again.json()["delivering"] == []
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]

    odd = await static_charge(shop, static_psp)
    mismatch = await operator.act(odd.id, "confirm", amount_cents=990)
    assert (
        mismatch.json()["result"] == "amount_mismatch" and "flagged for refund" in mismatch.json()["message"]
    )
    assert mismatch.json()["transaction"]["needs_refund"] is True
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]
    refused = await operator.act(odd.id, "confirm", amount_cents=-5)
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_input" and "amount_cents" in refused.json()["message"]


async def test_a_request_that_fails_after_its_action_is_rolled_back_and_enqueues_no_delivery(
    shop: Shop,
    people: dict[OperatorRole | None, Person],
    static_psp: StaticPixProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fault: reading the transaction back for the answer (the real `payment.repository.sale`,
    monkeypatched) fails once, after the confirmation asked for its delivery after the commit. The
    request's unit of work rolls back, so its after-commit hook never runs."""
    operator = people[OperatorRole.OPERATOR]
    tx = await static_charge(shop, static_psp)
    real = repository.sale
    failed: list[int] = []

    async def flaky(session: AsyncSession, transaction_id: int) -> SaleRow | None:
        if not failed:
            failed.append(transaction_id)
            raise OperationalError("SELECT transactions", {}, ConnectionError("database is down"))
        return await real(session, transaction_id)

    monkeypatch.setattr(repository, "sale", flaky)
    answer = await operator.act(tx.id, "confirm")
    assert answer.status_code == 500 and failed == [tx.id]
    assert (await shop.tx(tx.id)).status == TransactionStatus.PENDING
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.PENDING
    assert await shop.deliveries() == []

    again = await operator.act(tx.id, "confirm")
    assert again.status_code == 200 and again.json()["result"] == "confirmed"
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]


async def test_static_payment_confirmed_and_refunded_from_the_sales_page(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    operator, admin = people[OperatorRole.OPERATOR], people[OperatorRole.ADMIN]
    tx = await static_charge(shop, static_psp)
    odd = await static_charge(shop, static_psp)
    await operator.press(tx.id, "confirm", end_to_end_id="", amount="19,90")
    assert "payment confirmed" in await flash(operator)
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]
    await operator.press(odd.id, "confirm", amount="dezenove")
    assert await flash(operator) == f"Transaction #{odd.id}: 'dezenove' is not an amount in reais like 19,90"
    assert (await shop.tx(odd.id)).status == TransactionStatus.PENDING
    await operator.press(odd.id, "confirm", amount="R$ 9,90")
    assert "amount paid differs from the charge" in await flash(operator)
    flagged = await shop.tx(odd.id)
    assert flagged.needs_refund and flagged.paid_amount_cents == 990

    page = (await admin.http.get("/sales", params={"flagged": "1"})).text
    assert f'<tr id="tx-{odd.id}"' in page and f'<tr id="tx-{tx.id}"' not in page
    assert row_buttons(page, odd.id) == {"refund"}
    await admin.press(odd.id, "refund")
    assert "refunded" in await flash(admin)
    await admin.press(tx.id, "refund")
    assert "refunded" in await flash(admin)
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.REFUNDED
    assert not (await shop.tx(odd.id)).needs_refund
    assert await refunds_at_psp(shop, await shop.charge()) == []  # static: nothing asked of any PSP


async def test_admin_refund_through_the_api_is_refunded_only_once_the_psp_confirms(shop: Shop) -> None:
    """The PSP keeps the refund EM_PROCESSAMENTO: the API answers "pending" and the purchase keeps
    its access; asking again meanwhile changes nothing; the PSP's callback at DEVOLVIDO settles it."""
    tx = await paid_charge(shop)
    admin = await log_in(shop, OperatorRole.ADMIN)
    await shop.sandbox.freeze()
    held = await shop.sandbox.control.post("/sandbox/pix/settings", json={"refund_processing_seconds": 60})
    held.raise_for_status()
    try:
        pending = await admin.act(tx.id, "refund")
        assert pending.status_code == 202 and pending.json()["result"] == "refund_pending"
        row = await shop.tx(tx.id)
        assert row.status == TransactionStatus.PAID and row.refund_id == refunds.refund_id_for(tx)
        assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID
        assert pending.json()["transaction"]["actions"] == ["refund"]  # asking again confirms it

        still = await admin.act(tx.id, "refund")
        assert still.status_code == 202 and still.json()["result"] == "refund_pending"
        assert (await shop.tx(tx.id)).status == TransactionStatus.PAID

        await shop.sandbox.advance(61)
        await shop.wait_for(tx.id, "status", TransactionStatus.REFUNDED)
        again = await admin.act(tx.id, "refund")
        assert again.status_code == 409 and "already refunded" in again.json()["message"]
    finally:
        await shop.sandbox.control.post("/sandbox/pix/settings", json={"refund_processing_seconds": 0})
        await shop.sandbox.freeze(False)
        await admin.http.aclose()
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.REFUNDED
    assert [(r["valor"], r["status"]) for r in await refunds_at_psp(shop, tx)] == [("19.90", "DEVOLVIDO")]


async def test_pay_in_sandbox_is_confirmed_by_the_psp_notification_and_delivered(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    operator = people[OperatorRole.OPERATOR]
    tx = await shop.charge()
    answer = await operator.act(tx.id, "sandbox-pay")
    assert answer.status_code == 202 and answer.json()["result"] == "paid_at_sandbox"
    assert "its notification confirms it" in answer.json()["message"]
    paid = await shop.wait_for(tx.id, "status", TransactionStatus.PAID)
    assert paid.end_to_end_id == (await cob_of(shop, tx))["pix"][0]["endToEndId"]
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID
    assert [event.provider for event in await shop.events()] == ["sandbox"]
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]

    twice = await operator.act(tx.id, "sandbox-pay")
    assert twice.status_code == 409 and "only a pending charge can be paid" in twice.json()["message"]
    static = await static_charge(shop, static_psp)
    wrong = await operator.act(static.id, "sandbox-pay")
    assert wrong.status_code == 409 and "not a charge of the sandbox PSP" in wrong.json()["message"]
    assert len((await cob_of(shop, tx))["pix"]) == 1


async def test_pay_in_sandbox_without_a_registered_webhook_says_polling_confirms_it(
    shop: Shop, people: dict[OperatorRole | None, Person]
) -> None:
    tx = await shop.charge()
    token = await shop.sandbox.control.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("tgadmin", "sandbox")
    )
    removed = await shop.sandbox.control.delete(
        f"/v2/webhook/{shop.psp.pix_key}", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert removed.status_code == 204  # API Pix: DELETE /webhook answers 204 without a body
    operator = people[OperatorRole.OPERATOR]
    assert (await operator.press(tx.id, "sandbox-pay")).status_code == 303
    assert "no webhook is registered at the sandbox PSP, so polling confirms it" in await flash(operator)
    assert len((await cob_of(shop, tx))["pix"]) == 1
    assert (await shop.tx(tx.id)).status == TransactionStatus.PENDING  # until the next poll


async def test_pay_in_sandbox_is_refused_when_the_psp_is_not_the_sandbox(shop: Shop) -> None:
    tx = await shop.charge()
    async with other_dashboard(shop, pix_provider="static", pix_key="fulano@example.com") as url:
        operator = await log_in(shop, OperatorRole.OPERATOR, base_url=url)
        try:
            answer = await operator.act(tx.id, "sandbox-pay")
            assert answer.status_code == 409
            assert "only while PIX_PROVIDER is sandbox; here it is static" in answer.json()["message"]
            page = await operator.http.get("/sales")
            assert row_buttons(page.text, tx.id) == set()
        finally:
            await operator.http.aclose()
    assert "pix" not in await cob_of(shop, tx)


async def test_stars_refund_goes_through_the_bot_that_received_them(
    shop: Shop, people: dict[OperatorRole | None, Person]
) -> None:
    await shop.sandbox.configure(enforce_limits=False)
    tg = await shop.sandbox.create_bot("shop_bot")
    buyer = await shop.sandbox.create_user("Ana")
    await shop.sandbox.user_says(buyer, "/start")
    async with session_scope(shop.sessions) as session:
        record = (await register_from_token(session, tg.token, shop.settings)).bot
        purchase = await make_purchase(session, stars_price=150, buyer_telegram_id=buyer)
        purchase.bot_id = record.id
        invoice = await stars.create_stars_invoice(session, purchase.id)
    message = await payment_bot.send_stars_invoice(tg.bot, buyer, invoice)
    paying = asyncio.create_task(shop.sandbox.pay(buyer, message.message_id))
    query = None
    while query is None:
        updates = await tg.bot.get_updates(timeout=5, allowed_updates=["pre_checkout_query"])
        query = next((u.pre_checkout_query for u in updates if u.pre_checkout_query), None)
    await tg.bot.answer_pre_checkout_query(query.id, ok=True)
    charge_id = (await paying)["telegram_payment_charge_id"]
    async with session_scope(shop.sessions) as session:
        await stars.record_stars_payment(
            session, payload=invoice.payload, currency="XTR", total_amount=150, charge_id=charge_id
        )

    assert (await people[OperatorRole.OPERATOR].act(invoice.transaction_id, "refund")).status_code == 403
    answer = await people[OperatorRole.ADMIN].act(invoice.transaction_id, "refund")
    assert answer.status_code == 200 and answer.json()["result"] == "refunded"
    assert answer.json()["transaction"]["status"] == "refunded"
    assert (await shop.purchase_of(await shop.tx(invoice.transaction_id))).status == PurchaseStatus.REFUNDED
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await tg.bot.refund_star_payment(buyer, charge_id)  # Telegram gave the Stars back already


# --- in a browser -----------------------------------------------------------------------------


async def test_pay_in_sandbox_button_gets_the_charge_paid_in_chromium(shop: Shop) -> None:
    tx = await shop.charge()
    operator = await log_in(shop, OperatorRole.OPERATOR)
    await operator.http.aclose()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            await context.add_cookies(
                [{"name": SESSION_COOKIE, "value": operator.session_token, "url": shop.base_url}]
            )
            page = await context.new_page()
            await page.goto(f"{shop.base_url}/sales")
            row = page.locator(f"#tx-{tx.id}")
            await expect(row.locator(".status")).to_have_text("pending")
            await row.get_by_role("button", name="Pay in sandbox").click()
            await expect(page.get_by_role("status")).to_contain_text("the sandbox bank paid it")
            # The page reloads itself once the PSP's notification has had a moment to arrive.
            await expect(row.locator(".status")).to_have_text("paid", timeout=15_000)
            await expect(row.get_by_role("button", name="Pay in sandbox")).to_have_count(0)
        finally:
            await browser.close()
    assert (await shop.tx(tx.id)).status == TransactionStatus.PAID
