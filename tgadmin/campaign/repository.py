"""All SQL of the campaign domain (campaigns, campaign_targets).

Changes that must happen once under concurrency are single conditional UPDATEs: a campaign moves
only from the statuses its transition table allows (`WHERE status IN ...`), a target only leaves
`pending` once. Of two racing writers one changes the row and the other changes nothing
(PostgreSQL re-checks the WHERE after the first commits; SQLite has one writer).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.campaign.schemas import CampaignFilter
from tgadmin.models import Bot, Campaign, CampaignTarget, Creator, Group, MediaAsset
from tgadmin.models.enums import BotMemberStatus, CampaignStatus, CampaignTargetStatus, ChatType

PENDING = CampaignTargetStatus.PENDING


def _changed(result: Any) -> bool:
    return bool(cast(CursorResult[Any], result).rowcount == 1)


async def get(session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.get(Campaign, campaign_id, populate_existing=True)


async def due_ids(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Scheduled campaigns whose time has come, oldest first (ix_campaigns_status_scheduled)."""
    query = (
        select(Campaign.id)
        .where(Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at <= now)
        .order_by(Campaign.scheduled_at, Campaign.id)
        .limit(limit)
    )
    return [int(i) for i in (await session.execute(query)).scalars()]


async def running_ids(session: AsyncSession, limit: int) -> list[int]:
    query = (
        select(Campaign.id)
        .where(Campaign.status == CampaignStatus.RUNNING)
        .order_by(Campaign.started_at, Campaign.id)
        .limit(limit)
    )
    return [int(i) for i in (await session.execute(query)).scalars()]


async def change_status(
    session: AsyncSession,
    campaign_id: int,
    new: CampaignStatus,
    sources: Collection[CampaignStatus],
    *,
    due_by: datetime | None = None,
    **values: Any,
) -> bool:
    """Move the campaign to `new` if it is still in one of `sources` (and, with `due_by`, due)."""
    query = update(Campaign).where(Campaign.id == campaign_id, Campaign.status.in_(list(sources)))
    if due_by is not None:
        query = query.where(Campaign.scheduled_at <= due_by)
    result = await session.execute(
        query.values(status=new, **values).execution_options(synchronize_session=False)
    )
    return _changed(result)


async def groups_by_id(session: AsyncSession, group_ids: Iterable[int]) -> dict[int, Group]:
    ids = list(group_ids)
    found: dict[int, Group] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(select(Group).where(Group.id.in_(ids[start : start + 500])))
        found.update({group.id: group for group in rows.scalars()})
    return found


async def set_totals(session: AsyncSession, campaign_id: int, *, total: int, failed: int) -> None:
    await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(total=total, failed=failed, sent=0)
        .execution_options(synchronize_session=False)
    )


async def pending_targets(session: AsyncSession, campaign_id: int) -> list[tuple[int, Group | None]]:
    """Pending targets of a campaign with their group (None when the group row is gone)."""
    rows = await session.execute(
        select(CampaignTarget.group_id, Group)
        .outerjoin(Group, Group.id == CampaignTarget.group_id)
        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == PENDING)
        .order_by(CampaignTarget.group_id)
    )
    return [(int(group_id), group) for group_id, group in rows]


