"""All SQL of purchase delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import db
from tgadmin.models import MediaAsset, MediaFileId, Product, ProductMedia, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import PurchaseStatus, TransactionStatus


@dataclass(frozen=True)
class Order:
    """A purchase with what delivery needs to know about its product and buyer."""

    purchase: Purchase
    product: Product
    buyer: TelegramUser


@dataclass(frozen=True)
class Item:
    """One file of a product, with the file_id this bot already has for it (None: upload it)."""

    asset: MediaAsset
    file_id: str | None


async def order(session: AsyncSession, purchase_id: int) -> Order | None:
    row = (
        await session.execute(
            select(Purchase, Product, TelegramUser)
            .join(Product, Product.id == Purchase.product_id)
            .join(TelegramUser, TelegramUser.id == Purchase.user_id)
            .where(Purchase.id == purchase_id)
        )
    ).one_or_none()
    return None if row is None else Order(*row)


async def media(session: AsyncSession, product_id: int, bot_id: int) -> list[Item]:
    """The product's files in their order, each with this bot's cached file_id when it has one."""
    rows = await session.execute(
        select(MediaAsset, MediaFileId.file_id)
        .join(ProductMedia, ProductMedia.asset_id == MediaAsset.id)
        .outerjoin(MediaFileId, (MediaFileId.asset_id == MediaAsset.id) & (MediaFileId.bot_id == bot_id))
        .where(ProductMedia.product_id == product_id)
        .order_by(ProductMedia.position, MediaAsset.id)
    )
    return [Item(asset, file_id) for asset, file_id in rows.all()]


async def remember_file_id(
    session: AsyncSession, asset_id: int, bot_id: int, file_id: str, file_unique_id: str | None
) -> None:
    """Cache the file_id Telegram gave this bot for an asset (upload once, reuse afterwards)."""
    values: dict[str, Any] = {
        "asset_id": asset_id,
        "bot_id": bot_id,
        "file_id": file_id,
        "file_unique_id": file_unique_id,
    }
    statement = db.insert(session, MediaFileId).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[MediaFileId.asset_id, MediaFileId.bot_id],
            set_={"file_id": file_id, "file_unique_id": file_unique_id},
        )
    )


async def save_step(
    session: AsyncSession, purchase_id: int, sent: list[dict[str, Any]], steps: dict[str, list[int]]
) -> None:
    """A step Telegram accepted: its messages and the step itself, in one UPDATE."""
    await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id)
        .values(sent_messages=sent, delivered_steps=steps)
        .execution_options(synchronize_session=False)
    )


async def mark_unknown(session: AsyncSession, purchase_id: int, step: str) -> None:
    await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id)
        .values(delivery_step_unknown=step)
        .execution_options(synchronize_session=False)
    )


async def resolve_unknown(
    session: AsyncSession, purchase_id: int, step: str, steps: dict[str, list[int]] | None
) -> bool:
    """Clear the step in doubt (recording it done when `steps` is given), once: False when it is no
    longer the step in doubt (another operator decided first)."""
    values: dict[str, Any] = {"delivery_step_unknown": None}
    if steps is not None:
        values["delivered_steps"] = steps
    result = await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.delivery_step_unknown == step)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(cast(CursorResult[Any], result).rowcount == 1)


async def awaiting_decision(session: AsyncSession, limit: int) -> list[Purchase]:
    """Purchases whose delivery stopped on a step of unknown outcome, oldest first."""
    rows = await session.scalars(
        select(Purchase)
        .where(Purchase.delivery_step_unknown.is_not(None))
        .order_by(Purchase.updated_at, Purchase.id)
        .limit(limit)
    )
    return list(rows.all())


async def complete(
    session: AsyncSession, purchase_id: int, delivered_at: datetime, access_expires_at: datetime | None
) -> bool:
    """paid → completed, once: False when the purchase is no longer paid (refunded meanwhile)."""
    result = await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.status == PurchaseStatus.PAID)
        .values(
            status=PurchaseStatus.COMPLETED, delivered_at=delivered_at, access_expires_at=access_expires_at
        )
        .execution_options(synchronize_session=False)
    )
    return bool(cast(CursorResult[Any], result).rowcount == 1)


async def undelivered_paid(session: AsyncSession, paid_before: datetime, limit: int) -> list[int]:
    """Purchases paid a while ago and still not delivered: their delivery job may have been lost."""
    rows = await session.scalars(
        select(Purchase.id)
        .join(Transaction, Transaction.purchase_id == Purchase.id)
        .where(
            Purchase.status == PurchaseStatus.PAID,
            Purchase.delivered_at.is_(None),
            Transaction.status == TransactionStatus.PAID,
            Transaction.paid_at <= paid_before,
        )
        .distinct()
        .limit(limit)
    )
    return list(rows.all())
