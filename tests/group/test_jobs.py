"""Group jobs and the gateway's actions on Telegram's answers, against the sandbox."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.worker.harness import World
from tgadmin.models.enums import BotMemberStatus
from tgadmin.queue.names import JobName


async def test_sync_single_group_refreshes_title_count_status_and_rights(world: World) -> None:
    group = await world.add_group("Antigo título")
    user = await world.sandbox.create_user("Bia")
    await world.sandbox.add_member(group.telegram_id, user_id=user)
    out = await world.run(JobName.SYNC_SINGLE_GROUP, {"telegramId": group.telegram_id})
    assert out.state == "completed", out.reason
    synced = await world.group(group.id)
    assert synced.bot_status == BotMemberStatus.ADMINISTRATOR
    assert synced.bot_rights["can_delete_messages"] is True
    assert synced.member_count is not None and synced.member_count >= 2
    assert synced.last_synced_at is not None


async def test_sync_groups_fans_out_one_job_per_active_group(world: World) -> None:
    first = await world.add_group("A")
    second = await world.add_group("B")
    await world.add_group("C", is_active=False)
    out = await world.run(JobName.SYNC_GROUPS, {})
    assert out.value == {"groups": 2}
    for group in (first, second):

        async def synced(group_id: int = group.id) -> bool:
            return (await world.group(group_id)).last_synced_at is not None

        for _ in range(200):
            if await synced():
                break
            await asyncio.sleep(0.05)
        assert await synced()


async def test_get_chat_info_and_check_permissions_report_what_telegram_says(world: World) -> None:
    group = await world.add_group("Info", status="member")
    info = await world.run(JobName.GET_CHAT_INFO, {"chatId": group.telegram_id})
    assert info.value["title"] == "Info" and info.value["type"] == "supergroup"
    perms = await world.run(JobName.CHECK_PERMISSIONS, {"chatId": group.telegram_id})
    assert perms.value["status"] == "member" and perms.value["isAdmin"] is False
    assert perms.value["canDelete"] is False


async def test_unknown_group_is_reported_once_not_retried(world: World) -> None:
    out = await world.run(JobName.SYNC_SINGLE_GROUP, {"groupDbId": 999_999})
    assert out.state == "failed" and "no known group" in (out.reason or "")
    assert out.attempts_made == 1
    missing = await world.run(JobName.SEND_MESSAGE, {"chatId": -100_999, "text": "oi"})
    assert missing.state == "failed" and "chat not found" in (missing.reason or "")
    assert missing.attempts_made == 1


async def test_send_follows_a_group_upgraded_to_supergroup(world: World) -> None:
    group = await world.add_group("Básico", type="group")
    new_id = await world.sandbox.migrate(group.telegram_id)
    out = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "depois"})
    assert out.state == "completed", out.reason
    assert out.value["chatId"] == new_id
    moved = await world.group(group.id)
    assert moved.telegram_id == new_id and moved.is_active
    texts = [m.get("text") for m in await world.sandbox.messages(new_id)]
    assert "depois" in texts


async def test_kicked_bot_deactivates_the_group_with_the_reason(world: World) -> None:
    group = await world.add_group("Saiu")
    await world.sandbox.add_member(group.telegram_id, bot_id=world.tg.id, status="kicked")
    out = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "oi"})
    assert out.state == "failed" and out.attempts_made == 1
    gone = await world.group(group.id)
    assert not gone.is_active and "kicked" in (gone.deactivated_reason or "")
    # Further jobs for it are refused without calling Telegram.
    again = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "oi"})
    assert "inactive" in (again.reason or "")


async def test_user_who_blocked_the_bot_is_marked(world: World) -> None:
    from sqlalchemy import select

    from tgadmin.models import TelegramUser

    user = await world.sandbox.create_user("Carla")
    await world.sandbox.user_says(user, "/start", bot_id=world.tg.id)
    async with world.sessions() as session:
        session.add(TelegramUser(telegram_id=user, first_name="Carla", last_name=None, username=None))
        await session.commit()
    await world.sandbox.block(user, bot_id=world.tg.id)
    out = await world.run(JobName.SEND_MESSAGE, {"chatId": user, "text": "oi"})
    assert out.state == "failed" and "blocked" in (out.reason or "")
    async with world.sessions() as session:
        blocked = (await session.execute(select(TelegramUser.blocked_bot))).scalar_one()
    assert blocked is True


async def test_not_enough_rights_is_counted_never_deactivates_and_alerts_when_repeated(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    group = await world.add_group("Restrito", status="restricted", rights={"can_send_messages": False})
    with caplog.at_level(logging.INFO, logger="tgadmin.group.service"):
        first = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "1"})
        assert first.state == "failed" and first.attempts_made == 1
        after_one = await world.group(group.id)
        assert after_one.is_active and after_one.rights_errors == 1
        assert not [r for r in caplog.records if "ALERT" in r.getMessage()]
        await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "2"})
    after_two = await world.group(group.id)
    assert after_two.is_active and after_two.rights_errors == 2
    assert [r for r in caplog.records if "ALERT" in r.getMessage() and r.levelno == logging.ERROR]
    # A success clears the count.
    await world.sandbox.add_member(group.telegram_id, bot_id=world.tg.id, status="administrator")
    ok = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "3"})
    assert ok.state == "completed"
    assert (await world.group(group.id)).rights_errors == 0
