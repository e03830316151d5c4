"""Groups: what the platform knows about the chats its bots are in, and the rules for changing it.

Bots cannot list their chats, so groups are learned from the bot's own `my_chat_member` updates
(`upsert_membership`, `deactivate`), from migrations (`mark_migrated`) and refreshed by the
`sync-*` jobs (`apply_chat_info`). What the gateway learns from Telegram's answers arrives through
`group.events.GroupEvents` (`deactivate`, `mark_migrated`, `record_rights_error`, `record_success`).
Services flush; the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.errors import NotFound
from tgadmin.group import compose, repository
from tgadmin.models import Group
from tgadmin.models.enums import BotMemberStatus, ChatType
from tgadmin.settings import service as settings_service
from tgadmin.telegram import bots

log = logging.getLogger(__name__)

GONE = frozenset({BotMemberStatus.LEFT, BotMemberStatus.KICKED})
# Telegram has answered "not enough rights" spuriously: one is noise, this many in a row is an alert.
RIGHTS_ALERT_AFTER = 2
SYSTEM = Actor.system("group sync")


@dataclass(frozen=True)
class ChatFacts:
    """A chat as Telegram describes it (from an update or getChat), free of aiogram types."""

    telegram_id: int
    type: ChatType
    title: str
    username: str | None = None
    member_count: int | None = None


@dataclass(frozen=True)
class Membership:
    """The bot's own status in a chat and its `can_*` rights (empty unless administrator)."""

    status: BotMemberStatus
    rights: dict[str, bool] = field(default_factory=dict)


def _snapshot(group: Group) -> dict[str, Any]:
    return {
        "telegram_id": group.telegram_id,
        "bot_status": str(group.bot_status),
        "is_active": group.is_active,
        "title": group.title,
    }


async def upsert_membership(
    session: AsyncSession,
    bot_id: int,
    facts: ChatFacts,
    status: BotMemberStatus,
    rights: dict[str, bool],
) -> Group:
    """Record the bot's membership in a chat (added, promoted, demoted, restricted).

    Creates the group on first sight; a group seen again is revived (`is_active=True`) unless the
    status is left/kicked, which goes through `deactivate` instead. Audited when the status changes.
    """
    if status in GONE:
        raise ValueError("left/kicked is a deactivation: call deactivate()")
    group = await repository.by_telegram_id(session, bot_id, facts.telegram_id)
    before = None if group is None else _snapshot(group)
    if group is None:
        group = Group(
            bot_id=bot_id,
            telegram_id=facts.telegram_id,
            type=facts.type,
            title=facts.title,
            bot_status=status,
            bot_rights={},
            is_active=True,
            cooldown_seconds=await settings_service.default_group_cooldown(session),
            rights_errors=0,
        )
        session.add(group)
    _apply_facts(group, facts)
    group.bot_status, group.bot_rights = status, dict(rights)
    group.is_active, group.deactivated_reason = True, None
    await session.flush()
    if before is None or before["bot_status"] != str(status) or not before["is_active"]:
        await record(
            session, SYSTEM, "group.membership", "group", group.id, before=before, after=_snapshot(group)
        )
    return group


def _apply_facts(group: Group, facts: ChatFacts) -> None:
    group.type, group.title, group.username = facts.type, facts.title, facts.username
    if facts.member_count is not None:
        group.member_count = facts.member_count


async def deactivate(
    session: AsyncSession,
    bot_id: int,
    telegram_id: int,
    *,
    status: BotMemberStatus | None = None,
    reason: str | None = None,
) -> Group | None:
    """The bot left or was removed (or Telegram says the chat is gone): the group stops receiving jobs.

    Returns None for a chat the platform never recorded (nothing to deactivate).
    """
    group = await repository.by_telegram_id(session, bot_id, telegram_id)
    if group is None:
        return None
    if status is not None:
        group.bot_status = status
        group.bot_rights = {}
    return await deactivate_group(session, group, reason or f"bot {status or 'removed'}")


async def deactivate_group(session: AsyncSession, group: Group, reason: str) -> Group:
    """`is_active=False` with the reason the operator will read; audited once per change."""
    before = _snapshot(group)
    was_active = group.is_active
    group.is_active, group.deactivated_reason = False, reason[:255]
    await session.flush()
    if was_active:
        log.warning("group %s (%s) deactivated: %s", group.id, group.telegram_id, reason)
        await record(
            session, SYSTEM, "group.deactivated", "group", group.id, before=before, after=_snapshot(group)
        )
    return group


