"""Chats and members: getChat*, bans, invite links, leaving."""

from __future__ import annotations

import secrets
from typing import Any

from tgadmin.sandbox import errors
from tgadmin.sandbox.errors import bad_request
from tgadmin.sandbox.events import change_member, lift_expired_ban
from tgadmin.sandbox.methods.common import Call, is_admin, is_admin_with, method, resolve_chat
from tgadmin.sandbox.render import chat_full_json, invite_link_json, member_json
from tgadmin.sandbox.state.chats import Chat, ChatType
from tgadmin.sandbox.state.members import PRESENT, InviteLink, MemberStatus

FOREVER_BELOW = 30
FOREVER_ABOVE = 366 * 24 * 3600


def _user_id(call: Call) -> int:
    user_id = max(call.args.integer("user_id"), 0)
    if user_id == 0:
        raise bad_request("invalid user_id specified")
    return user_id


@method("getChat")
def get_chat(call: Call) -> dict[str, Any]:
    return chat_full_json(call.world, resolve_chat(call, write=False))


@method("getChatMember")
def get_chat_member(call: Call) -> dict[str, Any]:
    chat = resolve_chat(call, write=False)
    user_id = _user_id(call)
    if call.world.user(user_id) is None:
        raise bad_request(errors.USER_NOT_FOUND)
    lift_expired_ban(call.world, chat, user_id)
    return member_json(call.world, chat, chat.member(user_id))


@method("getChatAdministrators")
def get_chat_administrators(call: Call) -> list[dict[str, Any]]:
    chat = resolve_chat(call, write=False)
    if chat.type == ChatType.PRIVATE:
        raise bad_request(errors.NO_ADMINS_IN_PRIVATE)
    admins = [
        m for m in chat.members.values() if m.status in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR)
    ]
    return [member_json(call.world, chat, m) for m in admins]


@method("getChatMemberCount")
def get_chat_member_count(call: Call) -> int:
    chat = resolve_chat(call, write=False)
    return sum(1 for m in chat.members.values() if m.status in PRESENT or m.status == MemberStatus.RESTRICTED)


def _restrictable(call: Call, chat: Chat, user_id: int) -> None:
    if chat.type == ChatType.PRIVATE:
        raise bad_request(errors.PRIVATE_CHAT_STATUS)
    allowed = (
        is_admin(chat, call.bot.id)
        if chat.type == ChatType.GROUP
        else is_admin_with(chat, call.bot.id, "can_restrict_members")
    )
    if not allowed:
        raise bad_request(errors.NOT_ENOUGH_RIGHTS_BAN)
    if call.world.user(user_id) is None:
        raise bad_request(errors.PARTICIPANT_ID_INVALID)
    target = chat.member(user_id).status
    if target == MemberStatus.CREATOR:
        raise bad_request(errors.CANT_REMOVE_OWNER)
    if target == MemberStatus.ADMINISTRATOR:
        raise bad_request(errors.USER_IS_ADMIN)


@method("banChatMember")
def ban_chat_member(call: Call) -> bool:
    user_id = _user_id(call)
    chat = resolve_chat(call, write=True)
    _restrictable(call, chat, user_id)
    until = call.args.integer("until_date")
    now = call.world.now()
    # Telegram: less than 30 seconds or more than 366 days from now means forever.
    if until and (until - now < FOREVER_BELOW or until - now > FOREVER_ABOVE):
        until = 0
    change_member(call.world, chat, user_id, MemberStatus.KICKED, call.bot.id, until_date=until)
    if call.args.flag("revoke_messages") or chat.type == ChatType.GROUP:
        for message in chat.messages.values():
            if message.sender_id == user_id and message.deleted_at is None:
                message.deleted_at = now
    return True


@method("kickChatMember")
def kick_chat_member(call: Call) -> bool:
    return ban_chat_member(call)


@method("unbanChatMember")
def unban_chat_member(call: Call) -> bool:
    user_id = _user_id(call)
    chat = resolve_chat(call, write=True)
    if chat.type not in (ChatType.SUPERGROUP, ChatType.CHANNEL):
        raise bad_request(errors.ONLY_SUPERGROUPS_AND_CHANNELS)
    lift_expired_ban(call.world, chat, user_id)
    if call.args.flag("only_if_banned") and chat.member(user_id).status != MemberStatus.KICKED:
        return True
    _restrictable(call, chat, user_id)
    # Without only_if_banned Telegram removes a present member too: that is why the flag exists.
    change_member(call.world, chat, user_id, MemberStatus.LEFT, call.bot.id)
    return True


def _managed_link_chat(call: Call) -> Chat:
    chat = resolve_chat(call, write=True)
    if chat.type == ChatType.PRIVATE or not is_admin_with(chat, call.bot.id, "can_invite_users"):
        raise bad_request(errors.NOT_ENOUGH_RIGHTS_INVITE)
    return chat


@method("createChatInviteLink")
def create_chat_invite_link(call: Call) -> dict[str, Any]:
    chat = _managed_link_chat(call)
    expire_date = max(call.args.integer("expire_date"), 0)
    member_limit = call.args.clamped("member_limit", 0, 0, 100_000)
    joins_by_request = call.args.flag("creates_join_request")
    if joins_by_request and member_limit:
        raise bad_request(errors.INVITE_LINK_LIMIT_WITH_REQUEST)
    if member_limit > 99_999:
        raise bad_request("USAGE_LIMIT_INVALID")
    if expire_date and expire_date <= call.world.now():
        raise bad_request("EXPIRE_DATE_INVALID")
    name = call.args.get("name")
    if len(name) > 32:
        raise bad_request("invite link name is too long")
    link = InviteLink(
        "https://t.me/+" + secrets.token_urlsafe(12),
        call.bot.id,
        name or None,
        expire_date or None,
        member_limit or None,
        joins_by_request,
    )
    chat.invite_links[link.link] = link
    return invite_link_json(call.world, link)


@method("revokeChatInviteLink")
def revoke_chat_invite_link(call: Call) -> dict[str, Any]:
    chat = _managed_link_chat(call)
    link = chat.invite_links.get(call.args.required("invite_link"))
    if link is None:
        raise bad_request(errors.INVITE_LINK_NOT_FOUND)
    link.is_revoked = True
    return invite_link_json(call.world, link)


@method("leaveChat")
def leave_chat(call: Call) -> bool:
    chat = resolve_chat(call, write=True)
    if chat.type == ChatType.PRIVATE:
        raise bad_request("chat member status can't be changed in private chats")
    change_member(call.world, chat, call.bot.id, MemberStatus.LEFT, call.bot.id)
    return True
