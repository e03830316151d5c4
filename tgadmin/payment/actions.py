"""The operator's payment actions, as both transports (JSON API, dashboard pages) run them.

Each action picks the service for the transaction at hand — static PIX: an operator's word; PIX
through a PSP: the configured provider; Stars: Telegram, through the bot that sold them — and
returns what the service decided. The transport owns the unit of work: it commits, then hands
`Outcome.deliver` to delivery (`commit_and_deliver`). What an operator may do to a transaction now
(`available`) is decided here too, so the page offers exactly what the API accepts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiogram.exceptions import TelegramAPIError
from aiohttp import ClientError
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.clock import utcnow
from tgadmin.config import PixProviderName, Settings
from tgadmin.errors import BadRequest, Conflict, ServiceUnavailable
from tgadmin.models import Bot as BotRecord
from tgadmin.models import Operator, Transaction
from tgadmin.models.enums import OperatorRole, PaymentMethod, TransactionStatus
from tgadmin.payment import repository, service, stars
from tgadmin.payment.bot import stars_refunder
from tgadmin.payment.service import Outcome, Result
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.telegram.bots import active_bots
from tgadmin.telegram.client import make_bot

log = logging.getLogger(__name__)

OPERATORS = (OperatorRole.OPERATOR, OperatorRole.ADMIN)
SANDBOX = PixProviderName.SANDBOX.value
STARS_TIMEOUT = 20.0


class Action(StrEnum):
    CONFIRM = "confirm"
    REFUND = "refund"
    SANDBOX_PAY = "sandbox_pay"


# What each outcome means to the operator who acted.
MESSAGES: dict[Result, str] = {
    Result.CONFIRMED: "payment confirmed: the purchase is paid and its delivery is queued",
    Result.ALREADY_PAID: "this transaction was already paid; nothing changed",
    Result.LATE_PAYMENT: (
        "the charge had already expired or been cancelled: the payment is recorded and flagged "
        "for refund, and nothing is delivered"
    ),
    Result.AMOUNT_MISMATCH: (
        "the amount paid differs from the charge: the payment is recorded and flagged for refund, "
        "and nothing is delivered"
    ),
    Result.DOUBLE_PAYMENT: "the purchase was already paid: this payment is recorded and flagged for refund",
    Result.ALREADY_RECORDED: "this payment was already recorded; nothing changed",
    Result.REFUNDED: "refunded: the money went back to the buyer",
    Result.REFUND_PENDING: (
        "refund requested, not confirmed yet: refund again later to check (the buyer is never refunded twice)"
    ),
    Result.ALREADY_REFUNDED: "already refunded; nothing changed",
}


def message_for(outcome: Outcome) -> str:
    return MESSAGES.get(outcome.result, outcome.result.value.replace("_", " "))


def runtime(request: Request) -> PaymentRuntime:
    """The process's PIX provider and delivery hook (opened by the webhook router's lifespan)."""
    existing: PaymentRuntime | None = getattr(request.app.state, "payments", None)
    if existing is None:
        existing = request.app.state.payments = PaymentRuntime(request.app.state.tgadmin.settings)
    return existing


async def commit_and_deliver(session: AsyncSession, payments: PaymentRuntime, outcome: Outcome) -> None:
    """End the request's unit of work here, then hand paid purchases to delivery and refunded ones to
    the end of their access: the jobs must find the purchase as committed, and none may be queued for
    a change rolled back."""
    await session.commit()
    await payments.deliver(outcome.deliver)
    await payments.revoke(outcome.revoke)


# --- what may be done ---------------------------------------------------------------------------


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
    return tx.provider == service.STATIC_PROVIDER or (
        tx.provider == configured and tx.end_to_end_id is not None
    )


def available(
    tx: Transaction, role: OperatorRole, configured: str, now: datetime | None = None
) -> list[Action]:
    """The actions `role` may take on `tx` now (the buttons of its row on the Sales page)."""
    now = now or utcnow()
    actions = []
    if role in OPERATORS and tx.provider == service.STATIC_PROVIDER and tx.status in repository.LIVE:
        actions.append(Action.CONFIRM)
    unexpired = tx.pix_expires_at is None or tx.pix_expires_at > now
    if role in OPERATORS and unexpired and sandbox_refusal(tx, configured) is None:
        actions.append(Action.SANDBOX_PAY)
    if role == OperatorRole.ADMIN and _has_payment_to_refund(tx, configured):
        actions.append(Action.REFUND)
    return actions


# --- refunds ------------------------------------------------------------------------------------


async def refund(
    session: AsyncSession, payments: PaymentRuntime, transaction_id: int, operator: Operator
) -> Outcome:
    """An admin gives a payment back the way it came (see the module docstring)."""
    service.require_role(operator, OperatorRole.ADMIN)
    tx = await service.load_transaction(session, transaction_id)
    if tx.method == PaymentMethod.STARS:
        return await _refund_stars(session, payments.settings, tx, operator)
    if tx.method != PaymentMethod.PIX:
        raise BadRequest(f"transaction {tx.id} was paid by {tx.method.value}, which is not refunded here")
    if tx.provider == service.STATIC_PROVIDER:
        return await service.record_manual_refund(session, tx.id, operator)
    provider = payments.provider(configured_provider(payments.settings))
    return await service.refund_pix(session, provider, tx.id, operator)


async def _seller(session: AsyncSession, tx: Transaction) -> BotRecord:
    """The bot the Stars were paid to: only it can give them back."""
    purchase = await repository.purchase(session, tx.purchase_id)
    if purchase is not None and purchase.bot_id is not None:
        record = await session.get(BotRecord, purchase.bot_id)
        if record is not None:
            return record
    else:
        # Purchases made before bots were recorded on them: unambiguous while there is one bot.
        bots = await active_bots(session)
        if len(bots) == 1:
            return bots[0]
    raise Conflict(
        f"transaction {tx.id}: the bot that received these Stars is unknown or gone, "
        "and only that bot can refund them"
    )


async def _refund_stars(
    session: AsyncSession, settings: Settings, tx: Transaction, operator: Operator
) -> Outcome:
    record = await _seller(session, tx)
    client = make_bot(record.token, settings, timeout=STARS_TIMEOUT)
    telegram = stars_refunder(client)

    async def refund_through_telegram(user_telegram_id: int, charge_id: str) -> bool:
        try:
            return await telegram(user_telegram_id, charge_id)
        except (TelegramAPIError, ClientError, TimeoutError) as error:
            raise ServiceUnavailable(
                f"telegram: refundStarPayment through @{record.username} failed "
                f"({type(error).__name__}); nothing was recorded, try again"
            ) from None

    try:
        return await stars.refund_stars(session, tx.id, operator, refund_through_telegram)
    finally:
        await client.session.close()


# --- the sandbox bank ---------------------------------------------------------------------------


async def sandbox_code(
    session: AsyncSession, settings: Settings, transaction_id: int, operator: Operator
) -> str:
    """The copy-paste code the sandbox bank is to pay, once it is sure it may."""
    service.require_role(operator, *OPERATORS)
    tx = await service.load_transaction(session, transaction_id)
    refusal = sandbox_refusal(tx, configured_provider(settings))
    if refusal is not None:
        raise Conflict(refusal)
    assert tx.pix_copy_paste is not None
    return tx.pix_copy_paste


async def pay_in_sandbox(payments: PaymentRuntime, code: str) -> dict[str, Any]:
    """The buyer's bank pays `code` at the sandbox PSP, which then notifies our webhook."""
    provider = payments.provider(SANDBOX)
    if not isinstance(provider, SandboxProvider):
        raise Conflict(f"the configured PIX provider {provider.name} has no sandbox bank")
    return await provider.pay(code)


def action_names(actions: Sequence[Action]) -> list[str]:
    return [action.value for action in actions]
