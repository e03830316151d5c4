"""Post history rules: what the platform sent to each group, and what became of it.

A message is `deleted` only when Telegram deleted it (or reports it already gone), `undeletable`
when Telegram refuses (48 hours passed, or no right to); nothing else changes a row's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.clock import ensure_utc, utcnow
from tgadmin.errors import BadRequest, Conflict, NotFound
from tgadmin.group import service as group_service
from tgadmin.models import Group, PostHistory
from tgadmin.models.enums import BotMemberStatus, PostKind, PostStatus
from tgadmin.post import repository
from tgadmin.post.repository import ClearFilter, HistoryFilter, HistoryRow

EXCERPT_LENGTH = 200
# Telegram's rule: a bot cannot delete a message older than 48 hours, in any chat type.
DELETE_WINDOW = timedelta(hours=48)
# One request deletes at most this many posts (each group's share is one job).
MAX_SELECTED = 1000
# "Older than N days" beyond a century is a typo, not a filter (and would overflow the clock).
MAX_AGE_DAYS = 36_500
EARLIEST, LATEST = 2000, 2999


async def record_sent(
    session: AsyncSession,
    group: Group,
    *,
    chat_id: int,
    message_id: int,
    kind: PostKind,
    text: str | None,
    job_id: str | None,
    campaign_id: int | None = None,
) -> PostHistory:
    """One PostHistory row per message sent to a group (idempotent on the message), and the
    group's `last_message_id` moved forward."""
    existing = await repository.by_message(session, group.id, message_id)
    if existing is not None:
        return existing
    row = PostHistory(
        group_id=group.id,
        chat_id=chat_id,
        message_id=message_id,
        kind=kind,
        excerpt=(text or "")[:EXCERPT_LENGTH] or None,
        status=PostStatus.SENT,
        sent_at=utcnow(),
        job_id=job_id,
        campaign_id=campaign_id,
    )
    session.add(row)
    await session.flush()
    await group_service.note_message_sent(session, group.id, message_id)
    return row


@dataclass
class DeleteOutcome:
    deleted: list[int] = field(default_factory=list)
    undeletable: list[int] = field(default_factory=list)
    api_calls: int = 0
    errors: dict[int, str] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {
            "deleted": len(self.deleted),
            "undeletable": len(self.undeletable),
            "failed": len(self.errors),
            "apiCalls": self.api_calls,
        }


async def apply_outcome(session: AsyncSession, group: Group | None, outcome: DeleteOutcome) -> None:
    """Write what Telegram did into PostHistory (rows of other chats are not touched)."""
    if group is None:
        return
    now = utcnow()
    if outcome.deleted:
        await repository.set_status(session, group.id, outcome.deleted, PostStatus.DELETED, deleted_at=now)
    if outcome.undeletable:
        await repository.set_status(
            session,
            group.id,
            outcome.undeletable,
            PostStatus.UNDELETABLE,
            error="Telegram: message can't be deleted",
        )


async def split_by_age(
    session: AsyncSession, group: Group | None, message_ids: Sequence[int]
) -> tuple[list[int], list[int]]:
    """(probably deletable, known to be older than 48 h). Telegram still decides for both; keeping
    the old ones apart stops one stale id from failing a whole batch of fresh ones."""
    if group is None:
        return list(message_ids), []
    sent = await repository.sent_at_of(session, group.id, message_ids)
    limit = utcnow() - DELETE_WINDOW
    old = [m for m in message_ids if m in sent and sent[m] < limit]
    old_set = set(old)
    return [m for m in message_ids if m not in old_set], old


async def clear_candidates(session: AsyncSession, group: Group, where: ClearFilter) -> list[int]:
    return await repository.deletable_ids(session, group.id, where)


async def history(
    session: AsyncSession, where: HistoryFilter, *, limit: int, offset: int
) -> tuple[list[HistoryRow], int]:
    """Posts newest first, with their group's title, and how many match the filters."""
    return await repository.history(session, where, limit=limit, offset=offset)


async def group_choices(session: AsyncSession) -> list[tuple[int, str]]:
    return await repository.group_choices(session)


