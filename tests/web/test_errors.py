"""Bad input is a 4xx in the one error shape, never a 500: ids and offsets past 64 bits, page numbers
that are not small numbers, non-ASCII CSRF tokens, bodies that are not UTF-8 or not JSON, routes and
methods that do not exist. The API answers `{error, message, details?}` JSON, pages the error page;
the OpenAPI document says so (on PostgreSQL and SQLite, through the dashboard app)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import make_operator, make_purchase, make_transaction
from tgadmin.config import load_settings
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service as operators
from tgadmin.operator.auth import SESSION_COOKIE, csrf_for_session
from tgadmin.web.app import create_app

PAST_INT64 = 2**63
INT64_MAX = 2**63 - 1


@dataclass
class Dashboard:
    app: FastAPI
    http: httpx.AsyncClient
    csrf: str
    tx_id: int

    def json_headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, "Content-Type": "application/json"}


@pytest.fixture
async def dashboard(fresh_db_url: str) -> AsyncIterator[Dashboard]:
    """The dashboard app with an admin logged in (static PIX, so nothing leaves the process)."""
    settings = load_settings(database_url=fresh_db_url, pix_provider="static", pix_key="loja@example.com")
    app = create_app(settings)
    async with session_scope(app.state.tgadmin.sessions) as session:
        operator = await make_operator(session, OperatorRole.ADMIN)
        link = await operators.issue_magic_link(session, operator)
        login = await operators.consume_magic_link(session, link.token)
        tx = await make_transaction(session, await make_purchase(session), provider="static")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard.test") as http:
        http.cookies.set(SESSION_COOKIE, login.token)
        yield Dashboard(app, http, csrf_for_session(settings, login.token), tx.id)
    await app.state.tgadmin.stop()


def assert_refusal(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """The API's one error shape: exactly {error, message} (and details when there are some)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["error"] == error and body["message"]
    assert set(body) <= {"error", "message", "details"}
    return body


async def test_ids_and_offsets_past_64_bits_are_refused_as_invalid_input(dashboard: Dashboard) -> None:
    http = dashboard.http
    offset = assert_refusal(await http.get(f"/api/v1/transactions?offset={PAST_INT64}"), 422, "invalid_input")
    assert offset["details"]["problems"][0]["where"] == "query.offset"
    for path in (f"/api/v1/transactions/{PAST_INT64}", f"/api/v1/transactions/{PAST_INT64}/qr.png"):
        body = assert_refusal(await http.get(path), 422, "invalid_input")
        assert "path.transaction_id" in body["message"]
    for action in ("confirm", "refund", "sandbox-pay"):
        answer = await http.post(
            f"/api/v1/transactions/{PAST_INT64}/{action}", headers={"X-CSRF-Token": dashboard.csrf}
        )
        assert_refusal(answer, 422, "invalid_input")
        form = await http.post(f"/sales/transactions/{PAST_INT64}/{action}", data={"csrf": dashboard.csrf})
        assert form.status_code == 422 and "text/html" in form.headers["content-type"]
    # The largest id and offset the database holds are fine: nothing there, nothing listed.
    assert (await http.get(f"/api/v1/transactions?offset={INT64_MAX}")).json()["items"] == []
    missing = await http.get(f"/api/v1/transactions/{INT64_MAX}")
    assert_refusal(missing, 404, "not_found")
    assert (await http.get("/api/v1/transactions/0")).status_code == 422


async def test_sales_page_numbers_that_are_not_small_numbers_get_the_error_page(
    dashboard: Dashboard,
) -> None:
    for page in ("²", "9" * 20, "0", "-1", "abc"):
        answer = await dashboard.http.get("/sales", params={"page": page})
        assert answer.status_code == 422, page
        assert "text/html" in answer.headers["content-type"] and "query.page" in answer.text
    listing = await dashboard.http.get("/sales", params={"page": "1"})
    assert listing.status_code == 200 and f'<tr id="tx-{dashboard.tx_id}"' in listing.text


async def test_non_ascii_csrf_tokens_are_refused_not_crashed(dashboard: Dashboard) -> None:
    http = dashboard.http
    # A header arrives as Latin-1 bytes; a form field as any text.
    for token in ("é".encode("latin-1"), "ÿ".encode("latin-1") * 64, "€".encode()):
        answer = await http.post(
            f"/api/v1/transactions/{dashboard.tx_id}/confirm", headers={b"X-CSRF-Token": token}
        )
        assert "reload the page" in assert_refusal(answer, 403, "forbidden")["message"]
    form = await http.post(f"/sales/transactions/{dashboard.tx_id}/confirm", data={"csrf": "ç€😀"})
    assert form.status_code == 403 and "reload the page" in form.text
    logout = await http.post("/logout", data={"csrf": "não"})
    assert logout.status_code == 403
    await http.get("/login")  # sets the login form's double-submit cookie
    login = await http.post("/login", data={"email": "ops@example.com", "csrf": "ação"})
    assert login.status_code == 403 and "login form expired" in login.text
    assert (await http.get("/")).status_code == 200  # still logged in, nothing confirmed
    assert (await http.get(f"/api/v1/transactions/{dashboard.tx_id}")).json()["status"] == "pending"


