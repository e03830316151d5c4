"""The one interface every PIX provider (PSP) implements.

The payment service (`tgadmin/payment/service.py`) speaks only this interface; each PSP lives in
its own file beside this one: `sandbox.py` (API Pix pointed at the Telegram sandbox, no mTLS),
`static.py` (static code, an operator confirms), `apipix.py` (Banco Central's API Pix),
`mercadopago.py`. `get_provider(settings)` in `__init__.py` picks one from `PIX_PROVIDER`.

Contract notes for the service:
- `Charge.txid` is the id to pass back to `get_charge`/`cancel_charge`: our `ChargeRequest.txid`
  for API Pix and the sandbox, Mercado Pago's payment id for `mercadopago`. Store it as the
  transaction's provider txid.
- `create_charge` is safe to retry with the same `ChargeRequest.txid` (API Pix: an existing cob with
  that txid is read back; Mercado Pago: the txid is the idempotency key).
- `refund` is safe to retry with the same `refund_id` (the PSP answers with the existing refund);
  calling it again is also how to learn whether a refund still `EM_PROCESSAMENTO` got confirmed.
- `ChargeState.UNKNOWN`: the PSP answered a status the client does not know; apply nothing.
- Notifications are hints: `Notification.amount_cents` is None (amounts in a webhook body are
  never money); the service re-reads the charge.
- Errors: `BadRequest` (the PSP refused the request; its `detail` is in the message), `NotFound`
  (no such charge), `ServiceUnavailable` (timeout, 5xx, refused credentials), `Forbidden` (forged
  or unverifiable notification).
- `static` has no PSP: `get_charge` always answers ACTIVE (an operator confirms payments),
  `cancel_charge` answers CANCELLED without reaching anyone (a static code cannot be revoked), and
  `refund`/`parse_notification` raise with an explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import uuid4


class ChargeState(StrEnum):
    """A charge as the PSP reports it, mapped to our words."""

    ACTIVE = "active"  # waiting for payment (API Pix: ATIVA)
    PAID = "paid"  # API Pix: CONCLUIDA with a pix[] entry
    CANCELLED = "cancelled"  # removed by us or the PSP (REMOVIDA_PELO_USUARIO_RECEBEDOR / _PELO_PSP)
    REFUNDED = "refunded"
    # A status the PSP added after this client was written (API Pix lets enumerations grow):
    # nothing is applied on it; the charge is asked about again later.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ChargeRequest:
    txid: str  # our id for the charge; API Pix requires 26-35 alphanumerics
    amount_cents: int
    expires_in_seconds: int
    description: str  # shown to the payer (solicitacaoPagador)
    payer_name: str | None = None
    payer_email: str | None = None  # Mercado Pago requires one (falls back to MERCADOPAGO_PAYER_EMAIL)


@dataclass(frozen=True)
class Charge:
    provider: str
    txid: str
    state: ChargeState
    amount_cents: int
    copy_paste: str  # the BR Code the buyer pastes into the bank app
    expires_at: datetime | None
    pix_key: str | None = None
    end_to_end_id: str | None = None  # set once paid
    paid_at: datetime | None = None
    paid_amount_cents: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    """One payment notification, verified. `external_id` makes it unique per provider."""

    provider: str
    external_id: str
    txid: str | None
    end_to_end_id: str | None
    amount_cents: int | None
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Refund:
    refund_id: str
    end_to_end_id: str
    amount_cents: int
    confirmed: bool  # API Pix: DEVOLVIDO; EM_PROCESSAMENTO is not yet confirmed
    raw: Mapping[str, Any] = field(default_factory=dict)
    # The PSP will not carry this refund out (API Pix NAO_REALIZADO, Mercado Pago rejected): why.
    refused: str | None = None


def new_txid() -> str:
    """A fresh txid valid for every provider: 32 lower-case hex characters (API Pix: 26-35 alphanumerics)."""
    return uuid4().hex


class PixProvider(Protocol):
    name: str

    async def check(self) -> str:
        """One cheap authenticated call (`tgadmin check`); returns what answered, or raises."""
        ...

    async def aclose(self) -> None:
        """Close the provider's HTTP connections."""
        ...

    async def create_charge(self, request: ChargeRequest) -> Charge: ...

    async def get_charge(self, txid: str) -> Charge: ...

    async def cancel_charge(self, txid: str) -> Charge: ...

    async def refund(
        self, end_to_end_id: str, refund_id: str, amount_cents: int, *, txid: str | None = None
    ) -> Refund:
        """Refund (part of) a payment; `txid` (the `Charge.txid`) is needed by Mercado Pago only."""
        ...

    def parse_notification(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        *,
        path_secret: str | None = None,
    ) -> list[Notification]:
        """Verify (signature, secret) and parse a webhook; raise `errors.Forbidden` when forged.

        `path_secret` is the secret segment of the URL the notification came to, if it had one."""
        ...
