"""Checkout: a pressed product becomes the buyer's one pending purchase of it, paid by PIX or Stars
as the operator allows; "I have paid" asks the PSP once.

Rules:
- A button names the product and the price it showed; a product off sale or repriced since is a
  stale button (`Stale`), answered with today's price, never charged at yesterday's.
- One pending purchase per buyer and product, decided by the database (partial unique index
  `uq_purchases_one_pending`): the insert comes first, and a press that loses reuses the winner's.
  A pending purchase at an old price fails and a new one takes its place; one whose PIX charge is
  past its expiry has it expired first (`expiry.expire_charge`: the PSP is asked, so a charge paid a
  moment ago is applied, not replaced).
- Methods: the operator's `payment_methods` setting ({"pix": bool, "stars": bool}, both on when
  unset); PIX needs a BRL price, Stars a Stars price.
Nothing here commits or talks to Telegram; what must be delivered is returned for after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor
from tgadmin.buyer import service as buyers
from tgadmin.clock import utcnow
from tgadmin.errors import TgadminError
from tgadmin.i18n import Language
from tgadmin.models import Product, Purchase
from tgadmin.models.enums import Currency, PaymentMethod, PurchaseStatus, TransactionStatus
from tgadmin.payment import repository
from tgadmin.payment.confirmation import apply_charge
from tgadmin.payment.expiry import expire_charge
from tgadmin.payment.service import Result, provider_txid
from tgadmin.payment.texts import Check
from tgadmin.pix.providers.base import PixProvider
from tgadmin.purchase import service as purchase_service

log = logging.getLogger(__name__)

METHODS_SETTING = "payment_methods"
DEFAULT_METHODS = {"pix": True, "stars": True}
# Ids a row can have: anything else in a button is tampered with, and never reaches the driver.
MAX_ID = 2**63 - 1
# "I have paid" is answered within 2 s: the PSP gets this long, the rest is ours.
CHECK_PSP_SECONDS = 1.5
ACTOR = Actor.system("checkout")


class Stale(StrEnum):
    OFF_SALE = "off_sale"
    PRICE_CHANGED = "price_changed"


@dataclass(frozen=True)
class StaleButton:
    reason: Stale
    product: Product | None = None  # on sale at another price: the fresh button's


@dataclass(frozen=True)
class Checkout:
    purchase: Purchase
    product: Product
    methods: tuple[PaymentMethod, ...]
    # The buyer's charge turned out paid while we looked at it: delivered, not charged again.
    deliver: tuple[int, ...] = ()


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


async def enabled_methods(session: AsyncSession) -> dict[str, bool]:
    stored = await repository.setting(session, METHODS_SETTING) or {}
    return {name: bool(stored.get(name, on)) for name, on in DEFAULT_METHODS.items()}


async def offered(session: AsyncSession, product: Product) -> tuple[PaymentMethod, ...]:
    """The methods the buyer may pay `product` with now, PIX first."""
    enabled = await enabled_methods(session)
    methods = []
    if enabled["pix"] and product.currency == Currency.BRL and product.price_cents > 0:
        methods.append(PaymentMethod.PIX)
    if enabled["stars"] and product.stars_price is not None and product.stars_price > 0:
        methods.append(PaymentMethod.STARS)
    return tuple(methods)


async def on_sale(session: AsyncSession, product_id: int) -> Product | None:
    product = await repository.product(session, product_id) if valid_id(product_id) else None
    return product if product is not None and product.is_active else None


async def start(
    session: AsyncSession,
    provider: PixProvider | None,
    *,
    buyer_id: int,
    bot_id: int | None,
    product_id: int,
    price_cents: int,
    source: str | None,
) -> Checkout | StaleButton:
    """The buyer pressed "buy" at `price_cents`: their pending purchase of the product (new or
    reused), or why the button is stale."""
    product = await on_sale(session, product_id)
    if product is None:
        return StaleButton(Stale.OFF_SALE)
    if product.price_cents != price_cents:
        return StaleButton(Stale.PRICE_CHANGED, product)
    buyer = await repository.buyer(session, buyer_id)
    source = source or (buyer.source if buyer is not None else None)
    # Each round either settles, or retires the pending purchase in the way; two are enough unless
    # other presses keep winning, which the third round then reuses.
    for _ in range(3):
        purchase_id = await purchase_service.insert_pending(
            session,
            user_id=buyer_id,
            product_id=product.id,
            bot_id=bot_id,
            amount_cents=product.price_cents,
            currency=product.currency,
            source=source,
        )
        if purchase_id is not None:
            purchase = await repository.purchase(session, purchase_id)
            assert purchase is not None
            return Checkout(purchase, product, await offered(session, product))
        existing = await purchase_service.pending_of(session, buyer_id, product.id)
        if existing is None:
            continue  # the winner was paid or failed meanwhile
        settled = await _reuse(session, provider, existing, product)
        if settled is not None:
            return settled
    raise TgadminError(f"buyer {buyer_id} keeps racing checkouts of product {product.id}")


async def _reuse(
    session: AsyncSession, provider: PixProvider | None, purchase: Purchase, product: Product
) -> Checkout | None:
    """The pending purchase again, or None when it had to go (old price, every charge expired)."""
    if purchase.amount_cents != product.price_cents or purchase.currency != product.currency:
        await purchase_service.move(session, purchase.id, to=PurchaseStatus.FAILED)
        return None
    deliver: list[int] = []
    for tx_id in await repository.overdue_charges(session, purchase.id, utcnow()):
        tx = await repository.transaction(session, tx_id)
        if provider is None or tx is None or tx.provider != provider.name:
            continue
        outcome = await expire_charge(session, provider, tx_id, actor=ACTOR)
        deliver.extend(outcome.deliver)
    current = await repository.purchase(session, purchase.id)
    if current is None or current.status == PurchaseStatus.FAILED:
        return None
    if current.status != PurchaseStatus.PENDING:
        return Checkout(current, product, (), deliver=tuple(deliver))
    return Checkout(current, product, await offered(session, product))


@dataclass(frozen=True)
class Choice:
    """A pending purchase of the buyer and a method offered for it, or None with why not."""

    purchase: Purchase | None
    product: Product | None
    # "not_pending" | "closed" | "unknown" | "off_sale" | "repriced" | "method"
    refusal: str | None = None


async def choose(session: AsyncSession, buyer_id: int, purchase_id: int, method: str) -> Choice:
    """`PayWith` pressed: only the buyer's own pending purchase, only a method offered today."""
    purchase = await repository.purchase(session, purchase_id) if valid_id(purchase_id) else None
    if purchase is None or purchase.user_id != buyer_id:
        return Choice(None, None, "unknown")
    if purchase.status in (PurchaseStatus.FAILED, PurchaseStatus.EXPIRED):
        # A checkout that lapsed: the product, if still on sale, for a fresh button.
        return Choice(purchase, await on_sale(session, purchase.product_id), "closed")
    if purchase.status != PurchaseStatus.PENDING:
        return Choice(purchase, None, "not_pending")
    product = await on_sale(session, purchase.product_id)
    if product is None:
        return Choice(purchase, None, "off_sale")
    if purchase.amount_cents != product.price_cents or purchase.currency != product.currency:
        # Repriced since the methods were shown: never charged at yesterday's price.
        return Choice(purchase, product, "repriced")
    if method not in {m.value for m in await offered(session, product)}:
        return Choice(purchase, product, "method")
    return Choice(purchase, product)


