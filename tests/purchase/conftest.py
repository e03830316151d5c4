"""Delivery for real: the worker from tests/worker/harness.py (its own database, Redis prefix and
the sandbox over HTTP) with media in a local storage folder of the test's own."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_buyer, make_product, make_purchase, serial
from tests.sandbox.conftest import png_bytes
from tests.worker.harness import World, world  # noqa: F401 - shared fixtures
from tgadmin.db import session_scope
from tgadmin.models import MediaAsset, Product, ProductMedia, Purchase, TelegramUser
from tgadmin.models.enums import ProductType, PurchaseStatus
from tgadmin.queue.names import JobName
from tgadmin.storage import LocalStorage

COLORS = ("red", "green", "blue", "yellow", "purple", "orange", "white", "black", "gray", "pink")


@pytest.fixture
def world_overrides(tmp_path: Path) -> dict[str, Any]:
    return {"media_dir": tmp_path / "media"}


@dataclass
class Buyer:
    telegram_id: int
    row: TelegramUser


@dataclass
class Shop:
    world: World
    storage: LocalStorage

    async def buyer(self, language: str = "pt-br") -> Buyer:
        """A sandbox user who has started the bot, and their TelegramUser row."""
        telegram_id = await self.world.sandbox.create_user(f"Comprador {serial()}", language_code=language)
        await self.world.sandbox.user_says(telegram_id, "/start")
        async with session_scope(self.world.sessions) as session:
            return Buyer(telegram_id, await make_buyer(session, telegram_id, language))

    async def product(
        self, photos: int = 0, *, documents: int = 0, kind: ProductType = ProductType.CONTENT, **kw: Any
    ) -> Product:
        """A product whose files (PNG photos, then text documents) are in storage, in order."""
        async with session_scope(self.world.sessions) as session:
            product = await make_product(session, kind=kind, title="Pack Verão", **kw)
            files = [
                (png_bytes(COLORS[i % len(COLORS)], (32 + i, 24)), "image/png", "png") for i in range(photos)
            ]
            files += [(f"leia-me {i}".encode(), "text/plain", "txt") for i in range(documents)]
            for position, (data, content_type, extension) in enumerate(files):
                key = f"products/{product.id}/{position}.{extension}"
                await self.storage.put(key, data, content_type)
                asset = MediaAsset(
                    storage_key=key,
                    content_type=content_type,
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    crop=None,
                )
                session.add(asset)
                await session.flush()
                session.add(ProductMedia(product_id=product.id, asset_id=asset.id, position=position))
            return product

    async def paid(self, product: Product, buyer: Buyer, **kw: Any) -> int:
        """A purchase of `product` by `buyer`, paid and waiting for delivery through the shop's bot."""
        async with session_scope(self.world.sessions) as session:
            purchase = await make_purchase(
                session,
                product=await session.get_one(Product, product.id),
                buyer=await session.get_one(TelegramUser, buyer.row.id),
                status=kw.pop("status", PurchaseStatus.PAID),
                bot_id=kw.pop("bot_id", self.world.bot_id),
                **kw,
            )
            return purchase.id

    async def deliver(self, purchase_id: int, job_id: str | None = None) -> Any:
        return await self.world.run(
            JobName.DELIVER_PURCHASE, {"purchaseId": purchase_id}, job_id=job_id or f"deliver-{serial()}"
        )

    async def purchase(self, purchase_id: int) -> Purchase:
        async with self.world.sessions() as session:
            return await session.get_one(Purchase, purchase_id)

    async def chat(self, buyer: Buyer) -> list[dict[str, Any]]:
        """What the buyer's chat shows from the bot."""
        return [
            m
            for m in await self.world.sandbox.messages(buyer.telegram_id)
            if (m.get("sender") or {}).get("id") == self.world.tg.id and not m["deleted"]
        ]


@pytest.fixture
def shop(world: World, tmp_path: Path) -> Shop:  # noqa: F811 - the shared fixture, used
    return Shop(world, LocalStorage(tmp_path / "media"))
