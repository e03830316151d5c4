"""Products on the served dashboard (tests/fixtures/dashboard.py: PostgreSQL and SQLite, a media
folder of the test's own): a creator and a group to sell through, and what the database says."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from tests.factories import audit_actions, make_bot, make_creator, make_group, make_product
from tests.fixtures.dashboard import Desk
from tgadmin.db import session_scope
from tgadmin.models import AuditLog, Creator, Group, MediaAsset, Product, ProductMedia
from tgadmin.models.enums import BotMemberStatus


def png(width: int, height: int = 20, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def mp4() -> bytes:
    """The start of an MP4 file: an `ftyp` box (isom brand) and an empty `mdat`."""
    return b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08mdat"


@dataclass
class Catalog:
    desk: Desk
    creator: Creator
    chat: Group
    chat_the_bot_left: Group

    async def product(self, **kw: Any) -> Product:
        async with session_scope(self.desk.sessions) as session:
            return await make_product(session, creator=self.creator, **kw)

    async def get(self, product_id: int) -> Product:
        async with self.desk.sessions() as session:
            return await session.get_one(Product, product_id)

    async def products(self) -> list[Product]:
        async with self.desk.sessions() as session:
            return list((await session.scalars(select(Product).order_by(Product.id))).all())

    async def media(self, product_id: int) -> list[tuple[ProductMedia, MediaAsset]]:
        async with self.desk.sessions() as session:
            rows = await session.execute(
                select(ProductMedia, MediaAsset)
                .join(MediaAsset, MediaAsset.id == ProductMedia.asset_id)
                .where(ProductMedia.product_id == product_id)
                .order_by(ProductMedia.position)
            )
            return [(link, asset) for link, asset in rows.all()]

    async def assets(self) -> int:
        async with self.desk.sessions() as session:
            return len((await session.scalars(select(MediaAsset.id))).all())

    async def audit(self, product_id: int) -> list[str]:
        async with self.desk.sessions() as session:
            return await audit_actions(session, "product", product_id)

    async def last_audit(self, product_id: int) -> AuditLog:
        async with self.desk.sessions() as session:
            rows = await session.scalars(
                select(AuditLog)
                .where(AuditLog.entity_type == "product", AuditLog.entity_id == str(product_id))
                .order_by(AuditLog.id.desc())
            )
            return rows.first() or pytest.fail(f"product {product_id} has no audit trail")


@pytest.fixture
async def catalog(desk: Desk) -> Catalog:
    async with session_scope(desk.sessions) as session:
        creator = await make_creator(session, name="Amanda Silva")
        bot = await make_bot(session)
        chat = await make_group(session, bot, title="VIP Amanda")
        left = await make_group(session, bot, title="Antigo", status=BotMemberStatus.LEFT)
    return Catalog(desk, creator, chat, left)
