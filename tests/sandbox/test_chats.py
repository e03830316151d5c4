"""Groups as Telegram runs them: membership updates, bans, invite links, migration, rights."""

from __future__ import annotations

import httpx
import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramMigrateToChat
from aiogram.types import ChatMemberAdministrator

from tests.fixtures.sandbox import Sandbox, SandboxBot
from tests.narrow import of_type, present


async def admin_bot_in(sandbox: Sandbox, kind: str = "supergroup") -> tuple[SandboxBot, int]:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot()
    chat = await sandbox.create_chat(kind, "VIP")
    await sandbox.add_member(chat, bot_id=shop.id, status="administrator")
    return shop, chat


async def test_adding_promoting_and_removing_the_bot_sends_my_chat_member(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    chat = await sandbox.create_chat("supergroup", "Fans")
    await sandbox.add_member(chat, bot_id=shop.id, status="member")
    await sandbox.add_member(chat, bot_id=shop.id, status="administrator", rights={"can_invite_users": False})
    await sandbox.add_member(chat, bot_id=shop.id, status="kicked")
    changes = [u.my_chat_member for u in await shop.bot.get_updates() if u.my_chat_member]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("left", "member"),
        ("member", "administrator"),
        ("administrator", "kicked"),
    ]
    promoted = of_type(changes[1].new_chat_member, ChatMemberAdministrator)
    assert promoted.can_delete_messages is True
    assert promoted.can_invite_users is False
    assert changes[0].chat.id == chat and changes[0].chat.type == "supergroup"
    with pytest.raises(TelegramForbiddenError) as kicked:
        await shop.bot.send_message(chat, "still here?")
    assert kicked.value.message == "Forbidden: bot was kicked from the supergroup chat"


async def test_getchat_and_member_queries_answer_like_telegram(sandbox: Sandbox) -> None:
    shop, chat = await admin_bot_in(sandbox)
    ana = await sandbox.create_user("Ana")
    await sandbox.add_member(chat, user_id=ana, status="member")
    info = await shop.bot.get_chat(chat)
    assert info.title == "VIP" and info.type == "supergroup"
    assert (await shop.bot.get_chat_member(chat, ana)).status == "member"
    assert (await shop.bot.get_chat_member(chat, shop.id)).status == "administrator"
    assert await shop.bot.get_chat_member_count(chat) == 3  # owner, bot, Ana
    assert {m.status for m in await shop.bot.get_chat_administrators(chat)} == {"creator", "administrator"}
    with pytest.raises(TelegramBadRequest) as unknown:
        await shop.bot.get_chat(-1009999999999)
    assert unknown.value.message == "Bad Request: chat not found"
    stranger_group = await sandbox.create_chat("supergroup", "Elsewhere")
    with pytest.raises(TelegramBadRequest):
        await shop.bot.get_chat(stranger_group)


async def test_ban_then_unban_only_if_banned_removes_access_but_not_members(sandbox: Sandbox) -> None:
    shop, chat = await admin_bot_in(sandbox)
    buyer, other = await sandbox.create_user("Buyer"), await sandbox.create_user("Other")
    for user in (buyer, other):
        await sandbox.add_member(chat, user_id=user, status="member")
    assert await shop.bot.ban_chat_member(chat, buyer) is True
    assert (await shop.bot.get_chat_member(chat, buyer)).status == "kicked"
    assert await shop.bot.unban_chat_member(chat, buyer, only_if_banned=True) is True
    assert (await shop.bot.get_chat_member(chat, buyer)).status == "left"
    # only_if_banned leaves a present member alone; without it Telegram removes them.
    assert await shop.bot.unban_chat_member(chat, other, only_if_banned=True) is True
    assert (await shop.bot.get_chat_member(chat, other)).status == "member"
    await shop.bot.unban_chat_member(chat, other)
    assert (await shop.bot.get_chat_member(chat, other)).status == "left"


async def test_bans_need_rights_and_spare_owners_and_admins(sandbox: Sandbox) -> None:
    shop, chat = await admin_bot_in(sandbox)
    owner = (await sandbox.control.get(f"/sandbox/chats/{chat}")).json()["members"][0]["user"]["id"]
    with pytest.raises(TelegramBadRequest) as owner_ban:
        await shop.bot.ban_chat_member(chat, owner)
    assert owner_ban.value.message == "Bad Request: can't remove chat owner"
    user = await sandbox.create_user("U")
    await sandbox.add_member(
        chat, bot_id=shop.id, status="administrator", rights={"can_restrict_members": False}
    )
    with pytest.raises(TelegramBadRequest) as no_rights:
        await shop.bot.ban_chat_member(chat, user)
    assert no_rights.value.message == "Bad Request: not enough rights to restrict/ban chat member"
    group = await sandbox.create_chat("group", "Basic")
    await sandbox.add_member(group, bot_id=shop.id, status="administrator")
    with pytest.raises(TelegramBadRequest) as basic:
        await shop.bot.unban_chat_member(group, user, only_if_banned=True)
    assert basic.value.message == "Bad Request: method is available for supergroup and channel chats only"


async def test_temporary_ban_ends_on_the_sandbox_clock(sandbox: Sandbox) -> None:
    shop, chat = await admin_bot_in(sandbox)
    user = await sandbox.create_user("U")
    now = (await sandbox.control.get("/sandbox/clock")).json()["now"]
    await shop.bot.ban_chat_member(chat, user, until_date=int(now) + 3600)
    assert (await shop.bot.get_chat_member(chat, user)).status == "kicked"
    await sandbox.advance(3601)
    assert (await shop.bot.get_chat_member(chat, user)).status == "left"


