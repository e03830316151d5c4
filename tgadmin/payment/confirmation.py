"""A payment applied to its transaction exactly once: PSP notifications (re-read at the PSP), and
static PIX payments an operator saw on the bank statement."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import metrics
from tgadmin.audit.service import Actor
from tgadmin.clock import utcnow
from tgadmin.errors import BadRequest, Conflict
from tgadmin.models import Operator, Transaction
from tgadmin.models.enums import OperatorRole, PurchaseStatus, TransactionStatus
from tgadmin.models.transaction import MAX_AMOUNT_CENTS
from tgadmin.payment import repository
from tgadmin.payment.refunds import check_refund, refund_pending
from tgadmin.payment.service import (
    STATIC_PROVIDER,
    SYSTEM,
    Outcome,
    Payment,
    Result,
    audit,
    load_transaction,
    provider_txid,
    require_role,
    snapshot,
)
from tgadmin.pix.providers.base import Charge, ChargeState, Notification, PixProvider
from tgadmin.purchase import service as purchase_service

log = logging.getLogger(__name__)

# What an operator may type as a static payment's end-to-end id (the BCB's are 32 alphanumerics).
END_TO_END_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


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


async def confirm_from_provider(
    session: AsyncSession, provider: PixProvider, tx: Transaction, actor: Actor = SYSTEM
) -> Outcome:
    """Re-read the charge from the PSP (never the notification's word) and apply what it reports."""
    charge = await provider.get_charge(provider_txid(tx))
    return await apply_charge(session, tx, charge, actor)


async def apply_charge(session: AsyncSession, tx: Transaction, charge: Charge, actor: Actor) -> Outcome:
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
        await audit(session, actor, "payment.confirmed", before, tx.id)
        metrics.PIX_CHARGES_CONFIRMED.labels(tx.provider or tx.method.value).inc()
        return Outcome(Result.CONFIRMED, tx.id, deliver=(tx.purchase_id,))
    purchase = await repository.purchase(session, tx.purchase_id)
    state = purchase.status.value if purchase else "gone"
    await repository.flag_refund(session, tx.id, f"paid, but the purchase was already {state}")
    await audit(session, actor, "payment.flagged_for_refund", before, tx.id)
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
    await audit(session, actor, "payment.flagged_for_refund", before, tx.id)
    return Outcome(Result.AMOUNT_MISMATCH if is_mismatch else Result.LATE_PAYMENT, tx.id)


async def fail_orphan_purchase(session: AsyncSession, tx: Transaction) -> bool:
    """The purchase fails with its last live transaction (a newer charge may still be paid)."""
    if await repository.alive_siblings(session, tx.purchase_id, tx.id):
        return False
    return await purchase_service.move(session, tx.purchase_id, to=PurchaseStatus.FAILED)


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
