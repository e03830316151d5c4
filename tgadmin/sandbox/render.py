"""Bot API objects (User, Chat, Message, ChatMember ...) as Telegram serialises them."""

from __future__ import annotations

from typing import Any

from tgadmin.sandbox.state.bots import Bot, User
from tgadmin.sandbox.state.chats import Chat, ChatType, Message, StoredFile
from tgadmin.sandbox.state.members import (
    ADMIN_RIGHTS,
    CHANNEL_ADMIN_RIGHTS,
    MEMBER_PERMISSIONS,
    InviteLink,
    Member,
    MemberStatus,
)
from tgadmin.sandbox.state.world import World


def user_json(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user.id, "is_bot": user.is_bot, "first_name": user.first_name}
    for name in ("last_name", "username", "language_code"):
        value = getattr(user, name)
        if value:
            data[name] = value
    return data


def me_json(bot: Bot) -> dict[str, Any]:
    return {
        **user_json(bot.user),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def chat_json(world: World, chat: Chat) -> dict[str, Any]:
    if chat.type == ChatType.PRIVATE:
        user = world.user(chat.id)
        data: dict[str, Any] = {"id": chat.id, "type": "private"}
        if user is not None:
            data.update(
                {k: v for k, v in user_json(user).items() if k in ("first_name", "last_name", "username")}
            )
        return data
    data = {"id": chat.id, "type": str(chat.type), "title": chat.title}
    if chat.username:
        data["username"] = chat.username
    return data


def chat_full_json(world: World, chat: Chat) -> dict[str, Any]:
    data = chat_json(world, chat)
    data.update(
        {
            "accent_color_id": chat.id % 7 if chat.id > 0 else 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
    )
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        data["permissions"] = {name: True for name in MEMBER_PERMISSIONS if name != "can_edit_tag"}
    if chat.migrated_from is not None:
        data["migrated_from_chat_id"] = chat.migrated_from
    return data


def file_json(stored: StoredFile) -> dict[str, Any]:
    data: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
    if stored.size:
        data["file_size"] = stored.size
    if stored.kind in ("photo", "video"):
        data.update({"width": stored.width, "height": stored.height})
    if stored.kind == "video":
        data["duration"] = 0
    if stored.kind != "photo":
        if stored.mime_type:
            data["mime_type"] = stored.mime_type
        if stored.file_name:
            data["file_name"] = stored.file_name
    return data


def _sender(world: World, message: Message, data: dict[str, Any]) -> None:
    chat = message.chat
    sender = world.user(message.sender_id) if message.sender_id else None
    if chat.type == ChatType.CHANNEL:
        data["sender_chat"] = chat_json(world, chat)
        if sender is not None and not sender.is_bot:
            data["author_signature"] = sender.first_name
    elif sender is not None:
        data["from"] = user_json(sender)


def message_json(world: World, message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {"message_id": message.message_id, "date": message.date}
    _sender(world, message, data)
    data["chat"] = chat_json(world, message.chat)
    if message.edit_date:
        data["edit_date"] = message.edit_date
    if message.protect_content:
        data["has_protected_content"] = True
    if message.media_group_id:
        data["media_group_id"] = message.media_group_id
    if message.text is not None:
        data["text"] = message.text
        if message.entities:
            data["entities"] = message.entities
    if message.media is not None:
        media = file_json(message.media)
        data[message.media.kind] = [media] if message.media.kind == "photo" else media
    if message.caption:
        data["caption"] = message.caption
        if message.caption_entities:
            data["caption_entities"] = message.caption_entities
    if message.invoice is not None:
        data["invoice"] = {k: message.invoice[k] for k in ("title", "description", "start_parameter")} | {
            "currency": message.invoice["currency"],
            "total_amount": message.invoice["total_amount"],
        }
    if message.reply_markup and "inline_keyboard" in message.reply_markup:
        data["reply_markup"] = {"inline_keyboard": message.reply_markup["inline_keyboard"]}
    data.update({k: v for k, v in message.service.items() if not k.startswith("_")})
    return data


def member_json(world: World, chat: Chat, member: Member) -> dict[str, Any]:
    user = world.user(member.user_id)
    data: dict[str, Any] = {"status": str(member.status), "user": user_json(user) if user else {}}
    if member.status == MemberStatus.CREATOR:
        data["is_anonymous"] = False
    elif member.status == MemberStatus.ADMINISTRATOR:
        names = ADMIN_RIGHTS + (CHANNEL_ADMIN_RIGHTS if chat.type == ChatType.CHANNEL else ())
        data.update({"can_be_edited": False, "is_anonymous": False})
        data.update({name: member.rights.get(name, False) for name in names})
    elif member.status == MemberStatus.RESTRICTED:
        data["is_member"] = True
        data.update({name: member.rights.get(name, True) for name in MEMBER_PERMISSIONS})
        data["until_date"] = member.until_date
    elif member.status == MemberStatus.KICKED:
        data["until_date"] = member.until_date
    return data


def invite_link_json(world: World, link: InviteLink) -> dict[str, Any]:
    creator = world.user(link.creator_id)
    data: dict[str, Any] = {
        "invite_link": link.link,
        "creator": user_json(creator) if creator else {},
        "creates_join_request": link.creates_join_request,
        "is_primary": False,
        "is_revoked": link.is_revoked,
    }
    if link.name:
        data["name"] = link.name
    if link.expire_date:
        data["expire_date"] = link.expire_date
    if link.member_limit:
        data["member_limit"] = link.member_limit
    return data
