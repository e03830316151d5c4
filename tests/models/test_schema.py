"""The schema on both backends: migrations match the models, constraints hold, secrets are encrypted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Bot, Creator, Product, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import Currency, PaymentMethod, ProductType, PurchaseStatus


async def _buyer_and_product(session: AsyncSession) -> tuple[TelegramUser, Product]:
    user = TelegramUser(telegram_id=5_000_000_001, first_name="Ana")
    creator = Creator(name="Amanda", username="amanda_schema")
    session.add_all([user, creator])
    await session.flush()
    product = Product(creator_id=creator.id, title="Pack", type=ProductType.CONTENT, price_cents=2990)
    session.add(product)
    await session.flush()
    return user, product


async def test_bot_token_is_stored_encrypted_and_read_back_in_clear(session: AsyncSession) -> None:
    token = "123456789:AAExampleExampleExampleExampleExample"
    session.add(Bot(telegram_id=123456789, username="shop_bot", token=token, webhook_secret="s3cret"))
    await session.flush()
    raw = (await session.execute(text("select token, webhook_secret from bots"))).one()
    assert token not in raw[0] and "s3cret" not in raw[1]
    session.expunge_all()
    bot = (await session.execute(select(Bot))).scalar_one()
    assert bot.token == token


async def test_timestamps_come_back_timezone_aware_utc(session: AsyncSession) -> None:
    user, product = await _buyer_and_product(session)
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    purchase = Purchase(
        user_id=user.id,
        product_id=product.id,
        amount_cents=2990,
        currency=Currency.BRL,
        access_expires_at=expires,
    )
    session.add(purchase)
    await session.flush()
    session.expunge_all()
    loaded = (await session.execute(select(Purchase))).scalar_one()
    assert loaded.access_expires_at == expires
    assert loaded.access_expires_at is not None and loaded.access_expires_at.tzinfo is not None
    due = await session.execute(
        select(Purchase.id).where(Purchase.access_expires_at <= expires + timedelta(seconds=1))
    )
    assert due.scalars().all() == [loaded.id]


async def test_negative_price_is_refused_by_the_database(session: AsyncSession) -> None:
    creator = Creator(name="X", username="neg_price")
    session.add(creator)
    await session.flush()
    session.add(Product(creator_id=creator.id, title="Bad", type=ProductType.CONTENT, price_cents=-1))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_end_to_end_id_is_unique(session: AsyncSession) -> None:
    user, product = await _buyer_and_product(session)
    purchase = Purchase(user_id=user.id, product_id=product.id, amount_cents=2990, currency=Currency.BRL)
    session.add(purchase)
    await session.flush()
    for txid in ("a", "b"):
        session.add(
            Transaction(
                purchase_id=purchase.id,
                method=PaymentMethod.PIX,
                amount_cents=2990,
                currency=Currency.BRL,
                provider="sandbox",
                provider_txid=txid,
                end_to_end_id="E123",
            )
        )
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_unknown_status_string_is_refused(session: AsyncSession) -> None:
    user, product = await _buyer_and_product(session)
    session.add(Purchase(user_id=user.id, product_id=product.id, amount_cents=1, currency=Currency.BRL))
    await session.flush()
    with pytest.raises(IntegrityError):
        await session.execute(text("update purchases set status = 'teleported'"))
    assert PurchaseStatus.PENDING.value == "pending"


async def test_sweep_query_uses_the_status_expiry_index(session: AsyncSession) -> None:
    dialect = session.get_bind().dialect.name
    query = "select id from purchases where status = 'completed' and access_expires_at <= '2030-01-01'"
    if dialect == "sqlite":
        plan = " ".join(
            str(row) for row in (await session.execute(text("explain query plan " + query))).all()
        )
    else:
        await session.execute(text("set local enable_seqscan = off"))
        plan = " ".join(row[0] for row in (await session.execute(text("explain " + query))).all())
    assert "ix_purchases_status_expires" in plan


async def test_the_migrations_create_exactly_what_the_models_declare(session: AsyncSession) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tgadmin.models import Base

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    connection = await session.connection()
    assert await connection.run_sync(differences) == []
