"""Charges nobody paid: cancelled at the PSP and expired at their time, and asked about with
backoff while pending (a notification may have been lost)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import metrics
from tgadmin.audit.service import Actor
from tgadmin.clock import utcnow
from tgadmin.errors import BadRequest, NotFound, ServiceUnavailable, TgadminError
from tgadmin.models import Transaction
from tgadmin.models.enums import TransactionStatus
from tgadmin.payment import repository
from tgadmin.payment.confirmation import apply_charge, fail_orphan_purchase
from tgadmin.payment.service import (
    SYSTEM,
    Outcome,
    Result,
    audit,
    load_transaction,
    poll_delay,
    provider_txid,
    snapshot,
)
from tgadmin.pix.providers.base import Charge, ChargeState, PixProvider

log = logging.getLogger(__name__)


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
        return await apply_charge(session, tx, charge, actor)
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
    if status == TransactionStatus.EXPIRED:
        metrics.PIX_CHARGES_EXPIRED.labels(tx.provider or tx.method.value).inc()
    await audit(session, actor, action, before, tx.id)
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
    return await apply_charge(session, tx, charge, actor)
