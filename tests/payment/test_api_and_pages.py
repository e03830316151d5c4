"""Sales for operators: the JSON API (/api/v1/transactions...) and the dashboard's Sales page, over
real HTTP against the dashboard served by uvicorn (PostgreSQL and SQLite), the sandbox PSP, real
Redis for delivery jobs, and the Telegram sandbox for Stars. Every route against every role,
CSRF on every state change, and each action end to end."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiogram.exceptions import TelegramBadRequest
from playwright.async_api import async_playwright, expect
from sqlalchemy import select

from tests.factories import make_operator, make_purchase
from tests.payment.conftest import Shop, serve_app, shop_settings
from tgadmin.db import session_scope
from tgadmin.models import AuditLog, Transaction
from tgadmin.models.enums import OperatorRole, PurchaseStatus, TransactionStatus
from tgadmin.operator import service as operators
from tgadmin.operator.auth import SESSION_COOKIE, csrf_for_session
from tgadmin.payment import bot as payment_bot
from tgadmin.payment import service, stars
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.pix.providers.static import StaticPixProvider
from tgadmin.redis import free_port
from tgadmin.telegram.bots import register_from_token
from tgadmin.web.app import create_app

ROLES = (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


@dataclass
class Person:
    """A logged-in dashboard user (or nobody, with `csrf` empty)."""

    http: httpx.AsyncClient
    csrf: str
    session_token: str = ""

    async def act(self, tx_id: int, action: str, *, csrf: str | None = None, **body: Any) -> httpx.Response:
        """POST /api/v1/transactions/{id}/{action} with the CSRF header (or the one given)."""
        token = self.csrf if csrf is None else csrf
        headers = {"X-CSRF-Token": token} if token else {}
        return await self.http.post(
            f"/api/v1/transactions/{tx_id}/{action}", json=body or None, headers=headers
        )

    async def press(
        self, tx_id: int, action: str, *, csrf: str | None = None, **fields: str
    ) -> httpx.Response:
        """Submit a Sales page form (not following the redirect)."""
        data = {"csrf": self.csrf if csrf is None else csrf, **fields}
        return await self.http.post(f"/sales/transactions/{tx_id}/{action}", data=data)


@pytest.fixture
async def people(shop: Shop) -> AsyncIterator[dict[OperatorRole | None, Person]]:
    """Anonymous (None) and one logged-in person per role, on the shop's dashboard."""
    found: dict[OperatorRole | None, Person] = {
        None: Person(httpx.AsyncClient(base_url=shop.base_url, trust_env=False, timeout=30), "")
    }
    for role in ROLES:
        found[role] = await log_in(shop, role)
    try:
        yield found
    finally:
        for person in found.values():
            await person.http.aclose()


async def log_in(shop: Shop, role: OperatorRole, base_url: str | None = None) -> Person:
    async with session_scope(shop.sessions) as session:
        operator = await make_operator(session, role)
        link = await operators.issue_magic_link(session, operator)
        login = await operators.consume_magic_link(session, link.token)
    http = httpx.AsyncClient(base_url=base_url or shop.base_url, trust_env=False, timeout=30)
    http.cookies.set(SESSION_COOKIE, login.token)
    return Person(http, csrf_for_session(shop.settings, login.token), login.token)


@pytest.fixture
def static_psp() -> StaticPixProvider:
    return StaticPixProvider(pix_key="fulano@example.com", merchant_name="Loja Teste", merchant_city="Recife")


async def static_charge(shop: Shop, psp: StaticPixProvider) -> Transaction:
    purchase = await shop.purchase()
    async with session_scope(shop.sessions) as session:
        return await service.create_pix_charge(session, psp, purchase.id, expires_minutes=30)


async def paid_charge(shop: Shop) -> Transaction:
    """A sandbox charge paid at the bank and confirmed by the PSP's notification to our webhook."""
    tx = await shop.charge()
    await shop.bank_pays(tx)
    return await shop.wait_for(tx.id, "status", TransactionStatus.PAID)