async def test_bodies_that_are_not_utf8_or_not_json_answer_in_the_error_shape(dashboard: Dashboard) -> None:
    url = f"/api/v1/transactions/{dashboard.tx_id}/confirm"
    headers = dashboard.json_headers()
    not_utf8 = await dashboard.http.post(url, content=b'{"amount_cents": "\xff\xfe"}', headers=headers)
    assert "UTF-8" in assert_refusal(not_utf8, 400, "bad_request")["message"]
    not_json = await dashboard.http.post(url, content=b"{amount_cents: 5", headers=headers)
    body = assert_refusal(not_json, 422, "invalid_input")
    assert body["details"]["problems"][0]["where"] == "body" and "not valid JSON" in body["message"]
    wrong = await dashboard.http.post(url, json={"amount_cents": 2**31}, headers=headers)
    assert "amount_cents" in assert_refusal(wrong, 422, "invalid_input")["message"]
    odd_id = await dashboard.http.post(url, json={"end_to_end_id": "E1\x07"}, headers=headers)
    assert "end_to_end_id" in assert_refusal(odd_id, 422, "invalid_input")["message"]
    nul = await dashboard.http.post(url, json={"end_to_end_id": "E1\x00"}, headers=headers)
    assert "NUL" in assert_refusal(nul, 422, "invalid_input")["message"]  # before any route reads it
    assert (await dashboard.http.get(f"/api/v1/transactions/{dashboard.tx_id}")).json()["status"] == "pending"


async def test_static_confirmation_from_the_page_with_amounts_or_ids_the_database_cannot_hold_says_why(
    dashboard: Dashboard,
) -> None:
    url = f"/sales/transactions/{dashboard.tx_id}/confirm"
    for fields, reason in (
        ({"amount": "99999999999999999999,00"}, "at most 2147483647"),
        ({"end_to_end_id": "E1\x07"}, "is not an end-to-end id"),
    ):
        answer = await dashboard.http.post(url, data={"csrf": dashboard.csrf, **fields})
        assert answer.status_code == 303
        page = await dashboard.http.get("/sales")
        assert reason in page.text
    nul = await dashboard.http.post(url, data={"csrf": dashboard.csrf, "end_to_end_id": "E1\x00"})
    assert nul.status_code == 422 and "NUL" in nul.text
    assert (await dashboard.http.get(f"/api/v1/transactions/{dashboard.tx_id}")).json()["status"] == "pending"


async def test_unknown_routes_and_methods_answer_in_the_error_shape(dashboard: Dashboard) -> None:
    http = dashboard.http
    missing = assert_refusal(await http.get("/api/v1/nothing-here"), 404, "not_found")
    assert missing["message"] == "there is nothing at /api/v1/nothing-here"
    wrong_method = await http.delete("/api/v1/transactions")
    assert assert_refusal(wrong_method, 405, "method_not_allowed")["message"] == (
        "DELETE is not allowed here; use GET"
    )
    assert wrong_method.headers["allow"] == "GET"
    assert_refusal(await http.get("/webhooks/pix/static"), 405, "method_not_allowed")
    page = await http.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "there is nothing at /no-such-page" in page.text


async def test_an_unexpected_failure_is_a_500_in_the_error_shape_without_the_stack(
    dashboard: Dashboard,
) -> None:
    async def broken() -> None:
        raise RuntimeError("secret internals")

    dashboard.app.add_api_route("/api/v1/broken", broken)
    answer = await dashboard.http.get("/api/v1/broken")
    body = assert_refusal(answer, 500, "internal_error")
    assert "secret internals" not in answer.text and "logged" in body["message"]


async def test_openapi_document_describes_every_refusal_in_the_one_shape(dashboard: Dashboard) -> None:
    document = (await dashboard.http.get("/api/v1/openapi.json")).json()
    assert "HTTPValidationError" not in str(document) and "ErrorRead" in document["components"]["schemas"]
    error_ref = {"$ref": "#/components/schemas/ErrorRead"}
    operations = [
        (path, method, op) for path, item in document["paths"].items() for method, op in item.items()
    ]
    assert len(operations) >= 6
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in [s for s in responses if s.startswith(("4", "5"))]:
            assert responses[status]["content"]["application/json"]["schema"] == error_ref, (path, status)
        if operation.get("parameters"):
            assert "422" in responses, (path, method)
        if "requestBody" in operation:
            assert {"400", "422"} <= set(responses), (path, method)
    offset = next(
        p for p in document["paths"]["/api/v1/transactions"]["get"]["parameters"] if p["name"] == "offset"
    )
    assert offset["schema"]["maximum"] == INT64_MAX
