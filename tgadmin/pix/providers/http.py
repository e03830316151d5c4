"""What the HTTP providers share: one httpx client per event loop, PSP errors turned into ours."""

from __future__ import annotations

import asyncio
import json
import ssl
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx

from tgadmin.errors import BadRequest, ConfigError, NotFound, ServiceUnavailable

TIMEOUT_SECONDS = 10.0


def ssl_context(
    cert_file: Path | None = None, key_file: Path | None = None, ca_file: Path | None = None
) -> ssl.SSLContext:
    """Server verification (system CAs, or `ca_file`), plus our client certificate for mTLS."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if cert_file is not None:
        try:
            context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(f"PIX_CERT_FILE: cannot load the client certificate and key: {error}") from None
    return context


class LoopClient:
    """An httpx client per running event loop: a client must not outlive the loop it was made in."""

    def __init__(
        self, base_url: str, verify: ssl.SSLContext | bool = True, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.base_url = base_url
        self.verify = verify
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        for other in [known for known in self._clients if known.is_closed()]:
            del self._clients[other]
        client = self._clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(
                base_url=self.base_url, verify=self.verify, timeout=self.timeout, trust_env=False
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


async def send(client: httpx.AsyncClient, psp: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; a timeout or a refused connection is `ServiceUnavailable` naming the PSP."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise ServiceUnavailable(f"{psp}: {method} {url} timed out") from None
    except httpx.HTTPError as error:
        raise ServiceUnavailable(
            f"{psp}: {method} {url} failed: {error.__class__.__name__} {error}"
        ) from None


def problem_detail(response: httpx.Response) -> str:
    """The PSP's explanation: RFC 7807 `detail` (+ API Pix `violacoes`), or Mercado Pago's `message`."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:200] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:200]
    text = str(body.get("detail") or body.get("message") or body.get("title") or body.get("error") or body)
    violations = body.get("violacoes") or body.get("cause")
    if isinstance(violations, list) and violations:
        parts = [_violation(item) for item in violations if isinstance(item, dict)]
        text += " (" + "; ".join(parts) + ")"
    return text


def _violation(item: dict[str, Any]) -> str:
    """API Pix `{propriedade, razao}` or Mercado Pago `{code, description}`."""
    where = item.get("propriedade") or item.get("code", "")
    return f"{where}: {item.get('razao') or item.get('description', '')}"


def raise_for_status(response: httpx.Response, psp: str) -> None:
    if response.is_success:
        return
    detail = problem_detail(response)
    where = f"{psp}: {response.request.method} {response.request.url.path}"
    if response.status_code == 404:
        raise NotFound(f"{where}: not found: {detail}")
    if response.status_code in (401, 403):
        raise ServiceUnavailable(
            f"{where}: the PSP refused our credentials ({response.status_code}): {detail}"
        )
    if response.status_code >= 500 or response.status_code == 429:
        raise ServiceUnavailable(f"{where}: the PSP answered {response.status_code}: {detail}")
    raise BadRequest(f"{where}: the PSP refused the request ({response.status_code}): {detail}")


def json_object(response: httpx.Response, psp: str) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ServiceUnavailable(f"{psp}: the PSP answered {response.status_code} without a JSON object")
    return body


# No PIX is this large (API Pix: at most 10 integer digits); anything beyond is not an amount.
MAX_AMOUNT = Decimal("1e10")
MAX_AMOUNT_CHARS = 40


def cents(value: Any) -> int:
    """`"10.50"` or `10.5` -> 1050, exactly (through Decimal, never float arithmetic).

    NaN, infinities, exponents beyond any real amount, booleans and other types are refused."""
    amount: Decimal | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value) if abs(value) < MAX_AMOUNT else None
    elif isinstance(value, str | float | Decimal) and len(str(value)) <= MAX_AMOUNT_CHARS:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = None
    if amount is None or not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        shown = repr(value)[:MAX_AMOUNT_CHARS] if isinstance(value, str) else type(value).__name__
        raise BadRequest(f"not an amount: {shown}")
    return int((amount * 100).to_integral_value())


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time (`Z` or an offset) as aware UTC; None when absent."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"not an RFC 3339 time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
