"""Banco Central's standard API Pix (the `cob` immediate charge), spoken by most Brazilian PSPs.

- Auth: OAuth2 client credentials (HTTP Basic with client id and secret) at the PSP's token
  endpoint, over mTLS when a client certificate is configured; the token is cached until shortly
  before it expires and fetched again once if the API answers 401.
- `PUT /v2/cob/{txid}` creates, `GET` reads, `PATCH {status: REMOVIDA_PELO_USUARIO_RECEBEDOR}`
  cancels (an API Pix charge stays ATIVA after `calendario.expiracao`: only paying is refused, so
  expired charges must be cancelled explicitly). `PUT /v2/pix/{e2eid}/devolucao/{id}` refunds.
- Webhook: `PUT /v2/webhook/{chave}` registers a URL; the PSP POSTs `{"pix": [...]}` to that URL
  with `/pix` appended literally. In production API Pix authenticates the PSP by mTLS, which
  a reverse proxy terminates; since that proxy is outside this code, a shared secret
  (`PIX_WEBHOOK_SECRET`) is also checked: register `/webhooks/pix/{provider}/{secret}` (the
  route hands that segment over as the `secret` query value), or have the proxy add the header
  `X-Webhook-Secret`. Without the setting, notifications are accepted
  unverified — harmless for money, because the service re-reads the charge before confirming.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from tgadmin.crypto import constant_time_equal
from tgadmin.errors import BadRequest, Conflict, Forbidden, ServiceUnavailable
from tgadmin.payments.pix.brcode import build_brcode, format_amount, normalize_key
from tgadmin.payments.pix.providers.base import Charge, ChargeRequest, ChargeState, Notification, Refund
from tgadmin.payments.pix.providers.http import (
    TIMEOUT_SECONDS,
    LoopClient,
    cents,
    json_object,
    parse_time,
    raise_for_status,
    send,
    ssl_context,
)

TXID_RE = re.compile(r"[a-zA-Z0-9]{26,35}")
REFUND_ID_RE = re.compile(r"[a-zA-Z0-9]{1,35}")
TOKEN_MARGIN_SECONDS = 30
# Where the shared webhook secret travels (names, not secrets).
SECRET_HEADER = "x-webhook-secret"  # noqa: S105
SECRET_QUERY = "secret"  # noqa: S105
MAX_SOLICITACAO = 140

STATES = {
    "ATIVA": ChargeState.ACTIVE,
    "CONCLUIDA": ChargeState.PAID,
    "REMOVIDA_PELO_USUARIO_RECEBEDOR": ChargeState.CANCELLED,
    "REMOVIDA_PELO_PSP": ChargeState.CANCELLED,
}


class ApiPixProvider:
    """API Pix client; `SandboxProvider` is this same class pointed at the Telegram sandbox."""

    name = "apipix"

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        pix_key: str,
        merchant_name: str,
        merchant_city: str,
        token_url: str | None = None,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        ca_file: Path | None = None,
        webhook_secret: str | None = None,
        name: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        if name:
            self.name = name
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url or f"{self.base_url}/oauth/token"
        self.pix_key = normalize_key(pix_key)[1]
        self.merchant_name = merchant_name
        self.merchant_city = merchant_city
        self._credentials = (client_id, client_secret)
        self._webhook_secret = webhook_secret
        verify = ssl_context(cert_file, key_file, ca_file) if base_url.startswith("https") else True
        self._http = LoopClient(self.base_url, verify, timeout)
        self._token: tuple[str, float] | None = None

    # --- transport ----------------------------------------------------------------------------

    async def _fetch_token(self) -> str:
        response = await send(
            self._http.get(),
            self.name,
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(*self._credentials),
        )
        raise_for_status(response, self.name)
        body = json_object(response, self.name)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ServiceUnavailable(f"{self.name}: the token endpoint answered without an access_token")
        expires_in = float(body.get("expires_in") or 300)
        self._token = (token, time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 1.0))
        return token

    async def _bearer(self) -> str:
        if self._token is not None and time.monotonic() < self._token[1]:
            return self._token[0]
        return await self._fetch_token()

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {await self._bearer()}"}
            response = await send(self._http.get(), self.name, method, path, json=body, headers=headers)
            # API Pix answers a refused token 403 AcessoNegado; some gateways say 401.
            if response.status_code not in (401, 403) or attempt == 2:
                return response
            self._token = None  # revoked or expired early: fetch a new token once
        raise AssertionError("unreachable")

    async def _json(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = await self._call(method, path, body)
        raise_for_status(response, self.name)
        return json_object(response, self.name)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def check(self) -> str:
        await self._fetch_token()
        return f"{self.name}: {self.base_url} issued an access token"

    # --- charges ------------------------------------------------------------------------------

    async def create_charge(self, request: ChargeRequest) -> Charge:
        _check_txid(request.txid)
        if request.expires_in_seconds <= 0:
            raise BadRequest("a charge must expire in a positive number of seconds")
        body: dict[str, Any] = {
            "calendario": {"expiracao": request.expires_in_seconds},
            "valor": {"original": format_amount(request.amount_cents)},
            "chave": self.pix_key,
        }
        if request.description:
            body["solicitacaoPagador"] = request.description[:MAX_SOLICITACAO]
        response = await self._call("PUT", f"/v2/cob/{request.txid}", body)
        if response.status_code in (400, 409) and await self._has_cob(request.txid):
            # A retry after a lost answer (API Pix: 400 txid in use): read it back if the same charge.
            existing = await self.get_charge(request.txid)
            if existing.amount_cents != request.amount_cents:
                raise Conflict(f"{self.name}: txid {request.txid} already names a different charge")
            return existing
        raise_for_status(response, self.name)
        return self._charge(json_object(response, self.name))

    async def get_charge(self, txid: str) -> Charge:
        _check_txid(txid)
        return self._charge(await self._json("GET", f"/v2/cob/{txid}"))

    async def _has_cob(self, txid: str) -> bool:
        return (await self._call("GET", f"/v2/cob/{txid}")).status_code == 200

    async def cancel_charge(self, txid: str) -> Charge:
        _check_txid(txid)
        body = {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"}
        return self._charge(await self._json("PATCH", f"/v2/cob/{txid}", body))

    async def refund(
        self, end_to_end_id: str, refund_id: str, amount_cents: int, *, txid: str | None = None
    ) -> Refund:
        if not REFUND_ID_RE.fullmatch(refund_id):
            raise BadRequest(f"refund id {refund_id!r} must be 1-35 letters and digits")
        path = f"/v2/pix/{end_to_end_id}/devolucao/{refund_id}"
        response = await self._call("PUT", path, {"valor": format_amount(amount_cents)})
        if response.status_code in (400, 409):
            # API Pix: 400 when the id is already used; a retry reports that refund's current state.
            existing = await self._call("GET", path)
            response = existing if existing.status_code == 200 else response
        raise_for_status(response, self.name)
        body = json_object(response, self.name)
        return Refund(
            refund_id=str(body.get("id") or refund_id),
            end_to_end_id=end_to_end_id,
            amount_cents=cents(body.get("valor", format_amount(amount_cents))),
            confirmed=body.get("status") == "DEVOLVIDO",
            raw=body,
        )

    async def register_webhook(self, url: str) -> None:
        """Ask the PSP to notify `url` (it POSTs to `url` + `/pix`); idempotent."""
        # API Pix answers 200 without a body.
        raise_for_status(
            await self._call("PUT", f"/v2/webhook/{self.pix_key}", {"webhookUrl": url}), self.name
        )

    def _charge(self, cob: Mapping[str, Any]) -> Charge:
        status = str(cob.get("status", ""))
        if status not in STATES:
            raise ServiceUnavailable(f"{self.name}: unknown charge status {status!r}")
        pix = [item for item in cob.get("pix") or [] if isinstance(item, dict)]
        state = STATES[status]
        if state == ChargeState.PAID and _fully_refunded(pix):
            state = ChargeState.REFUNDED
        calendario = cob.get("calendario") or {}
        created = parse_time(calendario.get("criacao"))
        expires_at = created + timedelta(seconds=int(calendario.get("expiracao", 86400))) if created else None
        paid = pix[0] if pix else {}
        return Charge(
            provider=self.name,
            txid=str(cob.get("txid", "")),
            state=state,
            amount_cents=cents((cob.get("valor") or {}).get("original", "0")),
            copy_paste=str(cob.get("pixCopiaECola") or self._copy_paste(cob)),
            expires_at=expires_at,
            pix_key=cob.get("chave"),
            end_to_end_id=paid.get("endToEndId"),
            paid_at=parse_time(paid.get("horario")),
            paid_amount_cents=cents(paid["valor"]) if "valor" in paid else None,
            raw=dict(cob),
        )

    def _copy_paste(self, cob: Mapping[str, Any]) -> str:
        """PSPs before API Pix 2.x return only `location`: the dynamic BR Code is built from it."""
        location = cob.get("location") or (cob.get("loc") or {}).get("location")
        if not location:
            return ""
        return build_brcode(url=str(location), name=self.merchant_name, city=self.merchant_city)

    # --- notifications ------------------------------------------------------------------------

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[Notification]:
        self._check_secret(headers, query)
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest(f"{self.name} notification is not JSON") from None
        items = payload.get("pix") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise BadRequest(f'{self.name} notification must be {{"pix": [...]}}')
        return [self._notification(item) for item in items]

    def _check_secret(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        if not self._webhook_secret:
            return
        lowered = {key.lower(): value for key, value in headers.items()}
        given = query.get(SECRET_QUERY) or lowered.get(SECRET_HEADER) or ""
        if not constant_time_equal(given, self._webhook_secret):
            raise Forbidden(f"{self.name} notification without the right webhook secret")

    def _notification(self, item: Any) -> Notification:
        if not isinstance(item, dict) or not isinstance(item.get("endToEndId"), str) or "valor" not in item:
            raise BadRequest(f"{self.name} notification entry lacks endToEndId or valor")
        e2e = item["endToEndId"]
        refunds = [r for r in item.get("devolucoes") or [] if isinstance(r, dict)]
        # A refund update re-sends the same endToEndId: its own external id keeps it a separate event.
        suffix = "".join(f":{r.get('id')}:{r.get('status')}" for r in refunds)
        return Notification(
            provider=self.name,
            external_id=e2e + suffix,
            txid=item.get("txid"),
            end_to_end_id=e2e,
            amount_cents=cents(item["valor"]),
            payload=item,
        )


def _check_txid(txid: str) -> None:
    if not TXID_RE.fullmatch(txid):
        raise BadRequest(f"API Pix txid {txid!r} must be 26-35 letters and digits")


def _fully_refunded(pix: list[dict[str, Any]]) -> bool:
    if not pix:
        return False
    paid = sum(cents(item.get("valor", "0")) for item in pix)
    returned = sum(
        cents(refund.get("valor", "0"))
        for item in pix
        for refund in item.get("devolucoes") or []
        if isinstance(refund, dict) and refund.get("status") == "DEVOLVIDO"
    )
    return returned >= paid > 0
