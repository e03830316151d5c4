"""Typed factories for analytics tests: rows placed at given moments, as the services would leave them."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.clock import frozen_at
from tgadmin.group import service as group_service
from tgadmin.models import Bot, Creator, Group, PostHistory, Product, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import (
    BotMemberStatus,
    ChatType,
    Currency,
    PaymentMethod,
    PostKind,
    PostStatus,
    ProductType,
    PurchaseStatus,
    TransactionStatus,
)

_serial = itertools.count(1)


async def make_bot(session: AsyncSession) -> Bot:
    n = next(_serial)
    bot = Bot(
        telegram_id=900_000 + n, username=f"analytics_{n}_bot", token=f"{n}:" + "A" * 35, webhook_secret="s"
    )
    session.add(bot)
    await session.flush()
    return bot


async def make_product(session: AsyncSession, kind: ProductType = ProductType.CONTENT) -> Product:
    n = next(_serial)
    creator = Creator(name=f"Modelo {n}", username=f"analytics_modelo_{n}")
    session.add(creator)
    await session.flush()
    product = Product(
        creator_id=creator.id,
        title=f"Pack {n}",
        type=kind,
        price_cents=1990,
        subscription_days=30 if kind is ProductType.SUBSCRIPTION else None,
    )
    session.add(product)
    await session.flush()
    return product


async def make_user(session: AsyncSession, first_seen_at: datetime) -> TelegramUser:
    user = TelegramUser(
        telegram_id=8_000_000_000 + next(_serial),
        first_name="Ana",
        first_seen_at=first_seen_at,
        last_seen_at=first_seen_at,
    )
    session.add(user)
    await session.flush()
    return user


async def make_purchase(
    session: AsyncSession,
    product: Product,
    buyer: TelegramUser,
    created_at: datetime,
    status: PurchaseStatus = PurchaseStatus.PENDING,
) -> Purchase:
    purchase = Purchase(
        user_id=buyer.id,
        product_id=product.id,
        status=status,
        amount_cents=product.price_cents,
        currency=Currency.BRL,
        created_at=created_at,
        updated_at=created_at,
    )
    session.add(purchase)
    await session.flush()
    return purchase


async def make_transaction(
    session: AsyncSession,
    purchase: Purchase,
    created_at: datetime,
    *,
    method: PaymentMethod = PaymentMethod.PIX,
    status: TransactionStatus = TransactionStatus.PENDING,
    amount_cents: int = 1990,
    currency: Currency = Currency.BRL,
    paid_at: datetime | None = None,
    paid_amount_cents: int | None = None,
) -> Transaction:
    tx = Transaction(
        purchase_id=purchase.id,
        method=method,
        status=status,
        amount_cents=amount_cents,
        currency=currency,
        paid_at=paid_at,
        paid_amount_cents=paid_amount_cents,
        created_at=created_at,
        updated_at=created_at,
    )
    session.add(tx)
    await session.flush()
    return tx


async def make_post(
    session: AsyncSession, group: Group, sent_at: datetime, status: PostStatus
) -> PostHistory:
    post = PostHistory(
        group_id=group.id,
        chat_id=group.telegram_id,
        message_id=next(_serial),
        kind=PostKind.TEXT,
        status=status,
        sent_at=sent_at,
    )
    session.add(post)
    await session.flush()
    return post


async def bot_joins(
    session: AsyncSession,
    bot: Bot,
    telegram_id: int,
    at: datetime,
    status: BotMemberStatus = BotMemberStatus.ADMINISTRATOR,
) -> Group:
    """The bot is added to (or its status changes in) a group at `at`, through the group service."""
    with frozen_at(at):
        facts = group_service.ChatFacts(telegram_id, ChatType.SUPERGROUP, f"Grupo {telegram_id}")
        return await group_service.upsert_membership(session, bot.id, facts, status, {})


async def bot_kicked(session: AsyncSession, bot: Bot, telegram_id: int, at: datetime) -> None:
    with frozen_at(at):
        await group_service.deactivate(session, bot.id, telegram_id, status=BotMemberStatus.KICKED)
