"""Provider `mercadopago`: Mercado Pago's payments API with `payment_method_id=pix`.

- `POST /v1/payments` with `X-Idempotency-Key` = our txid (a retried create returns the same
  payment); the copy-paste code is `point_of_interaction.transaction_data.qr_code`.
- `GET /v1/payments/{id}` reads, `PUT /v1/payments/{id} {status: cancelled}` cancels,
  `POST /v1/payments/{id}/refunds` refunds with `X-Idempotency-Key` = our refund id.
- Webhooks carry `x-signature: ts=...,v1=...`: HMAC-SHA256, keyed with the webhook secret, of
  `id:{data.id};request-id:{x-request-id};ts:{ts};` (parts whose value is absent are left out;
  `data.id` comes from the URL query, lower-cased when alphanumeric). Compared in constant time;
  a `ts` older or newer than five minutes is refused (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tgadmin.clock import utcnow
from tgadmin.crypto import constant_time_equal
from tgadmin.errors import BadRequest, Forbidden
from tgadmin.pix.providers.base import Charge, ChargeRequest, ChargeState, Notification, Refund
from tgadmin.pix.providers.http import (
    TIMEOUT_SECONDS,
    LoopClient,
    cents,
    json_object,
    parse_time,
    raise_for_status,
    send,
)

SIGNATURE_TOLERANCE = timedelta(minutes=5)
E2E_PREFIX = "mercadopago-"
# A refund's statuses that end it without the money going back.
REFUSED = frozenset({"rejected", "cancelled"})

STATES = {
    "pending": ChargeState.ACTIVE,
    "in_process": ChargeState.ACTIVE,
    "authorized": ChargeState.ACTIVE,
    "approved": ChargeState.PAID,
    "cancelled": ChargeState.CANCELLED,
    "rejected": ChargeState.CANCELLED,
    "refunded": ChargeState.REFUNDED,
    "charged_back": ChargeState.REFUNDED,
}


def _amount(cents_value: int) -> float:
    if cents_value <= 0:
        raise BadRequest(f"amount must be greater than zero, not {cents_value} cents")
    # Mercado Pago takes a JSON number; two decimals survive a float exactly enough for its parser.
    return round(cents_value / 100, 2)


def _mp_time(moment: datetime) -> str:
    """Mercado Pago's format: milliseconds and an explicit offset."""
    return moment.isoformat(timespec="milliseconds")


