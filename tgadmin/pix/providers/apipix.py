"""Banco Central's standard API Pix (the `cob` immediate charge), spoken by most Brazilian PSPs.

Written to survive any PSP that follows the spec (API Pix 2.x), using every freedom it allows:
- Auth: OAuth2 client credentials (HTTP Basic with client id and secret) at the PSP's token
  endpoint, over mTLS when a client certificate is configured. Each call asks for the scope it
  needs (`cob.write`, `cob.read`, `pix.write`, `pix.read`, `webhook.write`); tokens are cached per
  scope until shortly before they expire, and fetched again once if the API answers 401 or
  403 `AcessoNegado` (a token revoked early, or issued without the scope).
- `PUT /v2/cob/{txid}` creates, `GET` reads, `PATCH {status: REMOVIDA_PELO_USUARIO_RECEBEDOR}`
  cancels (an API Pix charge stays ATIVA after `calendario.expiracao`: only paying is refused, so
  expired charges must be cancelled explicitly). `PUT /v2/pix/{e2eid}/devolucao/{id}` refunds.
  Retries are safe without relying on 409: a repeated create answered 400 `CobOperacaoInvalida`
  (or 409) reads the cob back; a repeated refund answered 400 `PixDevolucaoInvalida` (or 409)
  reads the refund back, which is also how a refund left `EM_PROCESSAMENTO` is later confirmed.
- The copy-paste code is `pixCopiaECola`, else it is built from `location` (with or without
  `https://`); a cob with neither is an error, never an empty code.
- A status this client does not know (the spec lets enumerations grow) is `ChargeState.UNKNOWN`:
  logged, nothing applied, asked again later.
- Webhook: `PUT /v2/webhook/{chave}` registers a URL (200 or 204, any body); the PSP POSTs
  `{"pix": [...]}` to that URL with `/pix` appended literally. API Pix authenticates the PSP by
  mTLS, which a reverse proxy terminates; since that proxy is outside this code, a shared secret
  (`PIX_WEBHOOK_SECRET`, required) is also checked. It travels as a path segment of the registered
  URL (`webhook_url`: `{PUBLIC_URL}/webhooks/pix/{provider}/{secret}`, so the appended `/pix`
  cannot break it as it would a query string), or in the header `X-Webhook-Secret` a proxy adds.
- Notifications are hints: amounts in them are never parsed into money (only their shape is
  checked); the charge and its refunds are re-read from the PSP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from tgadmin.crypto import constant_time_equal
from tgadmin.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable
from tgadmin.pix.brcode import build_brcode, format_amount, normalize_key
from tgadmin.pix.providers.base import Charge, ChargeRequest, ChargeState, Notification, Refund
from tgadmin.pix.providers.http import (
    TIMEOUT_SECONDS,
    LoopClient,
    cents,
    json_object,
    parse_time,
    raise_for_status,
    send,
    ssl_context,
)

log = logging.getLogger(__name__)

TXID_RE = re.compile(r"[a-zA-Z0-9]{26,35}")
REFUND_ID_RE = re.compile(r"[a-zA-Z0-9]{1,35}")
E2E_RE = re.compile(r"[a-zA-Z0-9]{32}")
# The spec's amount pattern, ASCII digits only: a notification's amounts are checked, never used.
VALOR_RE = re.compile(r"[0-9]{1,10}\.[0-9]{2}")
TOKEN_MARGIN_SECONDS = 30
# The header a reverse proxy may put the shared webhook secret in (a name, not a secret).
SECRET_HEADER = "x-webhook-secret"  # noqa: S105
MAX_SOLICITACAO = 140
MAX_ITEMS = 100  # pix entries in one notification; a PSP groups a few, never thousands

# OAuth2 scopes of API Pix, one per kind of call.
COB_WRITE, COB_READ = "cob.write", "cob.read"
PIX_WRITE, PIX_READ = "pix.write", "pix.read"
WEBHOOK_WRITE = "webhook.write"

STATES = {
    "ATIVA": ChargeState.ACTIVE,
    "CONCLUIDA": ChargeState.PAID,
    "REMOVIDA_PELO_USUARIO_RECEBEDOR": ChargeState.CANCELLED,
    "REMOVIDA_PELO_PSP": ChargeState.CANCELLED,
}
REFUND_DONE = "DEVOLVIDO"
REFUND_REFUSED = "NAO_REALIZADO"
REFUND_STATES = {"EM_PROCESSAMENTO", REFUND_DONE, REFUND_REFUSED}


def webhook_url(public_url: str, provider: str, secret: str) -> str:
    """The URL to register at the PSP: the secret is a path segment, so the `/pix` it appends is harmless."""
    return f"{public_url.rstrip('/')}/webhooks/pix/{provider}/{quote(secret, safe='')}"


def _problem_type(response: httpx.Response) -> str:
    """API Pix's error kind: the last segment of the RFC 7807 `type` (`.../error/CobOperacaoInvalida`)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    kind = body.get("type") if isinstance(body, dict) else None
    return kind.rstrip("/").rsplit("/", 1)[-1] if isinstance(kind, str) else ""