async def refunds_at_psp(shop: Shop, tx: Transaction) -> list[dict[str, Any]]:
    cob = await cob_of(shop, tx)
    return [dict(r) for pix in cob.get("pix", []) for r in pix.get("devolucoes", [])]


async def cob_of(shop: Shop, tx: Transaction) -> dict[str, Any]:
    charges = (await shop.sandbox.control.get("/sandbox/pix/charges")).json()["charges"]
    found: dict[str, Any] = next(c for c in charges if c["txid"] == tx.provider_txid)
    return found


def row_buttons(html: str, tx_id: int) -> set[str]:
    """The action forms in transaction `tx_id`'s row of the Sales page."""
    start = html.index(f'<tr id="tx-{tx_id}"')
    end = html.find("</tr>", start)
    row = html[start:end]
    return {name for name in ("confirm", "sandbox-pay", "refund") if f'/{tx_id}/{name}"' in row}


async def flash(person: Person) -> str:
    """The one-time message the Sales page shows after a form (and consumes)."""
    page = await person.http.get("/sales")
    assert page.status_code == 200
    match = re.search(r'<div class="notice[^"]*" role="status">([^<]*)</div>', page.text)
    return match.group(1).replace("&#39;", "'") if match else ""


@asynccontextmanager
async def other_dashboard(
    shop: Shop, provider: SandboxProvider | None = None, **overrides: Any
) -> AsyncIterator[str]:
    """A second dashboard process on the same database: other settings, or another PSP client."""
    port = free_port()
    settings = shop_settings(
        shop.settings.database_url, shop.settings.redis_prefix, shop.sandbox.url, port, **overrides
    )
    app = create_app(settings)
    if provider is not None:
        app.state.payments = PaymentRuntime(settings, provider=provider)
    async with serve_app(app, port) as url:
        yield url


# --- every route, every role ------------------------------------------------------------------


async def test_reads_need_a_login_and_any_role(shop: Shop, people: dict[OperatorRole | None, Person]) -> None:
    tx = await shop.charge()
    nobody = people[None]
    assert (await nobody.http.get("/api/v1/transactions")).status_code == 401
    refused = await nobody.http.get(f"/api/v1/transactions/{tx.id}")
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    assert (await nobody.http.get(f"/api/v1/transactions/{tx.id}/qr.png")).status_code == 401
    page = await nobody.http.get("/sales")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    for role in ROLES:
        person = people[role]
        listing = await person.http.get("/api/v1/transactions")
        assert listing.status_code == 200 and [item["id"] for item in listing.json()["items"]] == [tx.id]
        one = await person.http.get(f"/api/v1/transactions/{tx.id}")
        assert one.status_code == 200 and one.json()["status"] == "pending"
        qr = await person.http.get(f"/api/v1/transactions/{tx.id}/qr.png")
        assert qr.status_code == 200 and qr.content.startswith(b"\x89PNG")
        sales = await person.http.get("/sales")
        assert sales.status_code == 200 and f'<tr id="tx-{tx.id}"' in sales.text