@dataclass(frozen=True)
class PaidCheck:
    result: Check
    deliver: tuple[int, ...] = ()
    product: Product | None = None  # for a fresh button when the charge expired
    source: str | None = None


async def check_paid(
    session: AsyncSession,
    provider: PixProvider | None,
    buyer_id: int,
    transaction_id: int,
    *,
    now: datetime | None = None,
    psp_seconds: float = CHECK_PSP_SECONDS,
) -> PaidCheck:
    """ "I have paid": the PSP is asked once about the buyer's own charge (bounded in time); what it
    reports is applied as a notification's re-read would be (`confirmation.apply_charge`)."""
    tx = await repository.transaction(session, transaction_id) if valid_id(transaction_id) else None
    purchase = await repository.purchase(session, tx.purchase_id) if tx is not None else None
    if tx is None or purchase is None or purchase.user_id != buyer_id or tx.method != PaymentMethod.PIX:
        return PaidCheck(Check.NOT_FOUND)
    if tx.status == TransactionStatus.PAID or purchase.status in (
        PurchaseStatus.PAID,
        PurchaseStatus.COMPLETED,
    ):
        return PaidCheck(Check.ALREADY_PAID)
    if tx.status not in repository.LIVE or purchase.status != PurchaseStatus.PENDING:
        return await _expired(session, purchase)
    if provider is None or tx.provider != provider.name:
        return PaidCheck(Check.NOT_YET)  # a static code: an operator confirms it from the statement
    try:
        async with asyncio.timeout(psp_seconds):
            charge = await provider.get_charge(provider_txid(tx))
    except (TimeoutError, TgadminError) as error:
        log.warning("I-have-paid on transaction %s: the PSP did not answer (%r)", tx.id, error)
        return PaidCheck(Check.UNAVAILABLE)
    outcome = await apply_charge(session, tx, charge, ACTOR)
    if outcome.result == Result.CONFIRMED:
        return PaidCheck(Check.CONFIRMED, outcome.deliver)
    if outcome.result == Result.ALREADY_PAID:
        return PaidCheck(Check.ALREADY_PAID)
    if outcome.result != Result.NOT_PAID:
        return PaidCheck(Check.PROBLEM)
    expires = tx.pix_expires_at
    if expires is not None and expires <= (now or utcnow()):
        return await _expired(session, purchase)
    return PaidCheck(Check.NOT_YET)


async def _expired(session: AsyncSession, purchase: Purchase) -> PaidCheck:
    return PaidCheck(
        Check.EXPIRED, product=await on_sale(session, purchase.product_id), source=purchase.source
    )


async def language_of(session: AsyncSession, buyer_id: int | None, code: str | None) -> Language:
    """The buyer's language, as the buyer domain decides it (their /language choice first)."""
    buyer = await buyers.buyer(session, buyer_id) if buyer_id is not None else None
    return buyers.language_of(buyer, code)