async def leave_pending(
    session: AsyncSession,
    campaign_id: int,
    group_id: int,
    status: CampaignTargetStatus,
    *,
    now: datetime,
    message_id: int | None = None,
    message_ids: list[int] | None = None,
    reason: str | None = None,
) -> bool:
    """The one way a target gets its outcome: only while it is still pending."""
    result = await session.execute(
        update(CampaignTarget)
        .where(
            CampaignTarget.campaign_id == campaign_id,
            CampaignTarget.group_id == group_id,
            CampaignTarget.status == PENDING,
        )
        .values(status=status, message_id=message_id, message_ids=message_ids, reason=reason, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def fail_all_pending(session: AsyncSession, campaign_id: int, reason: str, now: datetime) -> int:
    result = await session.execute(
        update(CampaignTarget)
        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == PENDING)
        .values(status=CampaignTargetStatus.FAILED, reason=reason, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def finish_if_done(
    session: AsyncSession, campaign_id: int, sources: Collection[CampaignStatus], now: datetime
) -> CampaignStatus | None:
    """One statement: a running campaign with no pending target becomes completed (something was
    sent) or failed (nothing was). Returns the new status, or None when nothing changed."""
    target = CampaignTarget.__table__
    pending = exists().where(and_(target.c.campaign_id == Campaign.id, target.c.status == PENDING))
    posted = [CampaignTargetStatus.SENT.value, CampaignTargetStatus.DELETED.value]
    any_sent = exists().where(and_(target.c.campaign_id == Campaign.id, target.c.status.in_(posted)))
    status = case(
        (any_sent, CampaignStatus.COMPLETED.value),
        else_=CampaignStatus.FAILED.value,
    )
    result = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(list(sources)), ~pending)
        .values(status=status, finished_at=now)
        .returning(Campaign.status)
        .execution_options(synchronize_session=False)
    )
    new = result.scalar_one_or_none()
    return None if new is None else CampaignStatus(new)


async def targets(session: AsyncSession, campaign_id: int) -> Sequence[CampaignTarget]:
    rows = await session.execute(
        select(CampaignTarget)
        .where(CampaignTarget.campaign_id == campaign_id)
        .order_by(CampaignTarget.group_id)
    )
    return rows.scalars().all()


async def target_status(
    session: AsyncSession, campaign_id: int, group_id: int
) -> CampaignTargetStatus | None:
    found = await session.execute(
        select(CampaignTarget.status).where(
            CampaignTarget.campaign_id == campaign_id, CampaignTarget.group_id == group_id
        )
    )
    status = found.scalar_one_or_none()
    return None if status is None else CampaignTargetStatus(status)


async def status_of(session: AsyncSession, campaign_id: int) -> CampaignStatus | None:
    found = (
        await session.execute(select(Campaign.status).where(Campaign.id == campaign_id))
    ).scalar_one_or_none()
    return None if found is None else CampaignStatus(found)


async def status_and_round(session: AsyncSession, campaign_id: int) -> tuple[CampaignStatus, int] | None:
    found = (
        await session.execute(select(Campaign.status, Campaign.round).where(Campaign.id == campaign_id))
    ).one_or_none()
    return None if found is None else (CampaignStatus(found[0]), int(found[1]))


async def bot_usernames(session: AsyncSession, bot_ids: Iterable[int]) -> dict[int, str]:
    rows = await session.execute(select(Bot.id, Bot.username).where(Bot.id.in_(list(bot_ids))))
    return {int(bot_id): str(name) for bot_id, name in rows}


async def missing_assets(session: AsyncSession, asset_ids: Sequence[int]) -> list[int]:
    if not asset_ids:
        return []
    rows = await session.execute(select(MediaAsset.id).where(MediaAsset.id.in_(list(asset_ids))))
    found = {int(i) for i in rows.scalars()}
    return [i for i in asset_ids if i not in found]


ADMIN = (BotMemberStatus.ADMINISTRATOR, BotMemberStatus.CREATOR)


def _has_rights(group: Group, needs_delete: bool) -> bool:
    """The bot can post there (a channel needs an administrator who may post) and, when the
    campaign deletes its posts again, delete them (a group's admin right)."""
    rights = group.bot_rights or {}
    if group.type is ChatType.CHANNEL and not (group.bot_is_admin and rights.get("can_post_messages")):
        return False
    if group.bot_status not in (*ADMIN, BotMemberStatus.MEMBER):
        return False
    return not needs_delete or (group.bot_is_admin and bool(rights.get("can_delete_messages")))


async def filtered_group_ids(
    session: AsyncSession, chosen: CampaignFilter, *, needs_delete: bool
) -> list[int]:
    """The groups a filter picks; tags match any of them (JSON is filtered here: portable)."""
    query = select(Group).order_by(Group.id)
    if chosen.active_only:
        query = query.where(Group.is_active.is_(True))
    wanted = set(chosen.tags)
    found: list[int] = []
    for group in (await session.execute(query)).scalars():
        if wanted and not wanted.intersection(group.tags or []):
            continue
        if chosen.with_rights and not _has_rights(group, needs_delete):
            continue
        found.append(group.id)
    return found


async def all_tags(session: AsyncSession) -> list[str]:
    tags: set[str] = set()
    for values in (await session.execute(select(Group.tags))).scalars():
        tags.update(values or [])
    return sorted(tags)


async def mark_deleted(session: AsyncSession, campaign_id: int, group_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(CampaignTarget)
        .where(
            CampaignTarget.campaign_id == campaign_id,
            CampaignTarget.group_id == group_id,
            CampaignTarget.status == CampaignTargetStatus.SENT,
        )
        .values(status=CampaignTargetStatus.DELETED)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def sent_with_auto_delete(session: AsyncSession, limit: int) -> list[tuple[CampaignTarget, int, int]]:
    """Sent posts of campaigns that delete them again: target, hours, the group's chat id."""
    rows = await session.execute(
        select(CampaignTarget, Campaign.auto_delete_hours, Group.telegram_id)
        .join(Campaign, Campaign.id == CampaignTarget.campaign_id)
        .join(Group, Group.id == CampaignTarget.group_id)
        .where(Campaign.auto_delete_hours.is_not(None), CampaignTarget.status == CampaignTargetStatus.SENT)
        .order_by(CampaignTarget.finished_at)
        .limit(limit)
    )
    return [(target, int(hours or 0), int(chat)) for target, hours, chat in rows]


async def page(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[Campaign], int]:
    total = (await session.execute(select(func.count()).select_from(Campaign))).scalar_one()
    rows = await session.execute(select(Campaign).order_by(Campaign.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)


async def targets_with_titles(
    session: AsyncSession, campaign_id: int
) -> list[tuple[CampaignTarget, str | None]]:
    rows = await session.execute(
        select(CampaignTarget, Group.title)
        .outerjoin(Group, Group.id == CampaignTarget.group_id)
        .where(CampaignTarget.campaign_id == campaign_id)
        .order_by(CampaignTarget.group_id)
    )
    return [(target, title) for target, title in rows]


async def group_choices(session: AsyncSession) -> list[Group]:
    rows = await session.execute(select(Group).order_by(Group.is_active.desc(), Group.title).limit(2000))
    return list(rows.scalars())


async def image_assets(session: AsyncSession, limit: int = 60) -> list[MediaAsset]:
    """The library's newest images, for the compose form."""
    rows = await session.execute(
        select(MediaAsset)
        .where(MediaAsset.content_type.like("image/%"))
        .order_by(MediaAsset.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def image_asset(session: AsyncSession, asset_id: int) -> MediaAsset | None:
    found = await session.get(MediaAsset, asset_id)
    return found if found is not None and found.content_type.startswith("image/") else None


async def creator_choices(session: AsyncSession) -> list[tuple[int, str]]:
    """Active creators, for deep-link buttons."""
    rows = await session.execute(
        select(Creator.id, Creator.name).where(Creator.is_active.is_(True)).order_by(Creator.name).limit(500)
    )
    return [(int(i), str(name)) for i, name in rows]


async def any_pending(session: AsyncSession, campaign_id: int) -> bool:
    found = await session.execute(
        select(CampaignTarget.id)
        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == PENDING)
        .limit(1)
    )
    return found.first() is not None


def _count(*statuses: CampaignTargetStatus) -> Any:
    target = CampaignTarget.__table__
    return (
        select(func.count())
        .select_from(target)
        .where(target.c.campaign_id == Campaign.id, target.c.status.in_([s.value for s in statuses]))
        .scalar_subquery()
    )


async def recount(session: AsyncSession, campaign_id: int) -> None:
    """The counters from the targets (sent counts the posts auto-deleted since)."""
    await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(
            sent=_count(CampaignTargetStatus.SENT, CampaignTargetStatus.DELETED),
            failed=_count(CampaignTargetStatus.FAILED),
        )
        .execution_options(synchronize_session=False)
    )


async def live_counts(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Targets per status of these campaigns (for the list while they run)."""
    if not campaign_ids:
        return {}
    rows = await session.execute(
        select(CampaignTarget.campaign_id, CampaignTarget.status, func.count())
        .where(CampaignTarget.campaign_id.in_(list(campaign_ids)))
        .group_by(CampaignTarget.campaign_id, CampaignTarget.status)
    )
    found: dict[int, dict[str, int]] = {}
    for campaign_id, status, count in rows:
        found.setdefault(int(campaign_id), {})[CampaignTargetStatus(status).value] = int(count)
    return found
