"""Payments: PIX charges, their confirmation (exactly once), expiry, polling, and refunds.

Rules that hold everywhere here:
- A notification is only a hint. The charge is re-read from the PSP, and only what the PSP reports
  is applied (`confirm_from_provider`).
- A payment is applied by one conditional UPDATE `pending|processing -> paid`; a second
  confirmation of the same charge changes nothing and says so (`Result.ALREADY_PAID`).
- Money we cannot honour (paid after expiry, paid twice, wrong amount) is recorded on its
  transaction with `needs_refund`, never dropped and never delivered.
- Functions flush, never commit. What must be enqueued is returned (`Outcome.deliver`); the session
  owner enqueues it after its commit (`delivery.DeliveryHook`).
- Every change writes an AuditLog row (the system, or the operator who acted).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable, TgadminError
from tgadmin.models import Operator, Purchase, Transaction
from tgadmin.models.enums import Currency, OperatorRole, PaymentMethod, PurchaseStatus, TransactionStatus
from tgadmin.models.transaction import MAX_AMOUNT_CENTS
from tgadmin.payment import repository
from tgadmin.pix.providers.base import (
    Charge,
    ChargeRequest,
    ChargeState,
    Notification,
    PixProvider,
    new_txid,
)
from tgadmin.pix.qr import qr_png
from tgadmin.purchase import service as purchase_service

log = logging.getLogger(__name__)

SYSTEM = Actor.system("payments")
STATIC_PROVIDER = "static"
# Polling for missed notifications: first after a minute, then doubling, at most every 10 minutes.
FIRST_POLL = timedelta(seconds=60)
MAX_POLL = timedelta(minutes=10)
QR_DATA_URI = "data:image/png;base64,"
MAX_DESCRIPTION = 140
# What an operator may type as a static payment's end-to-end id (the BCB's are 32 alphanumerics).
END_TO_END_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


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
    ALREADY_REFUNDED = "already_refunded"


@dataclass(frozen=True)
class Outcome:
    result: Result
    transaction_id: int | None = None
    # Purchases to hand to delivery once the caller has committed.
    deliver: tuple[int, ...] = ()
    # Refunded purchases whose access ends once the caller has committed (`delivery.revoke_access`).
    revoke: tuple[int, ...] = ()


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


async def _audit(
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


def qr_data_uri(copy_paste: str) -> str:
    """The QR image stored with the charge: a PNG data URI (a Telegram photo once decoded, an <img>)."""
    return QR_DATA_URI + base64.b64encode(qr_png(copy_paste)).decode("ascii")


def qr_image_bytes(tx: Transaction) -> bytes:
    if not tx.pix_qr_image or not tx.pix_qr_image.startswith(QR_DATA_URI):
        raise NotFound(f"transaction {tx.id} has no QR image")
    return base64.b64decode(tx.pix_qr_image.removeprefix(QR_DATA_URI))


# --- creating a charge ------------------------------------------------------------------------


async def pending_purchase(session: AsyncSession, purchase_id: int) -> Purchase:
    purchase = await repository.purchase(session, purchase_id)
    if purchase is None:
        raise NotFound(f"purchase {purchase_id} does not exist")
    if purchase.status != PurchaseStatus.PENDING:
        raise Conflict(f"purchase {purchase_id} is {purchase.status.value}, not pending: it cannot be paid")
    return purchase


def check_pix_amount(amount_cents: int, currency: Currency) -> None:
    if currency != Currency.BRL:
        raise BadRequest(f"PIX charges are in BRL, not {currency.value}")
    if amount_cents <= 0:
        raise BadRequest(f"a PIX charge needs a positive amount, not {amount_cents} cents")


async def create_pix_charge(
    session: AsyncSession,
    provider: PixProvider,
    purchase_id: int,
    *,
    expires_minutes: int,
    actor: Actor = SYSTEM,
) -> Transaction:
    """A PIX charge for a pending purchase; the open one is returned again if the buyer asks twice."""
    purchase = await pending_purchase(session, purchase_id)
    check_pix_amount(purchase.amount_cents, purchase.currency)
    if expires_minutes <= 0:
        raise BadRequest("PIX_EXPIRES_MINUTES must be positive")
    now = utcnow()
    existing = await repository.open_charge(session, purchase.id, PaymentMethod.PIX, provider.name, now)
    if existing is not None:
        return existing
    product = await repository.product(session, purchase.product_id)
    request = ChargeRequest(
        txid=new_txid(),
        amount_cents=purchase.amount_cents,
        expires_in_seconds=expires_minutes * 60,
        description=(product.title if product else f"Pedido {purchase.id}")[:MAX_DESCRIPTION],
    )
    charge = await provider.create_charge(request)
    if charge.amount_cents != purchase.amount_cents:
        raise ServiceUnavailable(
            f"{provider.name} created a charge of {charge.amount_cents} cents, "
            f"not the {purchase.amount_cents} asked for"
        )
    tx = Transaction(
        purchase_id=purchase.id,
        method=PaymentMethod.PIX,
        amount_cents=purchase.amount_cents,
        currency=Currency.BRL,
        status=TransactionStatus.PENDING,
        provider=provider.name,
        provider_txid=charge.txid,
        pix_key=charge.pix_key,
        pix_copy_paste=charge.copy_paste,
        pix_qr_image=qr_data_uri(charge.copy_paste),
        pix_expires_at=now + timedelta(minutes=expires_minutes),
        next_poll_at=now + FIRST_POLL,
        poll_count=0,
        needs_refund=False,
    )
    session.add(tx)
    await session.flush()
    await record(session, actor, "payment.charge_created", "transaction", tx.id, after=snapshot(tx))
    return tx


# --- confirming a payment ---------------------------------------------------------------------


async def handle_notification(session: AsyncSession, provider: PixProvider, note: Notification) -> Outcome:
    """A verified PSP notification: stored once in the inbox, then the charge is re-read and applied.

    The same notification again (PSP retry, duplicate delivery) is recognised by the inbox's unique
    (provider, external id) and changes nothing. A notification about a charge we never created is
    answered but not stored (anyone holding the secret could otherwise fill the inbox). When the
    charge has a refund still in processing, the refund is asked about too: API Pix notifies a
    refund that reached its final status with the payment's own entry."""
    # The insert comes first: on SQLite a unit of work that read before writing fails when another
    # wrote meanwhile; the insert takes the write lock (and, on both, decides duplicates).
    event_id = await repository.insert_event(session, provider.name, note.external_id, note.payload)
    if event_id is None:
        return Outcome(Result.DUPLICATE)
    tx = await repository.transaction_by_txid(session, provider.name, note.txid) if note.txid else None
    if tx is None:
        await repository.delete_event(session, event_id)  # in this unit of work: never committed
        log.warning("%s notification %s names no charge of ours; not stored", provider.name, note.external_id)
        return Outcome(Result.UNKNOWN_CHARGE)
    actor = Actor.system(f"webhook:{provider.name}")
    if refund_pending(tx):
        outcome = await check_refund(session, provider, tx, actor)
    else:
        outcome = await confirm_from_provider(session, provider, tx, actor)
    await repository.finish_event(session, event_id, outcome.result.value)
    return outcome