async def test_single_use_invite_links_admit_one_user_until_they_expire(sandbox: Sandbox) -> None:
    shop, chat = await admin_bot_in(sandbox)
    now = (await sandbox.control.get("/sandbox/clock")).json()["now"]
    link = await shop.bot.create_chat_invite_link(chat, member_limit=1, expire_date=int(now) + 600)
    assert link.invite_link.startswith("https://t.me/+") and link.member_limit == 1
    first, second = await sandbox.create_user("First"), await sandbox.create_user("Second")
    joined = await sandbox.control.post(
        f"/sandbox/users/{first}/join", json={"invite_link": link.invite_link}
    )
    assert joined.json() == {"chat_id": chat}
    again = await sandbox.control.post(
        f"/sandbox/users/{second}/join", json={"invite_link": link.invite_link}
    )
    assert again.status_code == 400 and again.json() == {"error": "INVITE_HASH_EXPIRED"}
    timed = await shop.bot.create_chat_invite_link(chat, expire_date=int(now) + 60)
    await sandbox.advance(61)
    late = await sandbox.control.post(
        f"/sandbox/users/{second}/join", json={"invite_link": timed.invite_link}
    )
    assert late.json() == {"error": "INVITE_HASH_EXPIRED"}
    assert (await shop.bot.get_chat_member(chat, first)).status == "member"
    joins = [present(u.message.new_chat_members)[0].id for u in await shop.bot.get_updates() if u.message]
    assert joins == [shop.id, first]  # the bot's own arrival, then the one user the link admitted


async def test_banned_users_cannot_join_and_links_need_the_invite_right(sandbox: Sandbox) -> None:
    shop, chat = await admin_bot_in(sandbox)
    user = await sandbox.create_user("U")
    link = await shop.bot.create_chat_invite_link(chat)
    await shop.bot.ban_chat_member(chat, user)
    refused = await sandbox.control.post(
        f"/sandbox/users/{user}/join", json={"invite_link": link.invite_link}
    )
    assert refused.json() == {"error": "USER_BANNED_IN_CHANNEL"}
    revoked = await shop.bot.revoke_chat_invite_link(chat, link.invite_link)
    assert revoked.is_revoked
    await sandbox.add_member(chat, bot_id=shop.id, status="administrator", rights={"can_invite_users": False})
    with pytest.raises(TelegramBadRequest) as no_right:
        await shop.bot.create_chat_invite_link(chat)
    assert no_right.value.message == "Bad Request: not enough rights to manage chat invite link"


async def test_migrated_group_answers_with_the_new_supergroup_id(sandbox: Sandbox) -> None:
    shop, group = await admin_bot_in(sandbox, "group")
    await shop.bot.send_message(group, "before")
    new_id = await sandbox.migrate(group)
    assert new_id < -1_000_000_000_000
    with pytest.raises(TelegramMigrateToChat) as moved:
        await shop.bot.send_message(group, "after")
    assert moved.value.migrate_to_chat_id == new_id
    assert "Bad Request: group chat was upgraded to a supergroup chat" in moved.value.message
    sent = await shop.bot.send_message(new_id, "after")
    assert sent.chat.type == "supergroup"
    service = [u.message for u in await shop.bot.get_updates() if u.message]
    assert [m.migrate_to_chat_id for m in service if m.migrate_to_chat_id] == [new_id]
    assert [m.migrate_from_chat_id for m in service if m.migrate_from_chat_id] == [group]


async def test_restricted_bot_lacks_rights_and_channel_needs_admin(sandbox: Sandbox) -> None:
    shop, chat = await admin_bot_in(sandbox)
    await sandbox.add_member(chat, bot_id=shop.id, status="restricted", rights={"can_send_messages": False})
    with pytest.raises(TelegramBadRequest) as muted:
        await shop.bot.send_message(chat, "hi")
    assert muted.value.message == "Bad Request: not enough rights to send text messages to the chat"
    channel = await sandbox.create_chat("channel", "News")
    await sandbox.add_member(channel, bot_id=shop.id, status="member")
    with pytest.raises(TelegramBadRequest) as not_admin:
        await shop.bot.send_message(channel, "hi")
    assert not_admin.value.message == "Bad Request: need administrator rights in the channel chat"
    await sandbox.add_member(channel, bot_id=shop.id, status="administrator")
    post = await shop.bot.send_message(channel, "hi")
    assert post.sender_chat is not None and post.sender_chat.id == channel


async def test_user_messages_in_groups_reach_every_bot_present(sandbox: Sandbox) -> None:
    shop, chat = await admin_bot_in(sandbox)
    other = await sandbox.create_bot("other_bot")
    await sandbox.add_member(chat, bot_id=other.id, status="member")
    user = await sandbox.create_user("Ana")
    await sandbox.add_member(chat, user_id=user, status="member")
    await sandbox.user_says(user, "hello group", chat_id=chat)
    for bot in (shop, other):
        texts = [u.message.text for u in await bot.bot.get_updates() if u.message and u.message.text]
        assert texts == ["hello group"]
    outsider = await sandbox.create_user("Out")
    with pytest.raises(httpx.HTTPStatusError):
        await sandbox.user_says(outsider, "let me in", chat_id=chat)