async def mark_migrated(
    session: AsyncSession, bot_id: int, old_chat_id: int, new_chat_id: int
) -> Group | None:
    """A basic group became a supergroup with a new id: follow it. Idempotent (both service messages,
    and the gateway's `migrate_to_chat_id` answers, may report the same migration).

    If only the old group is known it moves in place (same row, so its history and settings stay
    with it). If both are known, the old row is deactivated with `migrated_to_chat_id` and its
    cooldown carried over. Returns the group that now has the new id, or None if neither is known.
    """
    old = await repository.by_telegram_id(session, bot_id, old_chat_id)
    new = await repository.by_telegram_id(session, bot_id, new_chat_id)
    if old is None:
        return new
    before = _snapshot(old)
    if new is None:
        old.telegram_id, old.type = new_chat_id, ChatType.SUPERGROUP
        await session.flush()
        await record(session, SYSTEM, "group.migrated", "group", old.id, before=before, after=_snapshot(old))
        return old
    old.migrated_to_chat_id = new_chat_id
    new.cooldown_seconds = max(new.cooldown_seconds, old.cooldown_seconds)
    await deactivate_group(session, old, f"upgraded to supergroup {new_chat_id}")
    return new


async def apply_chat_info(
    session: AsyncSession, group: Group, facts: ChatFacts, membership: Membership | None
) -> Group:
    """A sync's findings: title, type, username, member count, the bot's status and rights."""
    _apply_facts(group, facts)
    group.last_synced_at = utcnow()
    if membership is not None:
        if membership.status in GONE:
            group.bot_status, group.bot_rights = membership.status, {}
            return await deactivate_group(session, group, f"bot {membership.status}")
        group.bot_status, group.bot_rights = membership.status, dict(membership.rights)
    await session.flush()
    return group


async def record_rights_error(session: AsyncSession, group: Group, description: str) -> int:
    """Count a "not enough rights" answer; never deactivates, alerts when it repeats."""
    count = await repository.add_rights_error(session, group.id)
    await session.refresh(group, ["rights_errors"])
    if count >= RIGHTS_ALERT_AFTER:
        log.error(
            "ALERT group %s (%s): %d 'not enough rights' answers in a row (last: %s); check the bot's rights",
            group.id,
            group.telegram_id,
            count,
            description,
        )
    else:
        log.info("group %s: 'not enough rights' once (%s); not acted on", group.id, description)
    return count


async def record_success(session: AsyncSession, group: Group) -> None:
    """A call went through: earlier "not enough rights" answers were noise."""
    if group.rights_errors:
        await repository.clear_rights_errors(session, group.id)
        group.rights_errors = 0


async def note_message_sent(session: AsyncSession, group_id: int, message_id: int) -> None:
    """The group's `last_message_id` moves forward (never back) to a message the platform sent."""
    await repository.set_last_message_id(session, group_id, message_id)


async def get_group(session: AsyncSession, group_id: int) -> Group | None:
    return await repository.get(session, group_id)


async def first_admin_group(session: AsyncSession, bot_id: int) -> Group | None:
    """The bot's oldest active group where it is an administrator (where a promo can go)."""
    groups = await repository.for_bot(session, bot_id, active_only=True)
    return next((group for group in groups if group.bot_is_admin), None)


async def find(session: AsyncSession, bot_id: int, telegram_id: int) -> Group | None:
    return await repository.by_telegram_id(session, bot_id, telegram_id)


async def resolve_target(
    session: AsyncSession, chat_id: int, *, bot_id: int | None = None, group_db_id: int | None = None
) -> tuple[int, Group | None]:
    """Which bot account speaks to `chat_id`, and the chat's Group row if it is a known group.

    Jobs name a chat, as the original single-bot system did; with several bots the group's own
    bot is used (an active row first), else the given `bot_id`, else the first active bot.
    """
    if group_db_id is not None:
        group = await repository.get(session, group_db_id)
        if group is None:
            raise NotFound(f"no group with id {group_db_id}")
        return group.bot_id, group
    if bot_id is not None:
        return bot_id, await repository.by_telegram_id(session, bot_id, chat_id)
    rows = await repository.by_chat(session, chat_id)
    if rows:
        return rows[0].bot_id, rows[0]
    first = await bots.first_active_id(session)
    if first is None:
        raise NotFound("no active bot account: register one (TELEGRAM_BOT_TOKEN or the Settings page)")
    return first, None


def telegram_html(text: str, *, caption: bool) -> tuple[str, int]:
    """A text checked as Telegram's HTML parse mode checks it (InvalidInput naming the problem when
    Telegram would refuse it): the preview's safe HTML, and the visible length."""
    parsed = compose.parse_html(text, caption=caption)
    return compose.preview_html(parsed), len(parsed.text)