def provider_txid(tx: Transaction) -> str:
    if not tx.provider_txid:
        raise Conflict(f"transaction {tx.id} has no provider charge")
    return tx.provider_txid


async def confirm_from_provider(
    session: AsyncSession, provider: PixProvider, tx: Transaction, actor: Actor = SYSTEM
) -> Outcome:
    """Re-read the charge from the PSP (never the notification's word) and apply what it reports."""
    charge = await provider.get_charge(provider_txid(tx))
    return await _apply_charge(session, tx, charge, actor)


async def _apply_charge(session: AsyncSession, tx: Transaction, charge: Charge, actor: Actor) -> Outcome:
    if charge.state != ChargeState.PAID or not charge.end_to_end_id:
        return Outcome(Result.NOT_PAID, tx.id)
    paid = charge.paid_amount_cents if charge.paid_amount_cents is not None else charge.amount_cents
    payment = Payment(
        amount_cents=paid, paid_at=charge.paid_at or utcnow(), end_to_end_id=charge.end_to_end_id
    )
    return await apply_payment(session, tx, payment, actor)


async def _check_payment_is_ours(session: AsyncSession, tx: Transaction, payment: Payment) -> None:
    """An end-to-end id (or Stars charge id) pays one transaction only."""
    owners = []
    if payment.end_to_end_id:
        owners.append(await repository.transaction_id_by_end_to_end(session, payment.end_to_end_id))
    if payment.telegram_payment_charge_id:
        owners.append(
            await repository.transaction_id_by_charge_id(session, payment.telegram_payment_charge_id)
        )
    if any(owner is not None and owner != tx.id for owner in owners):
        paid_by = payment.end_to_end_id or payment.telegram_payment_charge_id
        raise Conflict(f"payment {paid_by} already pays another transaction")


