"""`tgadmin dev`'s demo cast: buyer Ana and "Grupo Demo" with the bot as admin, recorded by the bot
service as an active admin group, and the same group (not a second one) after a restart of dev,
which starts a fresh, empty sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.bot.conftest import BotWorld, Running, eventually, register_bot, start_service
from tests.fixtures.sandbox import Sandbox
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory
from tgadmin.dev.demo import DemoCast, create_demo_cast
from tgadmin.models import Group
from tgadmin.models.enums import BotMemberStatus, ChatType
from tgadmin.redis import free_port


@pytest.fixture
async def world(sandbox: Sandbox, fresh_db_url: str) -> AsyncIterator[BotWorld]:
    port = free_port()
    settings = load_settings(
        database_url=fresh_db_url,
        telegram_api_base_url=sandbox.url,
        public_url=f"http://127.0.0.1:{port}",
        telegram_bot_token=None,
    )
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("tgadmin_dev_bot")
    record_id, secret = await register_bot(sessions, tg)
    yield BotWorld(sandbox, settings, engine, sessions, tg, record_id, secret, port)
    await engine.dispose()


async def cast_in(world: BotWorld) -> DemoCast:
    # The sandbox answers from its own thread; dev calls this synchronously, before the bot starts.
    return await asyncio.to_thread(create_demo_cast, world.sandbox.url, world.tg.id)


async def demo_group(world: BotWorld, cast: DemoCast, status: BotMemberStatus) -> Group:
    async def probe() -> Group | None:
        group = await world.row(Group, Group.telegram_id == cast.group_id)
        return group if group is not None and group.bot_status == status else None

    return await eventually(probe)


async def test_dev_starts_with_ana_and_grupo_demo_where_the_bot_is_an_active_admin(world: BotWorld) -> None:
    cast = await cast_in(world)  # before the service, as dev does: the update waits for it
    running = await start_service(world)
    try:
        group = await demo_group(world, cast, BotMemberStatus.ADMINISTRATOR)
    finally:
        await running.stop()
    assert (group.title, group.type, group.is_active, group.bot_is_admin) == (
        "Grupo Demo",
        ChatType.SUPERGROUP,
        True,
        True,
    )
    users = (await world.sandbox.control.get("/sandbox/users")).json()
    ana = next(user for user in users if user["id"] == cast.buyer_id)
    assert (ana["first_name"], ana["language_code"]) == ("Ana", "pt-br")
    members = (await world.sandbox.control.get(f"/sandbox/chats/{cast.group_id}")).json()["members"]
    assert {m["user"]["id"]: m["status"] for m in members}[cast.buyer_id] == "member"


async def test_the_cast_is_found_not_doubled_on_a_sandbox_that_has_it(world: BotWorld) -> None:
    first = await cast_in(world)
    before = (await world.sandbox.control.get("/sandbox/chats")).json()
    assert await cast_in(world) == first
    assert (await world.sandbox.control.get("/sandbox/chats")).json() == before


async def test_a_restart_of_dev_updates_the_same_group_instead_of_adding_one(world: BotWorld) -> None:
    running: Running = await start_service(world)
    cast = await cast_in(world)
    await demo_group(world, cast, BotMemberStatus.ADMINISTRATOR)
    # Demoted before the restart, so the group promoted again afterwards proves the new update arrived.
    await world.sandbox.add_member(cast.group_id, bot_id=world.tg.id, status="member")
    await demo_group(world, cast, BotMemberStatus.MEMBER)
    await running.stop()

    # What a restart of `tgadmin dev` does: a fresh sandbox, the stored bot re-created with its token.
    (await world.sandbox.control.post("/sandbox/reset")).raise_for_status()
    await world.sandbox.create_bot("tgadmin_dev_bot", token=world.tg.token)
    again = await cast_in(world)
    running = await start_service(world)
    try:
        group = await demo_group(world, again, BotMemberStatus.ADMINISTRATOR)
    finally:
        await running.stop()
    assert again == cast
    assert group.is_active
    assert await world.count(Group) == 1
