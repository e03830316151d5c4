"""Bot accounts registered by the bot process (and `tgadmin dev`) leave an audit trail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.sandbox import Sandbox
from tgadmin.bot.seeding import register_bot
from tgadmin.config import load_settings
from tgadmin.models import AuditLog


async def test_registering_a_bot_is_audited_once_and_again_only_when_it_changed(
    session: AsyncSession, sandbox: Sandbox
) -> None:
    created = await sandbox.create_bot(username="shop_bot")
    settings = load_settings(telegram_api_base_url=sandbox.url)
    bot = await register_bot(session, created.token, settings)
    await register_bot(session, created.token, settings)
    bot.username = "renamed_meanwhile"
    await register_bot(session, created.token, settings)
    entries = (await session.execute(select(AuditLog).order_by(AuditLog.id))).scalars().all()
    assert [(e.action, e.entity_id, e.after) for e in entries] == [
        ("bot.register", str(bot.id), {"username": "shop_bot"}),
        ("bot.token_changed", str(bot.id), {"username": "shop_bot"}),
    ]
