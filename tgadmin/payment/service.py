"""Payments: what every part of the domain shares, and what an operator may do to a transaction.

Where things happen: `charges.py` creates PIX charges; `confirmation.py` applies a payment exactly
once (PSP notifications, static PIX confirmed by an operator); `expiry.py` expires and polls the
charges nobody paid; `refunds.py` gives money back (PIX through the PSP or by hand, Stars through
Telegram); `stars.py` takes Telegram Stars.

Rules that hold everywhere here:
- A notification is only a hint. The charge is re-read from the PSP, and only what the PSP reports
  is applied (`confirmation.confirm_from_provider`).
- A payment is applied by one conditional UPDATE `pending|processing -> paid`; a second
  confirmation of the same charge changes nothing and says so (`Result.ALREADY_PAID`).
- Money we cannot honour (paid after expiry, paid twice, wrong amount) is recorded on its
  transaction with `needs_refund`, never dropped and never delivered.
- Functions flush, never commit. What must be enqueued is returned (`Outcome.deliver`,
  `Outcome.revoke`); the session owner enqueues it after its commit (`purchase.enqueue`).
- Every change writes an AuditLog row (the system, or the operator who acted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.config import PixProviderName, Settings
from tgadmin.errors import Conflict, Forbidden, NotFound
from tgadmin.models import Operator, Transaction
from tgadmin.models.enums import OperatorRole, PaymentMethod, TransactionStatus
from tgadmin.payment import repository

log = logging.getLogger(__name__)

SYSTEM = Actor.system("payments")
STATIC_PROVIDER = "static"
SANDBOX = PixProviderName.SANDBOX.value
OPERATORS = (OperatorRole.OPERATOR, OperatorRole.ADMIN)
# Polling for missed notifications: first after a minute, then doubling, at most every 10 minutes.
FIRST_POLL = timedelta(seconds=60)
MAX_POLL = timedelta(minutes=10)


class Result(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_PAID = "already_paid"
    DUPLICATE = "duplicate"  # the same notification again: not processed twice
    NOT_PAID = "not_paid"
    UNKNOWN_CHARGE = "unknown_charge"
    LATE_PAYMENT = "late_payment"  # paid after we expired the charge: kept, flagged for refund
    DOUBLE_PAYMENT = "double_payment"  # the purchase was already paid: kept, flagged for refund
    AMOUNT_MISMATCH = "amount_mismatch"  # paid another amount: kept, flagged for refund
    ALREADY_RECORDED = "already_recorded"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the PSP removed the charge
    SKIPPED = "skipped"  # another worker has it, or it changed meanwhile
    PSP_UNAVAILABLE = "psp_unavailable"
    FAILED = "failed"  # an unexpected error while handling it: logged, rolled back, retried later
    REFUNDED = "refunded"
    REFUND_PENDING = "refund_pending"  # the PSP accepted the refund but has not confirmed it yet
    REFUND_REFUSED = "refund_refused"  # the PSP will not carry the refund out: the money did not go back
    ALREADY_REFUNDED = "already_refunded"


@dataclass(frozen=True)
class Outcome:
    result: Result
    transaction_id: int | None = None
    # Purchases to hand to delivery once the caller has committed.
    deliver: tuple[int, ...] = ()
    # Refunded purchases whose access ends once the caller has committed (`purchase.enqueue.revoke_access`).
    revoke: tuple[int, ...] = ()
    detail: str | None = None  # the PSP's own words, where it gave a reason (a refused refund)


@dataclass(frozen=True)
class Payment:
    """A payment as its source reports it: the PSP (re-read), Telegram, or an operator."""

    amount_cents: int
    paid_at: datetime
    end_to_end_id: str | None = None
    telegram_payment_charge_id: str | None = None
    currency: str | None = None  # checked against the transaction's when the source says it

    def columns(self) -> dict[str, Any]:
        return {
            "end_to_end_id": self.end_to_end_id,
            "telegram_payment_charge_id": self.telegram_payment_charge_id,
            "paid_at": self.paid_at,
            "paid_amount_cents": self.amount_cents,
        }


def poll_delay(polls_done: int) -> timedelta:
    """Backoff between polls of one pending charge: 1, 2, 4, 8 minutes, then every 10."""
    delay: timedelta = FIRST_POLL * 2 ** max(polls_done - 1, 0)
    return min(delay, MAX_POLL)


def snapshot(tx: Transaction) -> dict[str, Any]:
    """What the audit trail keeps of a transaction (no QR image, no copy-paste code)."""
    return {
        "status": tx.status.value,
        "purchase_id": tx.purchase_id,
        "method": tx.method.value,
        "amount_cents": tx.amount_cents,
        "currency": tx.currency.value,
        "provider": tx.provider,
        "provider_txid": tx.provider_txid,
        "end_to_end_id": tx.end_to_end_id,
        "telegram_payment_charge_id": tx.telegram_payment_charge_id,
        "paid_amount_cents": tx.paid_amount_cents,
        "needs_refund": tx.needs_refund,
        "refund_id": tx.refund_id,
    }


async def audit(
    session: AsyncSession, actor: Actor, action: str, before: Transaction | dict[str, Any], tx_id: int
) -> Transaction:
    """Audit a change of transaction `tx_id`: `before` as it was, after as it is now; returns the row."""
    after = await load_transaction(session, tx_id)
    previous = before if isinstance(before, dict) else snapshot(before)
    await record(session, actor, action, "transaction", tx_id, before=previous, after=snapshot(after))
    return after


async def load_transaction(session: AsyncSession, transaction_id: int) -> Transaction:
    tx = await repository.transaction(session, transaction_id)
    if tx is None:
        raise NotFound(f"transaction {transaction_id} does not exist")
    return tx


def provider_txid(tx: Transaction) -> str:
    if not tx.provider_txid:
        raise Conflict(f"transaction {tx.id} has no provider charge")
    return tx.provider_txid


def require_role(operator: Operator, *roles: OperatorRole) -> Actor:
    if not operator.is_active or operator.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        raise Forbidden(f"only an active {allowed} may do this")
    return Actor.operator(operator.id, operator.email)


# --- what an operator may do --------------------------------------------------------------------


class Action(StrEnum):
    CONFIRM = "confirm"
    REFUND = "refund"
    SANDBOX_PAY = "sandbox_pay"


def configured_provider(settings: Settings) -> str:
    return settings.pix_provider.value


def sandbox_refusal(tx: Transaction, configured: str) -> str | None:
    """Why the sandbox bank cannot pay this transaction; None when it can."""
    if configured != SANDBOX:
        return f"the sandbox bank pays only while PIX_PROVIDER is sandbox; here it is {configured}"
    if tx.method != PaymentMethod.PIX or tx.provider != SANDBOX or not tx.pix_copy_paste:
        return f"transaction {tx.id} is not a charge of the sandbox PSP"
    if tx.status != TransactionStatus.PENDING:
        return f"transaction {tx.id} is {tx.status.value}: only a pending charge can be paid"
    return None


def _has_payment_to_refund(tx: Transaction, configured: str) -> bool:
    if tx.status == TransactionStatus.REFUNDED:
        return False
    if tx.status != TransactionStatus.PAID and not (tx.needs_refund and tx.paid_at is not None):
        return False
    if tx.method == PaymentMethod.STARS:
        return tx.telegram_payment_charge_id is not None
    if tx.method != PaymentMethod.PIX:
        return False
    return tx.provider == STATIC_PROVIDER or (tx.provider == configured and tx.end_to_end_id is not None)


def available(
    tx: Transaction, role: OperatorRole, configured: str, now: datetime | None = None
) -> list[Action]:
    """The actions `role` may take on `tx` now: the buttons of its row on the Sales page, and exactly
    what the JSON API accepts."""
    now = now or utcnow()
    actions = []
    if role in OPERATORS and tx.provider == STATIC_PROVIDER and tx.status in repository.LIVE:
        actions.append(Action.CONFIRM)
    unexpired = tx.pix_expires_at is None or tx.pix_expires_at > now
    if role in OPERATORS and unexpired and sandbox_refusal(tx, configured) is None:
        actions.append(Action.SANDBOX_PAY)
    if role == OperatorRole.ADMIN and _has_payment_to_refund(tx, configured):
        actions.append(Action.REFUND)
    return actions


async def sandbox_code(
    session: AsyncSession, settings: Settings, transaction_id: int, operator: Operator
) -> str:
    """The copy-paste code the sandbox bank is to pay, once it is sure it may."""
    require_role(operator, *OPERATORS)
    tx = await load_transaction(session, transaction_id)
    refusal = sandbox_refusal(tx, configured_provider(settings))
    if refusal is not None:
        raise Conflict(refusal)
    assert tx.pix_copy_paste is not None
    return tx.pix_copy_paste