def _moment(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if not EARLIEST <= value.year <= LATEST:
        raise BadRequest(f"{name} {value.date()} is not a date this history can hold")
    return ensure_utc(value)


def history_filter(
    *,
    group_id: int | None = None,
    status: PostStatus | None = None,
    kind: PostKind | None = None,
    sent_from: datetime | None = None,
    sent_to: datetime | None = None,
) -> HistoryFilter:
    """The list's filters, refused when the date range is reversed."""
    start, end = _moment(sent_from, "from"), _moment(sent_to, "to")
    if start is not None and end is not None and start > end:
        raise BadRequest("the date range is reversed: 'from' is after 'to'")
    return HistoryFilter(group_id=group_id, status=status, kind=kind, sent_from=start, sent_to=end)


@dataclass(frozen=True)
class ClearAsk:
    """What the operator asked "clear with filters" to delete (all optional: none clears all)."""

    from_date: datetime | None = None
    to_date: datetime | None = None
    older_than_days: int | None = None
    from_message_id: int | None = None
    to_message_id: int | None = None

    def described(self) -> dict[str, object]:
        """The filters given, as the audit trail keeps them."""
        return {
            key: (value.isoformat() if isinstance(value, datetime) else value)
            for key, value in asdict(self).items()
            if value is not None
        }


def clear_filter(ask: ClearAsk) -> ClearFilter:
    """What "clear with filters" deletes; a reversed range or a negative age is refused."""
    start, end = _moment(ask.from_date, "from"), _moment(ask.to_date, "to")
    if start is not None and end is not None and start > end:
        raise BadRequest("the date range is reversed: 'from' is after 'to'")
    days = ask.older_than_days
    if days is not None and not 0 <= days <= MAX_AGE_DAYS:
        raise BadRequest(f"'older than' must be between 0 and {MAX_AGE_DAYS} days, not {days}")
    first, last = ask.from_message_id, ask.to_message_id
    for value in (first, last):
        if value is not None and value < 1:
            raise BadRequest(f"message ids start at 1, not {value}")
    if first is not None and last is not None and first > last:
        raise BadRequest(f"the message id range is reversed: {first} is after {last}")
    return ClearFilter(
        from_message_id=first,
        to_message_id=last,
        sent_before=None if days is None else utcnow() - timedelta(days=days),
        sent_from=start,
        sent_to=end,
    )


def check_reachable(group: Group) -> None:
    """Deleting needs the bot in the chat: a group it left, was removed from, or that was
    deactivated is refused (nothing would be deleted, every message would fail)."""
    if group.bot_status in (BotMemberStatus.LEFT, BotMemberStatus.KICKED):
        raise Conflict(
            f"the bot is no longer in group {group.title!r} ({group.bot_status.value}): "
            "nothing can be deleted there"
        )
    if not group.is_active:
        reason = group.deactivated_reason or "deactivated"
        raise Conflict(f"group {group.title!r} is inactive ({reason}): activate it first")


async def clearable_group(session: AsyncSession, group_id: int) -> Group:
    group = await group_service.get_group(session, group_id)
    if group is None:
        raise NotFound(f"no group with id {group_id}")
    return group


@dataclass(frozen=True)
class ClearCount:
    """What a clear would do now: `matched` messages asked for, of which `past_window` were sent more
    than 48 hours ago (Telegram refuses those: they will be marked undeletable)."""

    matched: int
    past_window: int

    @property
    def deletable(self) -> int:
        return self.matched - self.past_window


async def count_clear(session: AsyncSession, group: Group, where: ClearFilter) -> ClearCount:
    matched, old = await repository.count_deletable(session, group.id, where, utcnow() - DELETE_WINDOW)
    return ClearCount(matched, old)


@dataclass(frozen=True)
class GroupSelection:
    """The selected posts of one group: one bulk delete job."""

    group: Group
    message_ids: list[int]


async def select_for_delete(session: AsyncSession, post_ids: Sequence[int]) -> list[GroupSelection]:
    """The selected posts by group; refused whole when one is unknown, no longer shown (deleted,
    failed or undeletable), or in a group the bot cannot delete in."""
    wanted = sorted(set(post_ids))
    if not wanted:
        raise BadRequest("no posts selected")
    if len(wanted) > MAX_SELECTED:
        raise BadRequest(f"at most {MAX_SELECTED} posts at once, not {len(wanted)}")
    posts = await repository.by_ids(session, wanted)
    missing = sorted(set(wanted) - {post.id for post in posts})
    if missing:
        raise NotFound(f"no post with id {', '.join(map(str, missing[:10]))}")
    gone = [post for post in posts if post.status != PostStatus.SENT]
    if gone:
        listed = ", ".join(f"#{post.id} ({post.status.value})" for post in gone[:10])
        raise Conflict(f"only posts still shown (sent) can be deleted: {listed}")
    by_group: dict[int, list[int]] = {}
    for post in posts:
        by_group.setdefault(post.group_id, []).append(post.message_id)
    selections = []
    for group_id, message_ids in sorted(by_group.items()):
        group = await clearable_group(session, group_id)
        check_reachable(group)
        selections.append(GroupSelection(group, sorted(message_ids)))
    return selections
