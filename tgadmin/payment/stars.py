"""Telegram Stars: invoices in XTR, the pre-checkout check, the payment recorded once (refunds:
`refunds.refund_stars`).

Telegram types stay in `bot.py`; this speaks the domain. The invoice payload names the purchase
and the transaction (`purchase:<id>:tx:<id>`), so a payment always finds what it pays for, and the
price the buyer saw is the transaction's amount (a later price change is caught at pre-checkout).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.errors import BadRequest, Conflict
from tgadmin.i18n import Language
from tgadmin.models import Transaction
from tgadmin.models.enums import Currency, PaymentMethod, PurchaseStatus, TransactionStatus
from tgadmin.payment import repository
from tgadmin.payment.charges import pending_purchase
from tgadmin.payment.confirmation import apply_payment
from tgadmin.payment.service import Outcome, Payment, Result, snapshot
from tgadmin.purchase import service as purchase_service

log = logging.getLogger(__name__)

PROVIDER = "telegram-stars"
PAYLOAD_RE = re.compile(r"purchase:(\d{1,18}):tx:(\d{1,18})")
# Telegram's limits for an invoice.
MAX_TITLE = 32
MAX_DESCRIPTION = 255


@dataclass(frozen=True)
class StarsInvoice:
    transaction_id: int
    purchase_id: int
    title: str
    description: str
    payload: str
    amount: int  # Stars (XTR has no fractions)


class Refusal(StrEnum):
    UNKNOWN_ORDER = "unknown_order"
    NOT_PENDING = "not_pending"
    OFF_SALE = "off_sale"
    PRICE_CHANGED = "price_changed"
    WRONG_BUYER = "wrong_buyer"


REFUSAL_TEXT: dict[Refusal, dict[str, str]] = {
    Refusal.UNKNOWN_ORDER: {
        "pt": "Não encontramos este pedido. Abra o produto de novo para gerar outra fatura.",
        "en": "We could not find this order. Open the product again for a new invoice.",
    },
    Refusal.NOT_PENDING: {
        "pt": "Este pedido já foi pago ou cancelado. Nada foi cobrado.",
        "en": "This order was already paid or cancelled. You were not charged.",
    },
    Refusal.OFF_SALE: {
        "pt": "Este produto não está mais à venda. Nada foi cobrado.",
        "en": "This product is no longer on sale. You were not charged.",
    },
    Refusal.PRICE_CHANGED: {
        "pt": "O preço deste produto mudou. Abra o produto de novo para ver o preço atual.",
        "en": "The price of this product changed. Open the product again to see the current price.",
    },
    Refusal.WRONG_BUYER: {
        "pt": "Esta fatura pertence a outra pessoa. Abra o produto para gerar a sua.",
        "en": "This invoice belongs to someone else. Open the product to get your own.",
    },
}

SUPPORT_TEXT = {
    "pt": (
        "Suporte a pagamentos: responda aqui com o número do pedido e o que aconteceu. "
        "Pagamentos com Estrelas podem ser reembolsados por nós; a equipe responde em até 24 horas."
    ),
    "en": (
        "Payment support: reply here with your order number and what happened. "
        "Stars payments can be refunded by us; the team answers within 24 hours."
    ),
}


def refusal_text(refusal: Refusal, lang: Language) -> str:
    return REFUSAL_TEXT[refusal][lang]


def support_text(lang: Language) -> str:
    return SUPPORT_TEXT[lang]


def payload_for(purchase_id: int, transaction_id: int) -> str:
    return f"purchase:{purchase_id}:tx:{transaction_id}"


def parse_payload(payload: str) -> tuple[int, int] | None:
    match = PAYLOAD_RE.fullmatch(payload or "")
    return (int(match[1]), int(match[2])) if match else None


async def create_stars_invoice(
    session: AsyncSession, purchase_id: int, *, actor: Actor = Actor.system("payments")
) -> StarsInvoice:
    """The invoice for a pending purchase of a product with a Stars price (reused if still open)."""
    purchase = await pending_purchase(session, purchase_id)
    product = await repository.product(session, purchase.product_id)
    if product is None or not product.is_active:
        raise Conflict(f"the product of purchase {purchase_id} is no longer on sale")
    if product.stars_price is None or product.stars_price <= 0:
        raise BadRequest(f"product {product.id} has no Stars price")
    tx = await repository.open_charge(session, purchase.id, PaymentMethod.STARS, PROVIDER, utcnow())
    if tx is None or tx.amount_cents != product.stars_price:
        tx = Transaction(
            purchase_id=purchase.id,
            method=PaymentMethod.STARS,
            amount_cents=product.stars_price,
            currency=Currency.XTR,
            status=TransactionStatus.PENDING,
            provider=PROVIDER,
            needs_refund=False,
            poll_count=0,
        )
        session.add(tx)
        await session.flush()
        tx.provider_txid = payload_for(purchase.id, tx.id)
        await session.flush()
        await record(session, actor, "payment.invoice_created", "transaction", tx.id, after=snapshot(tx))
    return StarsInvoice(
        transaction_id=tx.id,
        purchase_id=purchase.id,
        title=product.title[:MAX_TITLE],
        description=(product.description or product.title)[:MAX_DESCRIPTION],
        payload=payload_for(purchase.id, tx.id),
        amount=tx.amount_cents,
    )


async def _invoice_transaction(session: AsyncSession, payload: str) -> Transaction | None:
    ids = parse_payload(payload)
    if ids is None:
        return None
    tx = await repository.transaction(session, ids[1])
    if tx is None or tx.purchase_id != ids[0] or tx.method != PaymentMethod.STARS:
        return None
    return tx


async def check_pre_checkout(
    session: AsyncSession, *, payload: str, currency: str, total_amount: int, buyer_telegram_id: int
) -> Refusal | None:
    """Telegram asks before taking the Stars: None to accept, or why not."""
    tx = await _invoice_transaction(session, payload)
    purchase = await repository.purchase(session, tx.purchase_id) if tx else None
    if tx is None or purchase is None:
        return Refusal.UNKNOWN_ORDER
    if tx.status != TransactionStatus.PENDING or purchase.status != PurchaseStatus.PENDING:
        return Refusal.NOT_PENDING
    buyer = await repository.buyer(session, purchase.user_id)
    if buyer is None or buyer.telegram_id != buyer_telegram_id:
        return Refusal.WRONG_BUYER
    product = await repository.product(session, purchase.product_id)
    if product is None or not product.is_active or product.stars_price is None:
        return Refusal.OFF_SALE
    if currency != Currency.XTR.value or not (total_amount == tx.amount_cents == product.stars_price):
        return Refusal.PRICE_CHANGED
    return None


async def record_stars_payment(
    session: AsyncSession,
    *,
    payload: str,
    currency: str,
    total_amount: int,
    charge_id: str,
    bot_id: int | None = None,
) -> Outcome:
    """`successful_payment`: recorded once per `telegram_payment_charge_id`, then applied once. The
    bot that took the Stars (`bot_id`) delivers the purchase unless the purchase names one already."""
    event = {"payload": payload, "currency": currency, "total_amount": total_amount, "charge_id": charge_id}
    event_id = await repository.insert_event(session, PROVIDER, charge_id, event)
    if event_id is None:
        return Outcome(Result.DUPLICATE)
    tx = await _invoice_transaction(session, payload)
    if tx is None:
        # Telegram took the Stars for something we do not know: kept in the inbox for a hand refund.
        outcome = Outcome(Result.UNKNOWN_CHARGE)
    else:
        payment = Payment(
            amount_cents=total_amount,
            paid_at=utcnow(),
            telegram_payment_charge_id=charge_id,
            currency=currency,
        )
        if bot_id is not None:
            await purchase_service.set_bot(session, tx.purchase_id, bot_id)
        outcome = await apply_payment(session, tx, payment, Actor.system("telegram-stars"))
    await repository.finish_event(session, event_id, outcome.result.value)
    return outcome


@dataclass(frozen=True)
class StarsCharge:
    """A Stars payment as Telegram lists it among the bot's transactions (`getStarTransactions`)."""

    charge_id: str
    amount: int
    payload: str


async def reconcile_charge(session: AsyncSession, charge: StarsCharge, *, bot_id: int) -> Outcome:
    """A payment Telegram took for bot `bot_id`: recorded as its `successful_payment` would have
    been, or nothing at all when it was (the charge id is the inbox's unique key)."""
    outcome = await record_stars_payment(
        session,
        payload=charge.payload,
        currency=Currency.XTR.value,
        total_amount=charge.amount,
        charge_id=charge.charge_id,
        bot_id=bot_id,
    )
    if outcome.result != Result.DUPLICATE:
        log.warning(
            "Stars payment %s (%s) had no record: recorded by reconciliation (%s)",
            charge.charge_id,
            charge.payload,
            outcome.result.value,
        )
    return outcome
