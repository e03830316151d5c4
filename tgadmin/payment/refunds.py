"""Refunds: the whole payment given back the way it came, once the PSP or Telegram confirms it.

PIX through a PSP: the configured provider (a refund still in processing is asked about again, by
the operator retrying, by polling, or by the PSP's callback); static PIX: an admin gave the money back
from the bank app and records it; Telegram Stars: through the bot that received them. The refund id
is derived from the transaction, so every retry names the same refund and nobody is refunded twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.config import Settings
from tgadmin.errors import BadRequest, Conflict, NotFound, TgadminError
from tgadmin.models import Bot as BotRecord
from tgadmin.models import Operator, Transaction
from tgadmin.models.enums import OperatorRole, PaymentMethod, PurchaseStatus, TransactionStatus
from tgadmin.payment import repository
from tgadmin.payment.service import (
    FIRST_POLL,
    STATIC_PROVIDER,
    SYSTEM,
    Outcome,
    Result,
    audit,
    configured_provider,
    load_transaction,
    poll_delay,
    require_role,
    snapshot,
)
from tgadmin.pix.providers.base import PixProvider
from tgadmin.purchase import service as purchase_service
from tgadmin.telegram import bots
from tgadmin.telegram import stars as telegram_stars

log = logging.getLogger(__name__)

# Refunds a Stars payment through Telegram (`refundStarPayment`); True once Telegram confirms.
StarsRefunder = Callable[[int, str], Awaitable[bool]]


class Providers(Protocol):
    """Where the process keeps its PIX provider (the dashboard's `PaymentRuntime`)."""

    settings: Settings

    def provider(self, name: str) -> PixProvider: ...


async def refund(
    session: AsyncSession, providers: Providers, transaction_id: int, operator: Operator
) -> Outcome:
    """An admin gives a payment back the way it came (see the module docstring)."""
    require_role(operator, OperatorRole.ADMIN)
    tx = await load_transaction(session, transaction_id)
    if tx.method == PaymentMethod.STARS:
        return await _refund_stars(session, providers.settings, tx, operator)
    if tx.method != PaymentMethod.PIX:
        raise BadRequest(f"transaction {tx.id} was paid by {tx.method.value}, which is not refunded here")
    if tx.provider == STATIC_PROVIDER:
        return await record_manual_refund(session, tx.id, operator)
    provider = providers.provider(configured_provider(providers.settings))
    return await refund_pix(session, provider, tx.id, operator)


# --- PIX ---------------------------------------------------------------------------------------


def refund_id_for(tx: Transaction) -> str:
    """Our refund id: the same for every retry of this transaction's refund (1-35 alphanumerics);
    a new one only after the PSP refused the last (it keeps a refused refund under its id)."""
    paid_by = tx.end_to_end_id or tx.telegram_payment_charge_id or ""
    attempt = f":{tx.refund_attempts}" if tx.refund_attempts else ""
    return "R" + hashlib.sha256(f"tgadmin-refund:{tx.id}:{paid_by}{attempt}".encode()).hexdigest()[:32]


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
    if answer.refused is not None:
        return await refund_refused(session, tx, actor, before, answer.refused)
    # Still in processing: polling asks again (the PSP's callback may confirm it first).
    check_at = None if answer.confirmed else utcnow() + FIRST_POLL
    await repository.set_refund(session, tx.id, refund_id, check_at)
    if not answer.confirmed:
        await audit(session, actor, "payment.refund_requested", before, tx.id)
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
    await audit(session, actor, "payment.refunded", before, tx.id)
    return Outcome(Result.REFUNDED, tx.id, revoke=revoke)


async def refund_refused(
    session: AsyncSession, tx: Transaction, actor: Actor, before: dict[str, Any], reason: str
) -> Outcome:
    """The PSP will not carry the refund out: the money did not go back. The request is closed (no
    more polling), the payment stays paid and refundable, and the next refund is a new one."""
    if not await repository.close_refused_refund(session, tx.id, tx.refund_attempts):
        return Outcome(Result.SKIPPED, tx.id)  # another check closed it first
    after = snapshot(await load_transaction(session, tx.id)) | {"refund_refused": reason}
    await record(session, actor, "payment.refund_refused", "transaction", tx.id, before=before, after=after)
    return Outcome(Result.REFUND_REFUSED, tx.id, detail=reason)


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
    if answer.refused is not None:
        return await refund_refused(session, tx, actor, snapshot(tx), answer.refused)
    if not answer.confirmed:
        return Outcome(Result.REFUND_PENDING, tx.id)
    return await settle_refund(session, tx, actor, snapshot(tx))


# --- Telegram Stars -----------------------------------------------------------------------------


async def _seller(session: AsyncSession, tx: Transaction) -> BotRecord:
    """The bot the Stars were paid to: only it can give them back."""
    purchase = await repository.purchase(session, tx.purchase_id)
    if purchase is not None and purchase.bot_id is not None:
        found = await bots.find(session, purchase.bot_id)
        if found is not None:
            return found
    else:
        # Purchases made before bots were recorded on them: unambiguous while there is one bot.
        active = await bots.active_bots(session)
        if len(active) == 1:
            return active[0]
    raise Conflict(
        f"transaction {tx.id}: the bot that received these Stars is unknown or gone, "
        "and only that bot can refund them"
    )


async def _refund_stars(
    session: AsyncSession, settings: Settings, tx: Transaction, operator: Operator
) -> Outcome:
    seller = await _seller(session, tx)
    refunder = partial(telegram_stars.refund_star_payment, settings, seller.token, bot_name=seller.username)
    return await refund_stars(session, tx.id, operator, refunder)


async def refund_stars(
    session: AsyncSession, transaction_id: int, operator: Operator, refunder: StarsRefunder
) -> Outcome:
    """An admin gives the Stars back (`refundStarPayment`); refunded only when Telegram confirms."""
    actor = require_role(operator, OperatorRole.ADMIN)
    tx = await load_transaction(session, transaction_id)
    if tx.method != PaymentMethod.STARS or not tx.telegram_payment_charge_id:
        raise BadRequest(f"transaction {tx.id} is not a Stars payment")
    if tx.status == TransactionStatus.REFUNDED:
        return Outcome(Result.ALREADY_REFUNDED, tx.id)
    if tx.status != TransactionStatus.PAID and not tx.needs_refund:
        raise Conflict(f"transaction {tx.id} is {tx.status.value}: there is no payment to refund")
    purchase = await repository.purchase(session, tx.purchase_id)
    buyer = await repository.buyer(session, purchase.user_id) if purchase else None
    if buyer is None:
        raise NotFound(f"the buyer of transaction {tx.id} is unknown")
    before = snapshot(tx)
    await repository.set_refund(session, tx.id, refund_id_for(tx))
    if not await refunder(buyer.telegram_id, tx.telegram_payment_charge_id):
        await record(session, actor, "payment.refund_requested", "transaction", tx.id, before=before)
        return Outcome(Result.REFUND_PENDING, tx.id)
    return await settle_refund(session, tx, actor, before)
