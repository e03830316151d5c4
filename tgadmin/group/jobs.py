"""Queue handlers of the group domain: sync every group, sync one, chat info, the bot's rights."""

from __future__ import annotations

from typing import Any

from aiogram.methods import GetChat, GetChatMember, GetChatMemberCount
from pydantic import StrictInt

from tgadmin.errors import BadRequest, NotFound
from tgadmin.group import repository, service
from tgadmin.models import Group
from tgadmin.models.enums import BotMemberStatus, ChatType
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName
from tgadmin.telegram import bots

USEFUL_RIGHTS = ("can_post_messages", "can_delete_messages", "can_restrict_members", "can_invite_users")


class SyncGroupsData(JobData):
    botId: StrictInt | None = None  # noqa: N815 - the original system's job fields


class SyncSingleGroupData(JobData):
    telegramId: StrictInt | None = None  # noqa: N815
    groupDbId: StrictInt | None = None  # noqa: N815
    botId: StrictInt | None = None  # noqa: N815


class ChatData(JobData):
    chatId: StrictInt  # noqa: N815
    botId: StrictInt | None = None  # noqa: N815


async def _membership(run: JobRun, bot_id: int, chat_id: int) -> service.Membership:
    bot = await bots.get_bot(run.session, bot_id)
    member = await run.gateway.call(
        run.session, GetChatMember(chat_id=chat_id, user_id=bot.telegram_id), bot_id=bot_id
    )
    rights = {k: bool(v) for k, v in member.model_dump(exclude_none=True).items() if k.startswith("can_")}
    return service.Membership(BotMemberStatus(member.status), rights)


async def _facts(run: JobRun, bot_id: int, chat_id: int) -> service.ChatFacts:
    chat = await run.gateway.call(run.session, GetChat(chat_id=chat_id), bot_id=bot_id)
    count = None
    if chat.type != ChatType.PRIVATE:
        count = await run.gateway.call(run.session, GetChatMemberCount(chat_id=chat.id), bot_id=bot_id)
    return service.ChatFacts(chat.id, ChatType(chat.type), chat.title or "", chat.username, count)


async def sync_group(run: JobRun, group: Group) -> Group:
    """Refresh one group from Telegram (a migration is followed on the way by the gateway)."""
    facts = await _facts(run, group.bot_id, group.telegram_id)
    membership = await _membership(run, group.bot_id, facts.telegram_id)
    return await service.apply_chat_info(run.session, group, facts, membership)


async def sync_groups(run: JobRun, data: SyncGroupsData) -> dict[str, Any]:
    """Fan out one `sync-single-group` job per active group (each retried on its own)."""
    groups = (
        await repository.all_groups(run.session, active_only=True)
        if data.botId is None
        else await repository.for_bot(run.session, data.botId, active_only=True)
    )
    ids = await run.ctx.queues.enqueue_many(JobName.SYNC_SINGLE_GROUP, [{"groupDbId": g.id} for g in groups])
    return {"groups": len(ids)}


async def sync_single_group(run: JobRun, data: SyncSingleGroupData) -> dict[str, Any]:
    if data.groupDbId is not None:
        group = await repository.get(run.session, data.groupDbId)
    elif data.telegramId is not None:
        _, group = await service.resolve_target(run.session, data.telegramId, bot_id=data.botId)
    else:
        return await sync_groups(run, SyncGroupsData(botId=data.botId))
    if group is None:
        raise NotFound(
            f"no known group {data.groupDbId or data.telegramId}: groups are learned when the bot is added"
        )
    group = await sync_group(run, group)
    return _describe(group)


def _describe(group: Group) -> dict[str, Any]:
    return {
        "groupDbId": group.id,
        "telegramId": group.telegram_id,
        "title": group.title,
        "type": str(group.type),
        "memberCount": group.member_count,
        "botStatus": str(group.bot_status),
        "isActive": group.is_active,
        "rights": {k: group.bot_rights.get(k, False) for k in USEFUL_RIGHTS},
    }


async def get_chat_info(run: JobRun, data: ChatData) -> dict[str, Any]:
    bot_id, group = await service.resolve_target(run.session, data.chatId, bot_id=data.botId)
    facts = await _facts(run, bot_id, data.chatId)
    if group is not None:
        group = await service.apply_chat_info(run.session, group, facts, None)
    return {
        "telegramId": facts.telegram_id,
        "title": facts.title,
        "type": str(facts.type),
        "username": facts.username,
        "memberCount": facts.member_count,
    }


async def check_permissions(run: JobRun, data: ChatData) -> dict[str, Any]:
    bot_id, group = await service.resolve_target(run.session, data.chatId, bot_id=data.botId)
    if data.chatId > 0:
        raise BadRequest("a private chat has no admin rights to check")
    membership = await _membership(run, bot_id, data.chatId)
    if group is not None:
        facts = service.ChatFacts(
            group.telegram_id, group.type, group.title, group.username, group.member_count
        )
        await service.apply_chat_info(run.session, group, facts, membership)
    is_admin = membership.status in (BotMemberStatus.ADMINISTRATOR, BotMemberStatus.CREATOR)
    return {
        "status": str(membership.status),
        "isAdmin": is_admin,
        "canPost": is_admin or membership.status is BotMemberStatus.MEMBER,
        "canDelete": membership.status is BotMemberStatus.CREATOR
        or membership.rights.get("can_delete_messages", False),
        "rights": membership.rights,
    }


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.SYNC_GROUPS: Handler(SyncGroupsData, sync_groups),
    JobName.SYNC_SINGLE_GROUP: Handler(SyncSingleGroupData, sync_single_group),
    JobName.GET_CHAT_INFO: Handler(ChatData, get_chat_info),
    JobName.CHECK_PERMISSIONS: Handler(ChatData, check_permissions),
}
