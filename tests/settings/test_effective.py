"""What an admin saves on the Settings page is what the processes run with: the rates reach the
gateway's settings at a process's start, the PIX provider with its (encrypted) credentials and the
charge lifetime reach the payment runtime, and a newly discovered group starts with the default
cooldown. Nothing saved: the environment, unchanged."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_bot
from tgadmin.audit.service import Actor
from tgadmin.config import PixProviderName, load_settings
from tgadmin.group import service as group_service
from tgadmin.models.enums import BotMemberStatus, ChatType
from tgadmin.pix.providers import get_provider
from tgadmin.settings import effective, repository, service
from tgadmin.settings.payments import PIX

ADMIN = Actor.system("test")


async def test_with_nothing_saved_a_process_runs_on_its_environment(session: AsyncSession) -> None:
    env = load_settings(tg_bot_per_second=29, pix_expires_minutes=30)
    assert await effective.overlay(session, env) == env


async def test_saved_rates_pix_provider_and_lifetime_are_what_a_process_starts_with(
    session: AsyncSession,
) -> None:
    env = load_settings(pix_provider="sandbox", tg_bot_per_second=30, tg_group_per_minute=20)
    await service.save_limits(
        session, {"bot_per_second": 12, "group_per_minute": 7, "group_cooldown_seconds": 90}, ADMIN
    )
    await repository.store(session, PIX, {"provider": "static", "expires_minutes": 45})
    await repository.store_provider_config(
        session,
        "static",
        '{"pix_key": "loja@example.com", "pix_merchant_name": "Loja Teste", "pix_merchant_city": "Recife"}',
    )
    running = await effective.overlay(session, env)
    assert (running.tg_bot_per_second, running.tg_group_per_minute) == (12, 7)
    assert running.pix_provider == PixProviderName.STATIC and running.pix_expires_minutes == 45
    provider = get_provider(running)
    assert provider.name == "static"
    await provider.aclose()
    assert (env.tg_bot_per_second, env.pix_provider) == (30, PixProviderName.SANDBOX)  # untouched


async def test_a_new_group_starts_with_the_saved_default_cooldown(session: AsyncSession) -> None:
    bot = await make_bot(session)
    facts = group_service.ChatFacts(-100123, ChatType.SUPERGROUP, "Antes")
    before = await group_service.upsert_membership(session, bot.id, facts, BotMemberStatus.ADMINISTRATOR, {})
    assert before.cooldown_seconds == 0
    await service.save_limits(
        session, {"bot_per_second": 30, "group_per_minute": 20, "group_cooldown_seconds": 300}, ADMIN
    )
    facts = group_service.ChatFacts(-100456, ChatType.SUPERGROUP, "Depois")
    after = await group_service.upsert_membership(session, bot.id, facts, BotMemberStatus.ADMINISTRATOR, {})
    assert after.cooldown_seconds == 300
    again = await group_service.upsert_membership(session, bot.id, facts, BotMemberStatus.ADMINISTRATOR, {})
    assert again.cooldown_seconds == 300  # a group seen again keeps what it has


async def test_a_database_that_cannot_be_read_leaves_the_environment() -> None:
    env = load_settings(database_url="sqlite+aiosqlite:////nonexistent-dir/none.db", tg_bot_per_second=28)
    assert await effective.at_start(env) == env