async def test_actions_through_the_api_are_allowed_by_role_only(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    static = await static_charge(shop, static_psp)
    pending = await shop.charge()
    paid = await paid_charge(shop)
    for who in (None, OperatorRole.VIEWER):
        expected = 401 if who is None else 403
        for tx, action in ((static, "confirm"), (pending, "sandbox-pay"), (paid, "refund")):
            answer = await people[who].act(tx.id, action)
            assert answer.status_code == expected, (who, action, answer.text)
    operator = people[OperatorRole.OPERATOR]
    refused = await operator.act(paid.id, "refund")
    assert refused.status_code == 403 and "needs the admin role" in refused.json()["message"]
    # Nothing the refused calls asked for happened.
    assert (await shop.tx(static.id)).status == TransactionStatus.PENDING
    assert (await shop.tx(paid.id)).status == TransactionStatus.PAID and await refunds_at_psp(
        shop, paid
    ) == []
    assert "pix" not in await cob_of(shop, pending)

    assert (await operator.act(static.id, "confirm")).json()["result"] == "confirmed"
    assert (await operator.act(pending.id, "sandbox-pay")).status_code == 202
    # SQLite: a unit of work that reads, calls a PSP, then writes fails if the webhook commits meanwhile.
    await shop.wait_for(pending.id, "status", TransactionStatus.PAID)
    admin = people[OperatorRole.ADMIN]
    assert (await admin.act(static.id, "confirm")).json()["result"] == "already_paid"
    another = await shop.charge()
    assert (await admin.act(another.id, "sandbox-pay")).status_code == 202
    await shop.wait_for(another.id, "status", TransactionStatus.PAID)
    refunded = await admin.act(paid.id, "refund")
    assert refunded.status_code == 200 and refunded.json()["result"] == "refunded"


async def test_sales_page_forms_are_allowed_by_role_only(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    static = await static_charge(shop, static_psp)
    pending = await shop.charge()
    paid = await paid_charge(shop)
    forms = ((static, "confirm", "operator"), (pending, "sandbox-pay", "operator"), (paid, "refund", "admin"))
    for tx, action, needed in forms:
        away = await people[None].press(tx.id, action)
        assert away.status_code == 303 and away.headers["location"] == "/login"
        refused = await people[OperatorRole.VIEWER].press(tx.id, action)
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
        assert f"needs the {needed} role; you are viewer" in refused.text
    operator = people[OperatorRole.OPERATOR]
    refused = await operator.press(paid.id, "refund")
    assert refused.status_code == 403 and "needs the admin role" in refused.text
    assert (await shop.tx(static.id)).status == TransactionStatus.PENDING
    assert (await shop.tx(paid.id)).status == TransactionStatus.PAID and await refunds_at_psp(
        shop, paid
    ) == []
    assert "pix" not in await cob_of(shop, pending)

    done = await operator.press(static.id, "confirm")
    assert done.status_code == 303 and done.headers["location"] == "/sales"
    assert (
        await flash(operator)
        == f"Transaction #{static.id}: payment confirmed: the purchase is paid and its delivery is queued"
    )
    assert await flash(operator) == ""  # shown once
    assert (await operator.press(pending.id, "sandbox-pay")).status_code == 303
    assert "the sandbox bank paid it" in await flash(operator)
    await shop.wait_for(pending.id, "status", TransactionStatus.PAID)
    admin = people[OperatorRole.ADMIN]
    assert (await admin.press(paid.id, "refund", back="status=paid&page=1&evil=https://x")).headers[
        "location"
    ] == "/sales?status=paid&page=1"
    assert await flash(admin) == f"Transaction #{paid.id}: refunded: the money went back to the buyer"


async def test_state_changes_without_the_csrf_token_are_refused_and_change_nothing(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    admin = people[OperatorRole.ADMIN]
    other_token = people[OperatorRole.OPERATOR].csrf  # valid, but for another session
    static = await static_charge(shop, static_psp)
    pending = await shop.charge()
    paid = await paid_charge(shop)
    for tx, action in ((static, "confirm"), (pending, "sandbox-pay"), (paid, "refund")):
        for token in ("", "forged", other_token):
            answer = await admin.act(tx.id, action, csrf=token)
            assert answer.status_code == 403, (action, token)
            assert answer.json()["error"] == "forbidden" and "reload the page" in answer.json()["message"]
            form = await admin.press(tx.id, action, csrf=token)
            assert form.status_code == 403 and "reload the page" in form.text
    assert (await shop.tx(static.id)).status == TransactionStatus.PENDING
    assert (await shop.tx(pending.id)).status == TransactionStatus.PENDING
    assert "pix" not in await cob_of(shop, pending)
    assert (await shop.tx(paid.id)).status == TransactionStatus.PAID and await refunds_at_psp(
        shop, paid
    ) == []
    assert [job["purchaseId"] for job in await shop.deliveries()] == [paid.purchase_id]


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
        assert row.status == TransactionStatus.PAID and row.refund_id == service.refund_id_for(tx)
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


async def test_unknown_transactions_and_wrong_methods_get_clear_answers(
    shop: Shop, people: dict[OperatorRole | None, Person]
) -> None:
    admin = people[OperatorRole.ADMIN]
    missing = await admin.http.get("/api/v1/transactions/987654")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "transaction 987654 does not exist"}
    for action in ("confirm", "refund", "sandbox-pay"):
        assert (await admin.act(987654, action)).status_code == 404
    tx = await shop.charge()
    by_psp = await admin.act(tx.id, "confirm")
    assert by_psp.status_code == 400 and "the PSP confirms it, not an operator" in by_psp.json()["message"]
    unpaid = await admin.act(tx.id, "refund")
    assert unpaid.status_code == 409 and "there is no payment to refund" in unpaid.json()["message"]
    no_qr = await shop.purchase(stars_price=150)
    async with session_scope(shop.sessions) as session:
        invoice = await stars.create_stars_invoice(session, no_qr.id)
    assert (await admin.http.get(f"/api/v1/transactions/{invoice.transaction_id}/qr.png")).status_code == 404
    # The page's forms say it in words, on the page.
    await admin.press(987654, "refund")
    assert await flash(admin) == "Transaction #987654: transaction 987654 does not exist"
    await admin.press(tx.id, "confirm")
    assert "the PSP confirms it, not an operator" in await flash(admin)


async def test_sales_page_offers_the_buttons_each_role_may_press(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    static = await static_charge(shop, static_psp)
    pending = await shop.charge()
    paid = await paid_charge(shop)
    expected: dict[OperatorRole, dict[int, set[str]]] = {
        OperatorRole.VIEWER: {static.id: set(), pending.id: set(), paid.id: set()},
        OperatorRole.OPERATOR: {static.id: {"confirm"}, pending.id: {"sandbox-pay"}, paid.id: set()},
        OperatorRole.ADMIN: {static.id: {"confirm"}, pending.id: {"sandbox-pay"}, paid.id: {"refund"}},
    }
    for role, rows in expected.items():
        page = await people[role].http.get("/sales")
        assert page.status_code == 200 and 'href="/sales"' in page.text
        assert {tx_id: row_buttons(page.text, tx_id) for tx_id in rows} == rows, role
        api = (await people[role].http.get("/api/v1/transactions")).json()["items"]
        names = {"confirm": "confirm", "sandbox_pay": "sandbox-pay", "refund": "refund"}
        assert {item["id"]: {names[a] for a in item["actions"]} for item in api} == rows, role


async def test_transactions_are_listed_newest_first_filtered_and_paged(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    viewer = people[OperatorRole.VIEWER]
    first = await shop.charge()
    paid = await paid_charge(shop)
    static = await static_charge(shop, static_psp)
    listing = (await viewer.http.get("/api/v1/transactions")).json()
    assert [item["id"] for item in listing["items"]] == [static.id, paid.id, first.id]
    assert listing["total"] == 3
    item = listing["items"][1]
    assert (item["buyer"]["name"], item["product"]["title"], item["amount_cents"]) == (
        "Ana",
        "Pack Verão",
        1990,
    )
    by_status = (await viewer.http.get("/api/v1/transactions", params={"status": "paid"})).json()
    assert [item["id"] for item in by_status["items"]] == [paid.id]
    page_two = (await viewer.http.get("/api/v1/transactions", params={"limit": 1, "offset": 1})).json()
    assert [item["id"] for item in page_two["items"]] == [paid.id] and page_two["total"] == 3
    flagged = (await viewer.http.get("/api/v1/transactions", params={"needs_refund": "true"})).json()
    assert flagged["items"] == [] and flagged["total"] == 0
    stars_only = (await viewer.http.get("/api/v1/transactions", params={"method": "stars"})).json()
    assert stars_only["total"] == 0
    assert (await viewer.http.get("/api/v1/transactions", params={"status": "nope"})).status_code == 422
    html = (await viewer.http.get("/sales", params={"status": "pending"})).text
    assert f'<tr id="tx-{first.id}"' in html and f'<tr id="tx-{paid.id}"' not in html
    assert "R$ 19,90" in html


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
