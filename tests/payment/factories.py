"""Typed factories for payment tests: a creator's product, a buyer and their pending purchase."""

from __future__ import annotations

import itertools

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Creator, Operator, Product, Purchase, TelegramUser
from tgadmin.models.enums import Currency, OperatorRole, ProductType, PurchaseStatus

_serial = itertools.count(1)


async def make_product(
    session: AsyncSession,
    *,
    price_cents: int = 1990,
    stars_price: int | None = None,
    is_active: bool = True,
    title: str = "Pack Verão",
) -> Product:
    n = next(_serial)
    creator = Creator(name=f"Modelo {n}", username=f"modelo_{n}")
    session.add(creator)
    await session.flush()
    product = Product(
        creator_id=creator.id,
        title=title,
        description="15 fotos e 2 vídeos",
        type=ProductType.CONTENT,
        price_cents=price_cents,
        currency=Currency.BRL,
        stars_price=stars_price,
        is_active=is_active,
    )
    session.add(product)
    await session.flush()
    return product


async def make_buyer(
    session: AsyncSession, telegram_id: int | None = None, language: str = "pt-br"
) -> TelegramUser:
    user = TelegramUser(
        telegram_id=telegram_id if telegram_id is not None else 7_000_000_000 + next(_serial),
        first_name="Ana",
        last_name=None,
        username=None,
        language_code=language,
        age_confirmed_at=None,
    )
    session.add(user)
    await session.flush()
    return user


async def make_purchase(
    session: AsyncSession,
    *,
    amount_cents: int = 1990,
    currency: Currency = Currency.BRL,
    stars_price: int | None = None,
    product: Product | None = None,
    buyer: TelegramUser | None = None,
    buyer_telegram_id: int | None = None,
    status: PurchaseStatus = PurchaseStatus.PENDING,
) -> Purchase:
    product = product or await make_product(session, price_cents=amount_cents, stars_price=stars_price)
    buyer = buyer or await make_buyer(session, buyer_telegram_id)
    purchase = Purchase(
        user_id=buyer.id,
        product_id=product.id,
        status=status,
        amount_cents=amount_cents,
        currency=currency,
        delivered_at=None,
        access_expires_at=None,
    )
    session.add(purchase)
    await session.flush()
    return purchase


async def make_operator(session: AsyncSession, role: OperatorRole = OperatorRole.ADMIN) -> Operator:
    operator = Operator(email=f"op{next(_serial)}@example.com", role=role, is_active=True, last_login_at=None)
    session.add(operator)
    await session.flush()
    return operator