def _mismatch(tx: Transaction, payment: Payment) -> str | None:
    if payment.currency is not None and payment.currency != tx.currency.value:
        return f"paid in {payment.currency}, charged in {tx.currency.value}"
    if payment.amount_cents != tx.amount_cents:
        return f"paid {payment.amount_cents}, charged {tx.amount_cents} ({tx.currency.value} cents)"
    return None


async def apply_payment(session: AsyncSession, tx: Transaction, payment: Payment, actor: Actor) -> Outcome:
    """Apply a payment to its transaction exactly once (one conditional UPDATE decides)."""
    await _check_payment_is_ours(session, tx, payment)
    mismatch = _mismatch(tx, payment)
    if mismatch is not None:
        return await _keep_unexpected(session, tx, payment, f"amount mismatch: {mismatch}", actor)
    before = snapshot(tx)
    if await repository.move_transaction(session, tx.id, TransactionStatus.PAID, **payment.columns()):
        return await _settle_purchase(session, tx, before, actor)
    current = await load_transaction(session, tx.id)
    if current.status in (TransactionStatus.PAID, TransactionStatus.REFUNDED):
        return Outcome(Result.ALREADY_PAID, tx.id)
    reason = f"paid after the charge was {current.status.value}"
    return await _keep_unexpected(session, current, payment, reason, actor)


async def _settle_purchase(
    session: AsyncSession, tx: Transaction, before: dict[str, Any], actor: Actor
) -> Outcome:
    if await purchase_service.move(session, tx.purchase_id, to=PurchaseStatus.PAID):
        await _audit(session, actor, "payment.confirmed", before, tx.id)
        return Outcome(Result.CONFIRMED, tx.id, deliver=(tx.purchase_id,))
    purchase = await repository.purchase(session, tx.purchase_id)
    state = purchase.status.value if purchase else "gone"
    await repository.flag_refund(session, tx.id, f"paid, but the purchase was already {state}")
    await _audit(session, actor, "payment.flagged_for_refund", before, tx.id)
    return Outcome(Result.DOUBLE_PAYMENT, tx.id)


async def _keep_unexpected(
    session: AsyncSession, tx: Transaction, payment: Payment, reason: str, actor: Actor
) -> Outcome:
    """A payment we will not deliver for: recorded with its amount and flagged for refund, once."""
    before = snapshot(tx)
    is_mismatch = reason.startswith("amount mismatch")
    if tx.status in repository.LIVE:
        await repository.move_transaction(session, tx.id, TransactionStatus.FAILED, failed_at=utcnow())
    if not await repository.record_unexpected_payment(session, tx.id, reason, **payment.columns()):
        return Outcome(Result.ALREADY_RECORDED, tx.id)
    await fail_orphan_purchase(session, tx)
    log.warning("transaction %s: %s; flagged for refund", tx.id, reason)
    await _audit(session, actor, "payment.flagged_for_refund", before, tx.id)
    return Outcome(Result.AMOUNT_MISMATCH if is_mismatch else Result.LATE_PAYMENT, tx.id)


