"""Sales for operators, who may do what: the JSON API (/api/v1/transactions...) and the dashboard's
Sales page over real HTTP against the dashboard served by uvicorn (PostgreSQL and SQLite). Every
route against every role, CSRF on every state change, clear answers, listing and paging."""

from __future__ import annotations

from tests.payment.conftest import ROLES, Person, Shop
from tests.payment.sales import (
    cob_of,
    flash,
    paid_charge,
    refunds_at_psp,
    row_buttons,
    static_charge,
)
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole, TransactionStatus
from tgadmin.payment import stars
from tgadmin.pix.providers.static import StaticPixProvider
from tgadmin.webkit.i18n import LANG_COOKIE

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


async def test_the_sales_flash_follows_the_language_of_the_page_that_shows_it(
    shop: Shop, people: dict[OperatorRole | None, Person], static_psp: StaticPixProvider
) -> None:
    paid = await paid_charge(shop)
    static = await static_charge(shop, static_psp)
    admin = people[OperatorRole.ADMIN]
    admin.http.cookies.set(LANG_COOKIE, "pt")
    await admin.press(paid.id, "refund")
    assert await flash(admin) == f"Transação #{paid.id}: reembolsada: o dinheiro voltou ao comprador"
    # A service's refusal is English still, inside the Portuguese frame.
    await admin.press(987654, "refund")
    assert await flash(admin) == "Transação #987654: transaction 987654 does not exist"
    # Posted from a Portuguese page, read on an English one.
    await admin.press(static.id, "confirm")
    admin.http.cookies.set(LANG_COOKIE, "en")
    assert await flash(admin) == (
        f"Transaction #{static.id}: payment confirmed: the purchase is paid and its delivery is queued"
    )


async def test_the_sales_page_reads_in_portuguese_by_default_and_in_english_on_request(
    shop: Shop, people: dict[OperatorRole | None, Person]
) -> None:
    paid = await paid_charge(shop)
    admin = people[OperatorRole.ADMIN]
    admin.http.cookies.set(LANG_COOKIE, "pt")
    page = (await admin.http.get("/sales")).text
    assert "<h1>Vendas</h1>" in page and ">Reembolsar</button>" in page
    assert f'<tr id="tx-{paid.id}"' in page and 'status">paga</span>' in page
    assert "Devolver este pagamento ao comprador?" in page and "Refund" not in page
    missing = await admin.http.get("/creators/987654")
    admin.http.cookies.set(LANG_COOKIE, "en")
    page = (await admin.http.get("/sales")).text
    assert "<h1>Sales</h1>" in page and ">Refund</button>" in page and 'status">paid</span>' in page
    assert "Reembolsar" not in page and "Voltar" not in page
    assert missing.status_code == 404
    assert "<h1>Não encontrado</h1>" in missing.text and "Voltar à visão geral" in missing.text


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
