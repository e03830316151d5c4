"""Things that happen in the world and the updates Telegram sends bots about them.

Membership changes (`my_chat_member` to the bot concerned, `chat_member` to admin bots that asked
for it, `new_chat_members`/`left_chat_member` service messages), user messages (privacy mode off:
every bot present in a group sees them), callback queries, invoice payments and migrations.
Callers hold `world.lock`.
"""

from __future__ import annotations

import secrets
from typing import Any

from tgadmin.sandbox.render import chat_json, member_json, message_json, user_json
from tgadmin.sandbox.state.bots import Bot, CallbackQuery, User
from tgadmin.sandbox.state.chats import Chat, ChatType, Message
from tgadmin.sandbox.state.members import PRESENT, Member, MemberStatus
from tgadmin.sandbox.state.world import World


class EventError(Exception):
    """A control action the world refuses (unknown user, not a member ...); the control API answers 400."""


def deliver_message(world: World, chat: Chat, message: Message) -> None:
    kind = "channel_post" if chat.type == ChatType.CHANNEL else "message"
    for bot in world.bots_in(chat):
        if bot.id != message.sender_id:
            bot.push(kind, message_json(world, message))


def post_service(world: World, chat: Chat, actor_id: int | None, **service: Any) -> Message:
    message = chat.add_message(actor_id, world.now(), service=service)
    deliver_message(world, chat, message)
    return message


def _chat_member_update(world: World, chat: Chat, actor: User, old: Member, new: Member) -> dict[str, Any]:
    return {
        "chat": chat_json(world, chat),
        "from": user_json(actor),
        "date": world.now(),
        "old_chat_member": member_json(world, chat, old),
        "new_chat_member": member_json(world, chat, new),
    }


def _notify_member_change(world: World, chat: Chat, actor: User, old: Member, new: Member) -> None:
    update = _chat_member_update(world, chat, actor, old, new)
    target = world.bots.get(new.user_id)
    if target is not None:
        target.push("my_chat_member", update)
    for bot in world.bots_in(chat):
        if bot.id != new.user_id and chat.member(bot.id).status in (
            MemberStatus.ADMINISTRATOR,
            MemberStatus.CREATOR,
        ):
            bot.push("chat_member", update)


def change_member(
    world: World,
    chat: Chat,
    user_id: int,
    status: MemberStatus,
    actor_id: int,
    rights: dict[str, bool] | None = None,
    until_date: int = 0,
) -> Member:
    """Set a member's status; returns the old membership. Emits what Telegram would."""
    subject, actor = world.user(user_id), world.user(actor_id)
    if subject is None or actor is None:
        raise EventError(f"unknown user {user_id if subject is None else actor_id}")
    old = chat.member(user_id)
    new = Member(user_id, status, dict(rights or {}), until_date)
    if old.status == new.status and old.rights == new.rights and old.until_date == new.until_date:
        return old
    chat.members[user_id] = new
    _notify_member_change(world, chat, actor, old, new)
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        joined = old.status not in PRESENT and new.status in PRESENT
        gone = old.status in PRESENT and new.status not in PRESENT
        if joined:
            post_service(
                world,
                chat,
                actor_id,
                new_chat_members=[user_json(subject)],
                new_chat_member=user_json(subject),
            )
        elif gone:
            post_service(world, chat, actor_id, left_chat_member=user_json(subject))
    return old


def lift_expired_ban(world: World, chat: Chat, user_id: int) -> None:
    member = chat.members.get(user_id)
    if (
        member
        and member.status == MemberStatus.KICKED
        and member.until_date
        and world.now() >= member.until_date
    ):
        chat.members[user_id] = Member(user_id, MemberStatus.LEFT)


def user_message(world: World, chat: Chat, user: User, text: str) -> Message:
    entities = []
    if text.startswith("/"):
        command = text.split()[0]
        entities.append({"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2})
    message = chat.add_message(user.id, world.now(), text=text, entities=entities)
    deliver_message(world, chat, message)
    return message


def set_blocked(world: World, bot: Bot, user: User, blocked: bool) -> None:
    chat = world.private_chat(bot, user)
    if chat.blocked == blocked:
        return
    chat.blocked = blocked
    old = Member(bot.id, MemberStatus.KICKED if not blocked else MemberStatus.MEMBER)
    new = Member(bot.id, MemberStatus.KICKED if blocked else MemberStatus.MEMBER)
    bot.push("my_chat_member", _chat_member_update(world, chat, user, old, new))


def press_button(world: World, bot: Bot, user: User, message: Message, data: str) -> str:
    buttons = [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]
    if not any(b.get("callback_data") == data for b in buttons):
        raise EventError("the message has no button with this callback_data")
    query = CallbackQuery(
        str(secrets.randbelow(10**18) + 10**17), user.id, message.chat.key, message.message_id, data
    )
    bot.callback_queries[query.id] = query
    bot.push(
        "callback_query",
        {
            "id": query.id,
            "from": user_json(user),
            "message": message_json(world, message),
            "chat_instance": str(abs(hash((bot.id, message.chat.id))) % 10**18),
            "data": data,
        },
    )
    return query.id


def migrate(world: World, chat: Chat, actor_id: int) -> Chat:
    """Upgrade a basic group: a new supergroup id, members and messages carried over, the old id dead."""
    if chat.type != ChatType.GROUP or chat.migrated_to is not None:
        raise EventError("only a basic group that was not upgraded yet can be migrated")
    new_id = -world.next_supergroup_id
    world.next_supergroup_id += 1
    new = Chat(new_id, ChatType.SUPERGROUP, title=chat.title, owner_id=chat.owner_id, migrated_from=chat.id)
    new.members = {
        uid: Member(uid, m.status, dict(m.rights), m.until_date) for uid, m in chat.members.items()
    }
    world.chats[new_id] = new
    post_service(world, chat, actor_id, migrate_to_chat_id=new_id, _undeletable=True)
    chat.migrated_to = new_id
    post_service(world, new, actor_id, migrate_from_chat_id=chat.id, _undeletable=True)
    return new