def _already_done(response: httpx.Response, kind: str) -> bool:
    """A repeated PUT: 409 from lenient PSPs, 400 `kind` from those that follow the spec to the letter."""
    return response.status_code == 409 or (response.status_code == 400 and _problem_type(response) == kind)


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
        self._tokens: dict[str, tuple[str, float]] = {}
        # A token being fetched, per (event loop, scope): buyers checking out at once share one request.
        self._fetching: dict[tuple[int, str], asyncio.Task[str]] = {}

    def webhook_url(self, public_url: str) -> str:
        """Where this PSP should notify us (register it with `register_webhook`)."""
        if not self._webhook_secret:
            raise BadRequest("PIX_WEBHOOK_SECRET: is required to receive PIX notifications")
        return webhook_url(public_url, self.name, self._webhook_secret)

    # --- transport ----------------------------------------------------------------------------

    async def _fetch_token(self, scope: str) -> str:
        response = await send(
            self._http.get(),
            self.name,
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials", "scope": scope},
            auth=httpx.BasicAuth(*self._credentials),
        )
        raise_for_status(response, self.name)
        body = json_object(response, self.name)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ServiceUnavailable(f"{self.name}: the token endpoint answered without an access_token")
        try:
            expires_in = float(body.get("expires_in") or 300)
        except (TypeError, ValueError):
            expires_in = 300.0
        self._tokens[scope] = (token, time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 1.0))
        return token

    async def _bearer(self, scope: str) -> str:
        cached = self._tokens.get(scope)
        if cached is not None and time.monotonic() < cached[1]:
            return cached[0]
        # After a start or an expiry, 50 buyers pressing "buy" at once asked the token endpoint 50
        # times, and the PSP answered them in turn (the first checkouts waited over a second).
        loop = asyncio.get_running_loop()
        key = (id(loop), scope)
        fetching = self._fetching.get(key)
        if fetching is None:
            fetching = self._fetching[key] = loop.create_task(self._fetch_token(scope))
            fetching.add_done_callback(partial(self._fetched, key))
        # Shielded: one caller giving up (a timeout, a closed request) leaves the fetch to the others.
        return await asyncio.shield(fetching)

    def _fetched(self, key: tuple[int, str], task: asyncio.Task[str]) -> None:
        self._fetching.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here too: every caller may have gone already

    async def _call(
        self, method: str, path: str, scope: str, body: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {await self._bearer(scope)}"}
            response = await send(self._http.get(), self.name, method, path, json=body, headers=headers)
            # 401: revoked or expired early; 403 AcessoNegado: a token without this scope. Once.
            if response.status_code not in (401, 403) or attempt == 2:
                return response
            self._tokens.pop(scope, None)
        raise AssertionError("unreachable")

    async def _json(
        self, method: str, path: str, scope: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self._call(method, path, scope, body)
        raise_for_status(response, self.name)
        return json_object(response, self.name)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def check(self) -> str:
        await self._fetch_token(COB_READ)
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
        response = await self._call("PUT", f"/v2/cob/{request.txid}", COB_WRITE, body)
        if _already_done(response, "CobOperacaoInvalida"):
            charge = await self._existing_charge(request, response)
        else:
            raise_for_status(response, self.name)
            charge = self._charge(json_object(response, self.name))
        if not charge.copy_paste:
            raise ServiceUnavailable(
                f"{self.name}: cob {request.txid} came without pixCopiaECola or location: no code to pay"
            )
        return charge

    async def _existing_charge(self, request: ChargeRequest, refused: httpx.Response) -> Charge:
        """A retry after a lost answer: the cob exists; it is ours again if it is the same charge.

        When there is no such cob, the 400 meant what it says (a malformed request) and is raised."""
        try:
            existing = await self.get_charge(request.txid)
        except NotFound:
            raise_for_status(refused, self.name)
            raise
        if existing.amount_cents != request.amount_cents:
            raise Conflict(f"{self.name}: txid {request.txid} already names a different charge")
        return existing

    async def get_charge(self, txid: str) -> Charge:
        _check_txid(txid)
        return self._charge(await self._json("GET", f"/v2/cob/{txid}", COB_READ))

    async def cancel_charge(self, txid: str) -> Charge:
        _check_txid(txid)
        body = {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"}
        return self._charge(await self._json("PATCH", f"/v2/cob/{txid}", COB_WRITE, body))

    async def refund(
        self, end_to_end_id: str, refund_id: str, amount_cents: int, *, txid: str | None = None
    ) -> Refund:
        if not REFUND_ID_RE.fullmatch(refund_id):
            raise BadRequest(f"refund id {refund_id!r} must be 1-35 letters and digits")
        path = f"/v2/pix/{end_to_end_id}/devolucao/{refund_id}"
        response = await self._call("PUT", path, PIX_WRITE, {"valor": format_amount(amount_cents)})
        if _already_done(response, "PixDevolucaoInvalida"):
            # Already requested (a retry, or asking whether it settled): report its current state.
            refused, response = response, await self._call("GET", path, PIX_READ)
            if response.status_code == 404:
                raise_for_status(refused, self.name)  # no such refund: the 400 was about this request
        raise_for_status(response, self.name)
        body = json_object(response, self.name)
        status = str(body.get("status", ""))
        if status not in REFUND_STATES:
            log.warning(
                "%s: refund %s has a status this client does not know: %r", self.name, refund_id, status
            )
        return Refund(
            refund_id=str(body.get("id") or refund_id),
            end_to_end_id=end_to_end_id,
            amount_cents=cents(body.get("valor", format_amount(amount_cents))),
            confirmed=status == REFUND_DONE,
            raw=body,
            refused=str(body.get("motivo") or REFUND_REFUSED) if status == REFUND_REFUSED else None,
        )

    async def register_webhook(self, url: str) -> None:
        """Ask the PSP to notify `url` (it POSTs to `url` + `/pix`); idempotent. 200/201/204, any body."""
        response = await self._call("PUT", f"/v2/webhook/{self.pix_key}", WEBHOOK_WRITE, {"webhookUrl": url})
        raise_for_status(response, self.name)

    def _charge(self, cob: Mapping[str, Any]) -> Charge:
        try:
            return self._parse_cob(cob)
        except (TypeError, ValueError, AttributeError, KeyError, BadRequest) as error:
            # A cob we cannot read is the PSP's fault, not a bad request of ours.
            detail = error.message if isinstance(error, BadRequest) else f"{type(error).__name__}: {error}"
            raise ServiceUnavailable(f"{self.name}: a cob answer that does not parse ({detail})") from None

    def _parse_cob(self, cob: Mapping[str, Any]) -> Charge:
        status = str(cob.get("status", ""))
        pix = [item for item in _as_list(cob.get("pix")) if isinstance(item, dict)]
        state = STATES.get(status, ChargeState.UNKNOWN)
        if state == ChargeState.UNKNOWN:
            log.warning(
                "%s: cob %s has a status this client does not know: %r", self.name, cob.get("txid"), status
            )
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
        """PSPs may return only `location`: the dynamic BR Code is built from it, without the scheme."""
        location = cob.get("location") or (cob.get("loc") or {}).get("location")
        if not location:
            return ""
        url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", str(location))
        return build_brcode(url=url, name=self.merchant_name, city=self.merchant_city)

    # --- notifications ------------------------------------------------------------------------

    def parse_notification(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        *,
        path_secret: str | None = None,
    ) -> list[Notification]:
        self._check_secret(headers, path_secret)
        try:
            payload = json.loads(body, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            # ValueError covers malformed JSON, NaN/Infinity and integers too long to convert.
            raise BadRequest(f"{self.name} notification is not JSON") from None
        items = payload.get("pix") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise BadRequest(f'{self.name} notification must be {{"pix": [...]}}')
        if len(items) > MAX_ITEMS:
            raise BadRequest(f"{self.name} notification with more than {MAX_ITEMS} pix entries")
        return [self._notification(item) for item in items]

    def _check_secret(self, headers: Mapping[str, str], path_secret: str | None) -> None:
        if not self._webhook_secret:
            raise Forbidden("PIX_WEBHOOK_SECRET is not set: notifications cannot be verified")
        lowered = {key.lower(): value for key, value in headers.items()}
        given = path_secret if path_secret is not None else lowered.get(SECRET_HEADER, "")
        if not constant_time_equal(given, self._webhook_secret):
            raise Forbidden(f"{self.name} notification without the right webhook secret")

    def _notification(self, item: Any) -> Notification:
        if not isinstance(item, dict) or not isinstance(item.get("endToEndId"), str) or "valor" not in item:
            raise BadRequest(f"{self.name} notification entry lacks endToEndId or valor")
        e2e = item["endToEndId"]
        txid = item.get("txid")
        if not E2E_RE.fullmatch(e2e) or (txid is not None and not isinstance(txid, str)):
            raise BadRequest(f"{self.name} notification entry with a malformed endToEndId or txid")
        refunds = [r for r in _as_list(item.get("devolucoes")) if isinstance(r, dict)]
        # The amount is only checked for shape (the spec's `\d{1,10}\.\d{2}`), never used: the
        # PSP's own state is what counts when the charge is re-read.
        for value in (item["valor"], *(r.get("valor") for r in refunds if "valor" in r)):
            if not isinstance(value, str) or not VALOR_RE.fullmatch(value):
                raise BadRequest(f"{self.name} notification with a malformed amount")
        # A refund update re-sends the payment's endToEndId: its refund ids and statuses make it
        # another event, so it is not taken for a duplicate of the payment.
        suffix = "".join(f":{r.get('id')}:{r.get('status')}" for r in refunds)
        return Notification(
            provider=self.name,
            external_id=e2e + suffix,
            txid=txid,
            end_to_end_id=e2e,
            amount_cents=None,
            payload=item,
        )


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


def _as_list(value: Any) -> list[Any]:
    """A field the spec makes an array, as some PSPs send it: an array, one object, or nothing."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


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
        for refund in _as_list(item.get("devolucoes"))
        if isinstance(refund, dict) and refund.get("status") == REFUND_DONE
    )
    return returned >= paid > 0
