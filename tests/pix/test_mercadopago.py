"""Provider `mercadopago` against a local server following Mercado Pago's payments API, and the
`x-signature` check of its webhooks (signatures computed here as Mercado Pago documents them)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.pix.servers import serve
from tgadmin.errors import BadRequest, Forbidden, NotFound
from tgadmin.pix.brcode import build_brcode, parse_brcode
from tgadmin.pix.providers.base import ChargeRequest, ChargeState, new_txid
from tgadmin.pix.providers.mercadopago import MercadoPagoProvider

TOKEN = "APP_USR-test-token"
SECRET = "mp-webhook-secret"


@dataclass
class FakeMercadoPago:
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT"])
        async def api(request: Request, path: str) -> JSONResponse:
            body = json.loads(await request.body() or b"null")
            self.requests.append((request.method, "/v1/" + path, dict(request.headers), body))
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse({"message": "invalid access token", "status": 401}, status_code=401)
            return self.route(request.method, path.split("/"), body, request.headers.get("x-idempotency-key"))

        return app

    def route(self, method: str, parts: list[str], body: Any, key: str | None) -> JSONResponse:
        if method == "POST" and parts == ["payments"]:
            return self.create(body, key)
        payment = self.payments.get(parts[1]) if len(parts) > 1 else None
        if payment is None:
            return JSONResponse({"message": "Payment not found", "error": "not_found", "status": 404}, 404)
        if method == "PUT":
            payment["status"] = body["status"]
        if len(parts) == 3 and parts[2] == "refunds":
            if not key:
                return JSONResponse({"message": "X-Idempotency-Key required", "status": 400}, 400)
            refund = self.refunds.setdefault(
                key, {"id": 1000 + len(self.refunds), "payment_id": int(parts[1]), "amount": body["amount"]}
            )
            refund["status"] = "approved"
            payment["status"] = "refunded"
            return JSONResponse(refund, status_code=201)
        return JSONResponse(payment)

    def create(self, body: dict[str, Any], key: str | None) -> JSONResponse:
        if not key:
            return JSONResponse({"message": "X-Idempotency-Key required", "status": 400}, 400)
        if body.get("payment_method_id") != "pix" or "@" not in str((body.get("payer") or {}).get("email")):
            cause = [{"code": 4050, "description": "payer.email must be a valid email"}]
            return JSONResponse({"message": "invalid parameters", "status": 400, "cause": cause}, 400)
        if key in self.by_key:
            return JSONResponse(self.payments[self.by_key[key]], status_code=201)
        payment_id = str(90_000_000_000 + len(self.payments))
        location = f"pix-qr.mercadopago.com/instore/o/v2/{payment_id}"
        self.payments[payment_id] = {
            "id": int(payment_id),
            "status": "pending",
            "status_detail": "pending_waiting_transfer",
            "transaction_amount": body["transaction_amount"],
            "date_of_expiration": body["date_of_expiration"],
            "date_approved": None,
            "external_reference": body["external_reference"],
            "payment_method_id": "pix",
            "point_of_interaction": {
                "type": "PIX",
                "transaction_data": {
                    "qr_code": build_brcode(url=location, name="MERCADO PAGO", city="SAO PAULO"),
                    "qr_code_base64": "iVBORw0KGgo=",
                    "ticket_url": f"https://www.mercadopago.com.br/payments/{payment_id}/ticket",
                },
            },
            "transaction_details": {"total_paid_amount": body["transaction_amount"]},
        }
        self.by_key[key] = payment_id
        return JSONResponse(self.payments[payment_id], status_code=201)


@pytest.fixture(scope="module")
def mp_server() -> Iterator[tuple[str, FakeMercadoPago]]:
    fake = FakeMercadoPago()
    with serve(fake.app()) as url:
        yield url, fake


@pytest.fixture
async def mp(
    mp_server: tuple[str, FakeMercadoPago],
) -> AsyncIterator[tuple[MercadoPagoProvider, FakeMercadoPago]]:
    url, fake = mp_server
    fake.__init__()  # type: ignore[misc]
    provider = MercadoPagoProvider(
        access_token=TOKEN, webhook_secret=SECRET, api_url=url, payer_email="loja@example.com"
    )
    yield provider, fake
    await provider.aclose()


async def test_pix_payment_lifecycle(mp: tuple[MercadoPagoProvider, FakeMercadoPago]) -> None:
    provider, fake = mp
    txid = new_txid()
    charge = await provider.create_charge(ChargeRequest(txid, 2990, 1800, "Pack da Ana"))
    method, path, headers, body = fake.requests[0]
    assert (method, path, headers["x-idempotency-key"]) == ("POST", "/v1/payments", txid)
    assert body["payment_method_id"] == "pix" and body["transaction_amount"] == 29.9
    assert body["payer"] == {"email": "loja@example.com"} and body["external_reference"] == txid
    assert charge.state == ChargeState.ACTIVE and charge.amount_cents == 2990
    assert charge.txid == str(fake.by_key[txid])
    assert parse_brcode(charge.copy_paste).is_dynamic

    again = await provider.create_charge(ChargeRequest(txid, 2990, 1800, "Pack da Ana"))
    assert again.txid == charge.txid and len(fake.payments) == 1  # the idempotency key held

    fake.payments[charge.txid].update(status="approved", date_approved="2026-11-23T10:05:00.000-04:00")
    paid = await provider.get_charge(charge.txid)
    assert (paid.state, paid.paid_amount_cents) == (ChargeState.PAID, 2990)
    assert paid.end_to_end_id == f"mercadopago-{charge.txid}"
    assert paid.paid_at is not None and paid.paid_at.isoformat() == "2026-11-23T14:05:00+00:00"

    refund = await provider.refund(paid.end_to_end_id, "refund1", 2990, txid=charge.txid)
    assert (refund.confirmed, refund.amount_cents) == (True, 2990)
    assert fake.requests[-1][2]["x-idempotency-key"] == "refund1"
    retried = await provider.refund(paid.end_to_end_id, "refund1", 2990)  # payment id from the e2e id
    assert retried.raw["id"] == refund.raw["id"] and len(fake.refunds) == 1
    assert (await provider.get_charge(charge.txid)).state == ChargeState.REFUNDED


async def test_cancel_puts_status_cancelled(mp: tuple[MercadoPagoProvider, FakeMercadoPago]) -> None:
    provider, fake = mp
    charge = await provider.create_charge(ChargeRequest(new_txid(), 100, 60, "x"))
    cancelled = await provider.cancel_charge(charge.txid)
    assert cancelled.state == ChargeState.CANCELLED
    assert fake.requests[-1][::3] == ("PUT", {"status": "cancelled"})


async def test_psp_errors_are_explained(mp: tuple[MercadoPagoProvider, FakeMercadoPago]) -> None:
    provider, _ = mp
    with pytest.raises(NotFound, match="Payment not found"):
        await provider.get_charge("123")
    nobody = MercadoPagoProvider(access_token=TOKEN, webhook_secret=None, api_url=provider._http.base_url)
    with pytest.raises(BadRequest, match="MERCADOPAGO_PAYER_EMAIL"):
        await nobody.create_charge(ChargeRequest(new_txid(), 100, 60, "x"))
    with pytest.raises(BadRequest, match=r"payer.email must be a valid email"):
        await nobody.create_charge(ChargeRequest(new_txid(), 100, 60, "x", payer_email="nobody"))
    await nobody.aclose()


def _signed(data_id: str, request_id: str, ts: str, secret: str = SECRET) -> dict[str, str]:
    manifest = f"id:{data_id};request-id:{request_id};ts:{ts};"
    v1 = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    return {"x-signature": f"ts={ts},v1={v1}", "x-request-id": request_id}


BODY = json.dumps(
    {"id": 112233445566, "type": "payment", "action": "payment.updated", "data": {"id": "1234567890"}}
).encode()


def test_signed_notification_is_accepted(mp: tuple[MercadoPagoProvider, FakeMercadoPago]) -> None:
    provider, _ = mp
    now = str(int(time.time()))
    query = {"data.id": "1234567890", "type": "payment"}
    (note,) = provider.parse_notification(BODY, _signed("1234567890", "req-1", now), query)
    assert (note.txid, note.external_id, note.amount_cents) == ("1234567890", "112233445566", None)
    in_ms = str(int(time.time() * 1000))  # Mercado Pago also sends milliseconds
    assert provider.parse_notification(BODY, _signed("1234567890", "req-1", in_ms), query)


def test_forged_or_replayed_notifications_are_refused(
    mp: tuple[MercadoPagoProvider, FakeMercadoPago],
) -> None:
    provider, _ = mp
    now, query = int(time.time()), {"data.id": "1234567890"}
    good = _signed("1234567890", "req-1", str(now))
    cases = [
        ({}, query, "without a valid x-signature"),
        ({**good, "x-signature": "v1=abc"}, query, "without a valid x-signature"),
        (_signed("1234567890", "req-1", str(now), secret="guessed"), query, "wrong signature"),
        (good, {"data.id": "999"}, "wrong signature"),  # a signature for another payment
        ({**good, "x-request-id": "req-2"}, query, "wrong signature"),
        (_signed("1234567890", "req-1", str(now - 600)), query, "stale"),  # a replay ten minutes later
    ]
    for headers, where, reason in cases:
        with pytest.raises(Forbidden, match=reason):
            provider.parse_notification(BODY, headers, where)


def test_unverifiable_without_a_secret() -> None:
    provider = MercadoPagoProvider(access_token=TOKEN, webhook_secret=None)
    with pytest.raises(Forbidden, match="MERCADOPAGO_WEBHOOK_SECRET"):
        provider.parse_notification(
            BODY, _signed("1234567890", "r", str(int(time.time()))), {"data.id": "1234567890"}
        )


def test_signatures_and_timestamps_in_other_scripts_are_refused_not_crashed(
    mp: tuple[MercadoPagoProvider, FakeMercadoPago],
) -> None:
    provider, _ = mp
    query = {"data.id": "1234567890"}
    good = _signed("1234567890", "req-1", str(int(time.time())))
    # Headers arrive as Latin-1 text; "²" and "٣" are digits to str.isdigit, not to int().
    for header, reason in (
        (f"ts={int(time.time())},v1=ÿé{'0' * 62}", "wrong signature"),
        ("ts=²,v1=abc", "without a valid x-signature"),
        ("ts=١٧٠٠٠٠٠٠٠٠,v1=abc", "without a valid x-signature"),
    ):
        with pytest.raises(Forbidden, match=reason):
            provider.parse_notification(BODY, {**good, "x-signature": header}, query)
