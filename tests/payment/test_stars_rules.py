"""Telegram Stars, the service rule by rule (PostgreSQL and SQLite, rolled back): the invoice, the
pre-checkout answer, `successful_payment` recorded once, a payment of another amount kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_buyer, make_product, make_purchase
from tgadmin.errors import BadRequest, Conflict
from tgadmin.models import PaymentEvent, Product, Purchase, Transaction
from tgadmin.models.enums import PurchaseStatus, TransactionStatus
from tgadmin.payment import stars
from tgadmin.payment.service import Result


async def invoice_for(session: AsyncSession, **kw: object) -> tuple[stars.StarsInvoice, Purchase, int]:
    buyer = await make_buyer(session)
    purchase = await make_purchase(session, stars_price=150, buyer=buyer, **kw)  # type: ignore[arg-type]
    return await stars.create_stars_invoice(session, purchase.id), purchase, buyer.telegram_id


async def test_invoice_is_in_stars_for_the_purchase_and_reused(session: AsyncSession) -> None:
    invoice, purchase, _ = await invoice_for(session)
    assert (invoice.amount, invoice.purchase_id) == (150, purchase.id)
    assert invoice.payload == f"purchase:{purchase.id}:tx:{invoice.transaction_id}"
    assert len(invoice.title) <= 32 and 0 < len(invoice.description) <= 255
    tx = await session.get(Transaction, invoice.transaction_id)
    assert tx is not None and (tx.currency.value, tx.method.value, tx.status) == (
        "XTR",
        "stars",
        TransactionStatus.PENDING,
    )
    assert (await stars.create_stars_invoice(session, purchase.id)).transaction_id == tx.id


async def test_invoice_is_refused_without_a_stars_price_or_when_off_sale(session: AsyncSession) -> None:
    no_stars = await make_purchase(session)
    with pytest.raises(BadRequest, match="no Stars price"):
        await stars.create_stars_invoice(session, no_stars.id)
    product = await make_product(session, stars_price=99, is_active=False)
    off = await make_purchase(session, product=product)
    with pytest.raises(Conflict, match="no longer on sale"):
        await stars.create_stars_invoice(session, off.id)


async def test_pre_checkout_accepts_only_what_is_still_true(session: AsyncSession) -> None:
    invoice, purchase, buyer = await invoice_for(session)

    async def verdict(
        payload: str = invoice.payload, total: int = 150, who: int = buyer, currency: str = "XTR"
    ) -> stars.Refusal | None:
        return await stars.check_pre_checkout(
            session, payload=payload, currency=currency, total_amount=total, buyer_telegram_id=who
        )

    assert await verdict() is None
    assert await verdict(total=149) == stars.Refusal.PRICE_CHANGED
    assert await verdict(currency="USD") == stars.Refusal.PRICE_CHANGED
    assert await verdict(who=buyer + 1) == stars.Refusal.WRONG_BUYER
    assert await verdict(payload="purchase:1:tx:x") == stars.Refusal.UNKNOWN_ORDER
    assert (
        await verdict(payload=f"purchase:{purchase.id + 1}:tx:{invoice.transaction_id}")
        == stars.Refusal.UNKNOWN_ORDER
    )
    product = await session.get(Product, purchase.product_id)
    assert product is not None
    product.stars_price = 200
    await session.flush()
    assert await verdict() == stars.Refusal.PRICE_CHANGED
    product.stars_price, product.is_active = 150, False
    await session.flush()
    assert await verdict() == stars.Refusal.OFF_SALE
    product.is_active = True
    purchase.status = PurchaseStatus.FAILED
    await session.flush()
    assert await verdict() == stars.Refusal.NOT_PENDING
    assert "mudou" in stars.refusal_text(stars.Refusal.PRICE_CHANGED, "pt")
    assert "changed" in stars.refusal_text(stars.Refusal.PRICE_CHANGED, "en")


async def test_successful_payment_is_recorded_once_by_its_charge_id(session: AsyncSession) -> None:
    invoice, purchase, _ = await invoice_for(session)
    paid = {"payload": invoice.payload, "currency": "XTR", "total_amount": 150, "charge_id": "stxONE"}
    first = await stars.record_stars_payment(session, **paid)  # type: ignore[arg-type]
    assert (first.result, first.deliver) == (Result.CONFIRMED, (purchase.id,))
    again = await stars.record_stars_payment(session, **paid)  # type: ignore[arg-type]
    assert (again.result, again.deliver) == (Result.DUPLICATE, ())
    tx = await session.get(Transaction, invoice.transaction_id, populate_existing=True)
    assert (
        tx is not None and tx.status == TransactionStatus.PAID and tx.telegram_payment_charge_id == "stxONE"
    )
    events = (
        await session.scalars(select(PaymentEvent).where(PaymentEvent.provider == "telegram-stars"))
    ).all()
    assert [(e.external_id, e.result) for e in events] == [("stxONE", "confirmed")]
    await session.refresh(purchase)
    assert purchase.status == PurchaseStatus.PAID


async def test_a_stars_payment_of_another_amount_is_kept_and_flagged(session: AsyncSession) -> None:
    invoice, _, _ = await invoice_for(session)
    odd = await stars.record_stars_payment(
        session, payload=invoice.payload, currency="XTR", total_amount=1, charge_id="stxODD"
    )
    assert (odd.result, odd.deliver) == (Result.AMOUNT_MISMATCH, ())
    tx = await session.get(Transaction, invoice.transaction_id, populate_existing=True)
    assert tx is not None and tx.needs_refund and tx.paid_amount_cents == 1
    unknown = await stars.record_stars_payment(
        session, payload="hello", currency="XTR", total_amount=5, charge_id="stxWHO"
    )
    assert unknown.result == Result.UNKNOWN_CHARGE  # kept in the inbox for a refund by hand