async def fail_orphan_purchase(session: AsyncSession, tx: Transaction) -> bool:
    """The purchase fails with its last live transaction (a newer charge may still be paid)."""
    if await repository.alive_siblings(session, tx.purchase_id, tx.id):
        return False
    return await purchase_service.move(session, tx.purchase_id, to=PurchaseStatus.FAILED)


# --- expiry and polling -----------------------------------------------------------------------


async def _cancel_unless_paid(provider: PixProvider, txid: str) -> Charge | None:
    """The charge as the PSP leaves it: paid, or cancelled; None when the PSP has no such charge.

    An API Pix charge stays ATIVA after its expiry (only paying is refused), so it is cancelled
    explicitly; a cancel refused by the PSP most likely means it was paid a moment ago."""
    try:
        charge = await provider.get_charge(txid)
        if charge.state != ChargeState.ACTIVE:
            return charge
        try:
            return await provider.cancel_charge(txid)
        except BadRequest:
            charge = await provider.get_charge(txid)
            if charge.state == ChargeState.ACTIVE:
                raise
            return charge
    except NotFound:
        return None


async def expire_charge(
    session: AsyncSession,
    provider: PixProvider,
    transaction_id: int,
    *,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Outcome:
    """An unpaid charge past `pix_expires_at`: re-checked at the PSP, cancelled there, expired here."""
    now = now or utcnow()
    if not await repository.claim_for_expiry(session, transaction_id, now):
        return Outcome(Result.SKIPPED, transaction_id)
    tx = await load_transaction(session, transaction_id)
    try:
        charge = await _cancel_unless_paid(provider, provider_txid(tx))
    except (ServiceUnavailable, BadRequest) as error:
        log.warning("expiring transaction %s: %s; will retry", tx.id, error.message)
        return Outcome(Result.PSP_UNAVAILABLE, tx.id)
    if charge is not None and charge.state == ChargeState.PAID:
        return await _apply_charge(session, tx, charge, actor)
    if charge is not None and charge.state == ChargeState.UNKNOWN:
        log.warning("expiring transaction %s: the PSP reports a state we do not know; will retry", tx.id)
        return Outcome(Result.PSP_UNAVAILABLE, tx.id)
    return await _give_up(
        session, tx, TransactionStatus.EXPIRED, f"expired unpaid; cancelled at {tx.provider}", actor
    )


async def _give_up(
    session: AsyncSession, tx: Transaction, status: TransactionStatus, reason: str, actor: Actor
) -> Outcome:
    before = snapshot(tx)
    moved = await repository.move_transaction(
        session, tx.id, status, failed_at=utcnow(), failure_reason=reason
    )
    if not moved:
        return Outcome(Result.SKIPPED, tx.id)
    await fail_orphan_purchase(session, tx)
    action = "payment.expired" if status == TransactionStatus.EXPIRED else "payment.cancelled"
    await _audit(session, actor, action, before, tx.id)
    return Outcome(Result.EXPIRED if status == TransactionStatus.EXPIRED else Result.CANCELLED, tx.id)


async def poll_charge(
    session: AsyncSession,
    provider: PixProvider,
    transaction_id: int,
    seen_poll_count: int,
    *,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Outcome:
    """Ask the PSP about one pending charge (a notification may have been lost); backs off each time."""
    now = now or utcnow()
    next_at = now + poll_delay(seen_poll_count + 1)
    if not await repository.claim_for_poll(session, transaction_id, seen_poll_count, next_at):
        return Outcome(Result.SKIPPED, transaction_id)
    tx = await load_transaction(session, transaction_id)
    try:
        charge = await provider.get_charge(provider_txid(tx))
    except TgadminError as error:
        # Down, or an answer that does not parse (a status it invented): this charge backs off.
        log.warning("polling transaction %s: %s", tx.id, error.message)
        return Outcome(Result.PSP_UNAVAILABLE, tx.id)
    if charge.state == ChargeState.CANCELLED:
        return await _give_up(session, tx, TransactionStatus.FAILED, f"cancelled at {tx.provider}", actor)
    return await _apply_charge(session, tx, charge, actor)


def refund_pending(tx: Transaction) -> bool:
    """A refund was requested at the PSP and is not known to be settled yet."""
    return tx.refund_id is not None and (
        tx.status == TransactionStatus.PAID or (tx.needs_refund and tx.paid_at is not None)
    )


async def poll_refund(
    session: AsyncSession,
    provider: PixProvider,
    transaction_id: int,
    seen_poll_count: int,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Ask the PSP about one refund still in processing (its callback may be lost); backs off each time."""
    now = now or utcnow()
    next_at = now + poll_delay(seen_poll_count + 1)
    if not await repository.claim_refund_check(session, transaction_id, seen_poll_count, next_at):
        return Outcome(Result.SKIPPED, transaction_id)
    tx = await load_transaction(session, transaction_id)
    try:
        return await check_refund(session, provider, tx)
    except TgadminError as error:
        log.warning("asking about the refund of transaction %s: %s", tx.id, error.message)
        return Outcome(Result.PSP_UNAVAILABLE, tx.id)


async def check_refund(
    session: AsyncSession, provider: PixProvider, tx: Transaction, actor: Actor = SYSTEM
) -> Outcome:
    """Ask the PSP about a refund still in processing (the same refund id again: it reads the refund
    back) and settle it once the PSP confirms it."""
    if not tx.end_to_end_id or not tx.refund_id:
        raise Conflict(f"transaction {tx.id} has no refund to ask about")
    amount = tx.paid_amount_cents if tx.paid_amount_cents is not None else tx.amount_cents
    answer = await provider.refund(tx.end_to_end_id, tx.refund_id, amount, txid=tx.provider_txid)
    if not answer.confirmed:
        return Outcome(Result.REFUND_PENDING, tx.id)
    return await settle_refund(session, tx, actor, snapshot(tx))


# --- operators: static PIX and refunds --------------------------------------------------------


def require_role(operator: Operator, *roles: OperatorRole) -> Actor:
    if not operator.is_active or operator.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        raise Forbidden(f"only an active {allowed} may do this")
    return Actor.operator(operator.id, operator.email)


async def confirm_static_payment(
    session: AsyncSession,
    transaction_id: int,
    operator: Operator,
    *,
    end_to_end_id: str | None = None,
    amount_cents: int | None = None,
    paid_at: datetime | None = None,
) -> Outcome:
    """An operator saw a static-code payment on the bank statement and confirms it (audited)."""
    actor = require_role(operator, OperatorRole.ADMIN, OperatorRole.OPERATOR)
    tx = await load_transaction(session, transaction_id)
    if tx.provider != STATIC_PROVIDER:
        raise BadRequest(
            f"transaction {tx.id} is paid through {tx.provider}: the PSP confirms it, not an operator"
        )
    amount = tx.amount_cents if amount_cents is None else amount_cents
    if not 0 < amount <= MAX_AMOUNT_CENTS:
        raise BadRequest(
            f"a payment amount must be positive and at most {MAX_AMOUNT_CENTS}, not {amount} cents"
        )
    e2e = (end_to_end_id or "").strip() or f"manual{tx.id}"
    if not END_TO_END_ID.fullmatch(e2e):
        raise BadRequest(f"{e2e!r} is not an end-to-end id: at most 64 letters and digits")
    payment = Payment(amount_cents=amount, paid_at=paid_at or utcnow(), end_to_end_id=e2e)
    return await apply_payment(session, tx, payment, actor)


def refund_id_for(tx: Transaction) -> str:
    """Our refund id: the same for every retry of this transaction's refund (1-35 alphanumerics)."""
    paid_by = tx.end_to_end_id or tx.telegram_payment_charge_id or ""
    return "R" + hashlib.sha256(f"tgadmin-refund:{tx.id}:{paid_by}".encode()).hexdigest()[:32]


def _refundable(tx: Transaction) -> int:
    """The amount to give back; raises when there is nothing to refund."""
    if tx.status == TransactionStatus.REFUNDED or (tx.refunded_at is not None and not tx.needs_refund):
        raise Conflict(f"transaction {tx.id} is already refunded")
    flagged = tx.needs_refund and tx.paid_at is not None
    if tx.status != TransactionStatus.PAID and not flagged:
        raise Conflict(f"transaction {tx.id} is {tx.status.value}: there is no payment to refund")
    return tx.paid_amount_cents if tx.paid_amount_cents is not None else tx.amount_cents


async def refund_pix(
    session: AsyncSession, provider: PixProvider, transaction_id: int, operator: Operator
) -> Outcome:
    """An admin refunds a PIX payment in full; marked refunded only once the PSP confirms it.

    Safe to retry: the refund id is derived from the transaction, so the PSP answers a retry with
    the refund it already has (and a refund still in processing is confirmed by a later retry)."""
    actor = require_role(operator, OperatorRole.ADMIN)
    tx = await load_transaction(session, transaction_id)
    if tx.method != PaymentMethod.PIX or tx.provider != provider.name:
        raise BadRequest(f"transaction {tx.id} was not paid through {provider.name}")
    amount = _refundable(tx)
    if not tx.end_to_end_id:
        raise Conflict(f"transaction {tx.id} has no end-to-end id to refund")
    refund_id = refund_id_for(tx)
    answer = await provider.refund(tx.end_to_end_id, refund_id, amount, txid=tx.provider_txid)
    before = snapshot(tx)
    # Still in processing: polling asks again (the PSP's callback may confirm it first).
    check_at = None if answer.confirmed else utcnow() + FIRST_POLL
    await repository.set_refund(session, tx.id, refund_id, check_at)
    if not answer.confirmed:
        await _audit(session, actor, "payment.refund_requested", before, tx.id)
        return Outcome(Result.REFUND_PENDING, tx.id)
    return await settle_refund(session, tx, actor, before)


async def record_manual_refund(session: AsyncSession, transaction_id: int, operator: Operator) -> Outcome:
    """Static PIX has no PSP: an admin sent the money back from the bank app and records it."""
    actor = require_role(operator, OperatorRole.ADMIN)
    tx = await load_transaction(session, transaction_id)
    if tx.provider != STATIC_PROVIDER:
        raise BadRequest(f"transaction {tx.id} is refunded through {tx.provider}, not by hand")
    _refundable(tx)
    return await settle_refund(session, tx, actor, snapshot(tx))


async def settle_refund(
    session: AsyncSession, tx: Transaction, actor: Actor, before: dict[str, Any]
) -> Outcome:
    """The money went back: transaction (and its purchase, if this payment was the purchase's) refunded."""
    now = utcnow()
    revoke: tuple[int, ...] = ()
    if tx.needs_refund:
        # A payment we never honoured: the purchase was not bought with it, so it stays as it is.
        changed = await repository.settle_flagged_refund(session, tx.id, now)
        if changed and tx.status == TransactionStatus.PAID:
            await repository.move_transaction(session, tx.id, TransactionStatus.REFUNDED)
    else:
        changed = await repository.move_transaction(
            session, tx.id, TransactionStatus.REFUNDED, refunded_at=now
        )
        if changed and await purchase_service.move(session, tx.purchase_id, to=PurchaseStatus.REFUNDED):
            revoke = (tx.purchase_id,)
    if not changed:
        return Outcome(Result.ALREADY_REFUNDED, tx.id)
    await _audit(session, actor, "payment.refunded", before, tx.id)
    return Outcome(Result.REFUNDED, tx.id, revoke=revoke)