class MercadoPagoProvider:
    name = "mercadopago"

    def __init__(
        self,
        *,
        access_token: str,
        webhook_secret: str | None,
        api_url: str = "https://api.mercadopago.com",
        payer_email: str | None = None,
        notification_url: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._token = access_token
        self._webhook_secret = webhook_secret
        self.payer_email = payer_email
        self.notification_url = notification_url
        self._http = LoopClient(api_url.rstrip("/"), timeout=timeout)

    async def _json(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}"}
        if idempotency_key:
            headers["X-Idempotency-Key"] = idempotency_key
        response = await send(self._http.get(), self.name, method, path, json=body, headers=headers)
        raise_for_status(response, self.name)
        return json_object(response, self.name)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def check(self) -> str:
        me = await self._json("GET", "/users/me")
        return f"mercadopago: access token of account {me.get('id', '?')} accepted"

    async def create_charge(self, request: ChargeRequest) -> Charge:
        email = request.payer_email or self.payer_email
        if not email:
            raise BadRequest("Mercado Pago needs a payer e-mail: set MERCADOPAGO_PAYER_EMAIL")
        if request.expires_in_seconds <= 0:
            raise BadRequest("a charge must expire in a positive number of seconds")
        body: dict[str, Any] = {
            "transaction_amount": _amount(request.amount_cents),
            "description": request.description,
            "payment_method_id": "pix",
            "external_reference": request.txid,
            "date_of_expiration": _mp_time(utcnow() + timedelta(seconds=request.expires_in_seconds)),
            "payer": {"email": email, **({"first_name": request.payer_name} if request.payer_name else {})},
        }
        if self.notification_url:
            body["notification_url"] = self.notification_url
        return self._charge(await self._json("POST", "/v1/payments", body, idempotency_key=request.txid))

    async def get_charge(self, txid: str) -> Charge:
        return self._charge(await self._json("GET", f"/v1/payments/{_payment_id(txid)}"))

    async def cancel_charge(self, txid: str) -> Charge:
        body = {"status": "cancelled"}
        return self._charge(await self._json("PUT", f"/v1/payments/{_payment_id(txid)}", body))

    async def refund(
        self, end_to_end_id: str, refund_id: str, amount_cents: int, *, txid: str | None = None
    ) -> Refund:
        payment = txid or end_to_end_id.removeprefix(E2E_PREFIX)
        body = {"amount": _amount(amount_cents)}
        path = f"/v1/payments/{_payment_id(payment)}/refunds"
        answer = await self._json("POST", path, body, idempotency_key=refund_id)
        return Refund(
            refund_id=refund_id,
            end_to_end_id=end_to_end_id,
            amount_cents=cents(answer.get("amount", body["amount"])),
            confirmed=answer.get("status") == "approved",
            raw=answer,
            refused=f"refund {answer['status']}" if answer.get("status") in REFUSED else None,
        )

    def _charge(self, payment: Mapping[str, Any]) -> Charge:
        status = str(payment.get("status", ""))
        if status not in STATES:
            raise BadRequest(f"{self.name}: unknown payment status {status!r}")
        state = STATES[status]
        data = (payment.get("point_of_interaction") or {}).get("transaction_data") or {}
        payment_id = str(payment.get("id", ""))
        paid = state in (ChargeState.PAID, ChargeState.REFUNDED)
        details = payment.get("transaction_details") or {}
        return Charge(
            provider=self.name,
            txid=payment_id,
            state=state,
            amount_cents=cents(payment.get("transaction_amount", 0)),
            copy_paste=str(data.get("qr_code") or ""),
            expires_at=parse_time(payment.get("date_of_expiration")),
            # The Central Bank's end-to-end id when Mercado Pago shares it, else one unique per payment.
            end_to_end_id=(str(data.get("e2e_id") or "") or f"{E2E_PREFIX}{payment_id}") if paid else None,
            paid_at=parse_time(payment.get("date_approved")) if paid else None,
            paid_amount_cents=(
                cents(details.get("total_paid_amount") or payment.get("transaction_amount", 0))
                if paid
                else None
            ),
            raw=dict(payment),
        )

    # --- notifications ------------------------------------------------------------------------

    def parse_notification(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        *,
        path_secret: str | None = None,
    ) -> list[Notification]:
        """Mercado Pago signs its notifications (`x-signature`); a path secret plays no part."""
        lowered = {key.lower(): value for key, value in headers.items()}
        try:
            payload = json.loads(body) if body else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest("mercadopago notification is not JSON") from None
        if not isinstance(payload, dict):
            raise BadRequest("mercadopago notification must be a JSON object")
        data_id = query.get("data.id") or str((payload.get("data") or {}).get("id") or "") or query.get("id")
        self.verify_signature(lowered.get("x-signature", ""), lowered.get("x-request-id"), data_id)
        kind = payload.get("type") or query.get("type") or query.get("topic")
        if kind != "payment" or not data_id:
            return []  # merchant orders, test pings...: nothing to confirm
        return [
            Notification(
                provider=self.name,
                external_id=str(payload.get("id") or lowered.get("x-request-id") or data_id),
                txid=data_id,
                end_to_end_id=None,
                amount_cents=None,  # the notification says only "look again": the service re-reads
                payload=payload,
            )
        ]

    def verify_signature(self, header: str, request_id: str | None, data_id: str | None) -> None:
        """Raise Forbidden unless `x-signature` is Mercado Pago's HMAC of this notification, recent."""
        if not self._webhook_secret:
            raise Forbidden("MERCADOPAGO_WEBHOOK_SECRET is not set: notifications cannot be verified")
        parts = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
        ts, given = parts.get("ts", ""), parts.get("v1", "")
        if not (ts.isascii() and ts.isdigit()) or len(ts) > 16 or not given:
            raise Forbidden("mercadopago notification without a valid x-signature header")
        if data_id and data_id.isalnum():
            data_id = data_id.lower()
        manifest = "".join(
            f"{label}:{value};"
            for label, value in (("id", data_id), ("request-id", request_id), ("ts", ts))
            if value
        )
        expected = hmac.new(self._webhook_secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
        if not constant_time_equal(expected, given.lower()):
            raise Forbidden("mercadopago notification with a wrong signature")
        seconds = int(ts) / 1000 if len(ts) > 11 else int(ts)  # Mercado Pago sends seconds or milliseconds
        if abs(utcnow().timestamp() - seconds) > SIGNATURE_TOLERANCE.total_seconds():
            raise Forbidden("mercadopago notification with a stale signature timestamp")


def _payment_id(value: str) -> str:
    if not value.isdigit():
        raise BadRequest(f"Mercado Pago payment id {value!r} must be digits")
    return value
