"""Campaigns: one post (text, a photo or an album, buttons) to a set of groups at a scheduled time,
once or repeating, optionally deleted again after some hours.

Lifecycle, decided only by `TRANSITIONS` below:

    draft -> scheduled -> running -> completed   (at least one group got the post)
                                  -> failed      (no group did)
                          running <-> paused     (a paused campaign's queued posts wait)
    draft | scheduled | running | paused -> cancelled

A repeating campaign is a chain: when one occurrence starts, the next is scheduled as a campaign of
its own (`parent_id` names the first), until the end date.

Operators create, schedule and cancel (the dashboard calls these). The `campaign-check` job starts
due campaigns (`start_campaign`: one conditional UPDATE, so two checks start a campaign once) and
creates one `CampaignTarget` per group; the `send-message` job reports each post's outcome
(`record_post_sent` / `record_post_failed`). A target leaves `pending` once, by a conditional
UPDATE, and only that moves the counters, so a retried or redelivered job never counts twice.

Functions flush, never commit. What must be enqueued is returned (`SendOrder`); the session owner
enqueues it after its commit. Every status change writes an AuditLog row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.campaign import repository, schedule, signal
from tgadmin.campaign.schemas import CampaignButton, CampaignContent, CampaignCreate, CampaignFilter
from tgadmin.clock import DEFAULT_TIME_ZONE, ensure_utc, utcnow, zone
from tgadmin.errors import BadRequest, Conflict, InvalidTransition, NotFound
from tgadmin.models import Campaign, CampaignTarget, Group
from tgadmin.models.enums import ActorType, CampaignStatus, CampaignTargetStatus

C = CampaignStatus

TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    C.DRAFT: frozenset({C.SCHEDULED, C.CANCELLED}),
    C.SCHEDULED: frozenset({C.RUNNING, C.CANCELLED}),
    C.RUNNING: frozenset({C.COMPLETED, C.FAILED, C.CANCELLED, C.PAUSED}),
    C.PAUSED: frozenset({C.RUNNING, C.CANCELLED}),
    C.COMPLETED: frozenset(),
    C.FAILED: frozenset(),
    C.CANCELLED: frozenset(),
}

SYSTEM = Actor.system("campaign check")
REASON_LENGTH = 255
CANCELLED_REASON = "campaign cancelled before this group's post was sent"
PAST_GRACE = timedelta(minutes=2)


def can_transition(current: CampaignStatus, new: CampaignStatus) -> bool:
    return new in TRANSITIONS[current]


def ensure_transition(
    current: CampaignStatus, new: CampaignStatus, *, campaign_id: int | None = None
) -> None:
    if not can_transition(current, new):
        name = "campaign" if campaign_id is None else f"campaign {campaign_id}"
        raise InvalidTransition(
            f"{name} cannot go from {current.value} to {new.value}",
            details={"from": current.value, "to": new.value},
        )


def allowed_sources(new: CampaignStatus) -> frozenset[CampaignStatus]:
    """Statuses from which `new` may be reached: the WHERE clause of a conditional update."""
    return frozenset(src for src, targets in TRANSITIONS.items() if new in targets)


def send_job_id(campaign_id: int, group_id: int, round: int = 0) -> str:
    """The send job's id: enqueueing a campaign's post to a group twice yields one job. Each resume
    starts a new round (the paused round's jobs finished without sending, and keep their ids)."""
    return f"campaign-{campaign_id}-group-{group_id}" + (f"-r{round}" if round else "")


def delete_job_id(campaign_id: int, group_id: int) -> str:
    return f"campaign-{campaign_id}-delete-{group_id}"


def campaign_source(campaign: Campaign) -> str:
    """The deep link's source tag: the first campaign of a repeating chain, so that analytics
    attributes every occurrence's sales to one campaign (the storefront takes [A-Za-z0-9-]{1,32})."""
    return f"c{campaign.parent_id or campaign.id}"


def deep_link(bot_username: str, creator_id: int, source: str) -> str:
    return f"https://t.me/{bot_username}?start=model_{creator_id}_{source}"


@dataclass(frozen=True)
class SendOrder:
    """One `send-message` job to enqueue after the commit that created its target."""

    campaign_id: int
    group_id: int
    chat_id: int
    content: CampaignContent
    round: int = 0
    # The bot's username, for creator buttons (their deep link names the bot).
    bot_username: str | None = None
    source: str = ""

    @property
    def job_id(self) -> str:
        return send_job_id(self.campaign_id, self.group_id, self.round)

    def _url(self, button: CampaignButton) -> str:
        if button.url is not None:
            return button.url
        assert button.creator_id is not None
        return deep_link(self.bot_username or "bot", button.creator_id, self.source)

    def job_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"chatId": self.chat_id, "groupDbId": self.group_id}
        if self.campaign_id:  # 0: a test send, outside any campaign
            data |= {"campaignId": self.campaign_id, "campaignRound": self.round}
        data["text"] = self.content.text or None
        if self.content.parse_mode:
            data["parseMode"] = self.content.parse_mode
        if self.content.buttons:
            rows = [[{"text": b.text, "url": self._url(b)}] for b in self.content.buttons]
            data["replyMarkup"] = {"inline_keyboard": rows}
        if self.content.media_asset_id is not None:
            data["photoAssetId"] = self.content.media_asset_id
        if self.content.album_asset_ids:
            data["albumAssetIds"] = list(self.content.album_asset_ids)
        return data


@dataclass(frozen=True)
class DeleteOrder:
    """A campaign's post to delete now (its auto-delete time came)."""

    campaign_id: int
    group_id: int
    chat_id: int
    message_ids: list[int]

    @property
    def job_id(self) -> str:
        return delete_job_id(self.campaign_id, self.group_id)

    def job_data(self) -> dict[str, Any]:
        return {
            "chatId": self.chat_id,
            "groupDbId": self.group_id,
            "messageIds": self.message_ids,
            "campaignId": self.campaign_id,
        }


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    return {
        "status": campaign.status.value,
        "scheduled_at": None if campaign.scheduled_at is None else campaign.scheduled_at.isoformat(),
        "total": campaign.total,
        "sent": campaign.sent,
        "failed": campaign.failed,
    }


# --- operators ----------------------------------------------------------------------------------


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await repository.get(session, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign with id {campaign_id}")
    return campaign


async def campaign_targets(session: AsyncSession, campaign_id: int) -> list[CampaignTarget]:
    """Each group's outcome (empty until the campaign starts)."""
    return list(await repository.targets(session, campaign_id))


async def create_campaign(
    session: AsyncSession, actor: Actor, data: CampaignCreate, *, now: datetime | None = None
) -> Campaign:
    """A draft; scheduled at once when `data.scheduled_at` is given. A filter is resolved to its
    groups now; no group at all, a repeat faster than a group's cooldown or a media missing from
    the library are refused."""
    group_ids = await target_ids(session, data)
    if not group_ids:
        raise BadRequest("no group matches these targets: choose other groups or another filter")
    await _check_repeat(session, data, group_ids)
    await _check_media(session, data.content)
    campaign = Campaign(
        name=data.name,
        content=data.content.stored(),
        group_ids=group_ids,
        target_filter=None if data.target_filter is None else data.target_filter.model_dump(mode="json"),
        scheduled_at=None,
        status=CampaignStatus.DRAFT,
        total=0,
        sent=0,
        failed=0,
        created_by=int(actor.id) if actor.type is ActorType.OPERATOR and actor.id else None,
        repeat_every_hours=data.repeat_every_hours,
        repeat_daily_at=data.repeat_daily_at,
        repeat_timezone=data.repeat_timezone if data.repeats else None,
        repeat_until=data.repeat_until,
        auto_delete_hours=data.auto_delete_hours,
    )
    session.add(campaign)
    await session.flush()
    await record(session, actor, "campaign.created", "campaign", campaign.id, after=_snapshot(campaign))
    if data.scheduled_at is not None:
        return await schedule_campaign(session, actor, campaign.id, data.scheduled_at)
    return campaign


def check_schedule(data: CampaignCreate, now: datetime | None = None) -> None:
    """What the dashboard and the API refuse before creating: a time already past (a minute's
    grace: the form has minute precision), an end date before the start."""
    now = now or utcnow()
    start = ensure_utc(data.scheduled_at) if data.scheduled_at is not None else now
    if start < now - PAST_GRACE:
        raise BadRequest("the scheduled time is in the past: choose a later time, or post now")
    if data.repeat_until is not None and ensure_utc(data.repeat_until) <= start:
        raise BadRequest("the end date of the repeats must come after the first post")
    if data.repeats:
        zone(data.repeat_timezone or DEFAULT_TIME_ZONE)


async def target_ids(session: AsyncSession, data: CampaignCreate) -> list[int]:
    """The groups the campaign goes to: the chosen ones, or those the filter picks now."""
    if data.target_filter is None:
        return list(data.group_ids)
    needs_delete = data.auto_delete_hours is not None
    return await repository.filtered_group_ids(session, data.target_filter, needs_delete=needs_delete)


async def count_targets(session: AsyncSession, data: CampaignCreate) -> int:
    return len(await target_ids(session, data))


async def _check_repeat(session: AsyncSession, data: CampaignCreate, group_ids: list[int]) -> None:
    hours = schedule.interval_hours(data.repeat_every_hours, data.repeat_daily_at)
    if hours is None:
        return
    slower = [
        group
        for group in (await repository.groups_by_id(session, group_ids)).values()
        if group.cooldown_seconds > hours * 3600
    ]
    if slower:
        names = ", ".join(f"{g.title} ({g.cooldown_seconds // 3600} h)" for g in slower[:5])
        raise BadRequest(
            f"the repeat interval ({hours} h) is shorter than the cooldown of {len(slower)} group(s): "
            f"{names}; repeat less often or leave those groups out"
        )


async def _check_media(session: AsyncSession, content: CampaignContent) -> None:
    missing = await repository.missing_assets(session, content.asset_ids())
    if missing:
        raise BadRequest(f"no media with id {', '.join(map(str, missing))} in the library")


async def schedule_campaign(
    session: AsyncSession, actor: Actor, campaign_id: int, at: datetime | None = None
) -> Campaign:
    """Post at `at` (now when omitted; a past time means at the next check)."""
    campaign = await get_campaign(session, campaign_id)
    ensure_transition(campaign.status, CampaignStatus.SCHEDULED, campaign_id=campaign.id)
    content = _content(campaign.content)
    if isinstance(content, str):
        raise BadRequest(f"campaign {campaign.id} cannot be scheduled: {content}")
    when = utcnow() if at is None else ensure_utc(at)
    return await _move(
        session, actor, campaign, CampaignStatus.SCHEDULED, "campaign.scheduled", scheduled_at=when
    )


async def pause_campaign(session: AsyncSession, actor: Actor, campaign_id: int) -> Campaign:
    """Stop sending: every queued post checks the status right before its Telegram call."""
    campaign = await get_campaign(session, campaign_id)
    ensure_transition(campaign.status, CampaignStatus.PAUSED, campaign_id=campaign.id)
    return await _move(session, actor, campaign, CampaignStatus.PAUSED, "campaign.paused")


async def resume_campaign(
    session: AsyncSession, actor: Actor, campaign_id: int
) -> tuple[Campaign, list[SendOrder]]:
    """Running again, in a new round: the sends still pending are returned, to enqueue after the
    commit under the round's job ids (jobs of the paused round that have not run yet see the
    round changed and do not send)."""
    campaign = await get_campaign(session, campaign_id)
    if campaign.status is not CampaignStatus.PAUSED:
        raise InvalidTransition(
            f"campaign {campaign.id} is {campaign.status.value}, not paused: nothing to resume",
            details={"from": campaign.status.value, "to": CampaignStatus.RUNNING.value},
        )
    campaign = await _move(
        session,
        actor,
        campaign,
        CampaignStatus.RUNNING,
        "campaign.resumed",
        sources={CampaignStatus.PAUSED},
        round=campaign.round + 1,
    )
    return campaign, await pending_sends(session, campaign.id)


async def cancel_campaign(session: AsyncSession, actor: Actor, campaign_id: int) -> Campaign:
    """Stop a campaign: never started if it was not yet; if running, groups not yet posted to are
    failed with the reason (a post already on its way to Telegram may still land)."""
    campaign = await get_campaign(session, campaign_id)
    ensure_transition(campaign.status, CampaignStatus.CANCELLED, campaign_id=campaign.id)
    now = utcnow()
    # Targets before the campaign row: the lock order of the send jobs (no deadlock on PostgreSQL).
    failed = await repository.fail_all_pending(session, campaign.id, CANCELLED_REASON, now)
    campaign = await _move(
        session, actor, campaign, CampaignStatus.CANCELLED, "campaign.cancelled", finished_at=now
    )
    # A check that started the campaign while we cancelled it created targets after our first pass.
    failed += await repository.fail_all_pending(session, campaign.id, CANCELLED_REASON, now)
    if failed:
        await repository.recount(session, campaign.id)
        await session.refresh(campaign)
    return campaign


async def _move(
    session: AsyncSession,
    actor: Actor,
    campaign: Campaign,
    new: CampaignStatus,
    action: str,
    *,
    sources: frozenset[CampaignStatus] | set[CampaignStatus] | None = None,
    **values: Any,
) -> Campaign:
    before = _snapshot(campaign)
    allowed = allowed_sources(new) if sources is None else sources
    if not await repository.change_status(session, campaign.id, new, allowed, **values):
        # Someone else moved it meanwhile (the check started it, another operator cancelled it).
        current = await get_campaign(session, campaign.id)
        ensure_transition(current.status, new, campaign_id=campaign.id)
        raise Conflict(f"campaign {campaign.id} changed meanwhile: try again")
    await session.refresh(campaign)
    await record(session, actor, action, "campaign", campaign.id, before=before, after=_snapshot(campaign))
    return campaign


# --- the campaign check ---------------------------------------------------------------------------


def _content(raw: dict[str, Any]) -> CampaignContent | str:
    try:
        return CampaignContent.model_validate(raw)
    except ValidationError as error:
        return f"campaign content is not valid: {error.errors()[0]['msg']}"


def _postable(raw: dict[str, Any]) -> tuple[CampaignContent | None, str | None]:
    """The content if it can be posted, else why not."""
    content = _content(raw)
    if isinstance(content, str):
        return None, content
    return content, None


def _unreachable(group_id: int, group: Group | None) -> str | None:
    if group is None:
        return f"group {group_id} no longer exists"
    if not group.is_active:
        return f"group {group_id} ({group.title}) is inactive: {group.deactivated_reason or 'deactivated'}"
    return None


async def _orders(
    session: AsyncSession, campaign: Campaign, content: CampaignContent, groups: list[Group]
) -> list[SendOrder]:
    names = await repository.bot_usernames(session, {g.bot_id for g in groups})
    source = campaign_source(campaign)
    return [
        SendOrder(
            campaign.id,
            group.id,
            group.telegram_id,
            content,
            round=campaign.round,
            bot_username=names.get(group.bot_id),
            source=source,
        )
        for group in groups
    ]


async def start_campaign(
    session: AsyncSession, campaign_id: int, *, now: datetime | None = None
) -> list[SendOrder] | None:
    """Start a due scheduled campaign: running, one target per group, totals set, and (repeating)
    the next occurrence scheduled.

    Returns the sends to enqueue after the commit, or None when the campaign was not started here
    (not due, cancelled, or another check started it first). Groups that are gone or inactive, and
    content that cannot be posted, make failed targets with the reason."""
    now = now or utcnow()
    started = await repository.change_status(
        session, campaign_id, CampaignStatus.RUNNING, {CampaignStatus.SCHEDULED}, due_by=now, started_at=now
    )
    if not started:
        return None
    campaign = await get_campaign(session, campaign_id)
    content, refusal = _postable(campaign.content)
    groups = await repository.groups_by_id(session, campaign.group_ids)
    reachable: list[Group] = []
    group_ids = list(dict.fromkeys(campaign.group_ids))
    for group_id in group_ids:
        group = groups.get(group_id)
        reason = refusal or _unreachable(group_id, group)
        session.add(
            CampaignTarget(
                campaign_id=campaign.id,
                group_id=group_id,
                status=CampaignTargetStatus.FAILED if reason else CampaignTargetStatus.PENDING,
                reason=None if reason is None else reason[:REASON_LENGTH],
                finished_at=now if reason else None,
            )
        )
        if reason is None and group is not None:
            reachable.append(group)
    await session.flush()
    orders = [] if content is None else await _orders(session, campaign, content, reachable)
    await repository.set_totals(
        session, campaign.id, total=len(group_ids), failed=len(group_ids) - len(orders)
    )
    await session.refresh(campaign)
    after = _snapshot(campaign) | ({"reason": refusal} if refusal else {})
    await record(
        session,
        SYSTEM,
        "campaign.started",
        "campaign",
        campaign.id,
        before={"status": "scheduled"},
        after=after,
    )
    await schedule_next(session, campaign, now=now)
    await finish_if_done(session, campaign.id, now=now)
    return orders


async def schedule_next(session: AsyncSession, campaign: Campaign, *, now: datetime) -> Campaign | None:
    """A repeating campaign's next occurrence, scheduled, unless it would fall after the end date."""
    if campaign.repeat_until is None or campaign.scheduled_at is None:
        return None
    if campaign.repeat_every_hours is not None:
        at = schedule.next_every(campaign.scheduled_at, campaign.repeat_every_hours, now)
    elif campaign.repeat_daily_at is not None:
        zone_name = campaign.repeat_timezone or DEFAULT_TIME_ZONE
        at = schedule.next_daily(campaign.scheduled_at, campaign.repeat_daily_at, zone_name, now)
    else:
        return None
    if at > ensure_utc(campaign.repeat_until):
        return None
    group_ids = list(campaign.group_ids)
    if campaign.target_filter is not None:
        # A filter picks its groups again for each occurrence (groups tagged or added since count).
        chosen = CampaignFilter.model_validate(campaign.target_filter)
        needs_delete = campaign.auto_delete_hours is not None
        group_ids = (
            await repository.filtered_group_ids(session, chosen, needs_delete=needs_delete) or group_ids
        )
    following = Campaign(
        name=campaign.name,
        content=campaign.content,
        group_ids=group_ids,
        target_filter=campaign.target_filter,
        scheduled_at=at,
        status=CampaignStatus.SCHEDULED,
        total=0,
        sent=0,
        failed=0,
        created_by=campaign.created_by,
        repeat_every_hours=campaign.repeat_every_hours,
        repeat_daily_at=campaign.repeat_daily_at,
        repeat_timezone=campaign.repeat_timezone,
        repeat_until=campaign.repeat_until,
        parent_id=campaign.parent_id or campaign.id,
        auto_delete_hours=campaign.auto_delete_hours,
    )
    session.add(following)
    await session.flush()
    await record(session, SYSTEM, "campaign.repeated", "campaign", following.id, after=_snapshot(following))
    return following


async def send_test(session: AsyncSession, content: CampaignContent, group_id: int) -> SendOrder:
    """A composed post sent once to one group (no campaign: nothing is counted), to see it as the
    group will; creator buttons carry the source tag "test"."""
    group = (await repository.groups_by_id(session, [group_id])).get(group_id)
    reason = _unreachable(group_id, group)
    if reason is not None or group is None:
        raise BadRequest(f"cannot send a test there: {reason}")
    await _check_media(session, content)
    names = await repository.bot_usernames(session, {group.bot_id})
    return SendOrder(
        0, group.id, group.telegram_id, content, bot_username=names.get(group.bot_id), source="test"
    )


async def pending_sends(
    session: AsyncSession, campaign_id: int, *, now: datetime | None = None
) -> list[SendOrder]:
    """The sends of a running campaign still waiting for an outcome (to re-enqueue lost jobs; the
    same job id makes that harmless when the job exists). Targets whose group row is gone fail."""
    campaign = await repository.get(session, campaign_id)
    if campaign is None or campaign.status is not CampaignStatus.RUNNING:
        return []
    content, refusal = _postable(campaign.content)
    reachable: list[Group] = []
    for group_id, group in await repository.pending_targets(session, campaign_id):
        if content is None or group is None:
            reason = refusal or f"group {group_id} no longer exists"
            await record_post_failed(session, campaign_id, group_id, reason, now=now)
            continue
        reachable.append(group)
    return [] if content is None else await _orders(session, campaign, content, reachable)


class CampaignStopped(Conflict):
    """The campaign was paused, cancelled or resumed in another round: this post must not go."""

    code = "campaign_stopped"


async def check_post(session: AsyncSession, campaign_id: int, group_id: int, round: int = 0) -> str | None:
    """Before a campaign's post is sent: None when it may go, else why not. A pending target of a
    cancelled campaign fails with that reason; one of a paused campaign (or of a round a resume
    replaced) stays pending for the next round."""
    campaign = await repository.status_and_round(session, campaign_id)
    target = await repository.target_status(session, campaign_id, group_id)
    if campaign is None or target is None:
        return f"group {group_id} is not a target of campaign {campaign_id}"
    status, current_round = campaign
    if target is not CampaignTargetStatus.PENDING:
        return f"campaign {campaign_id} already recorded group {group_id} as {target.value}"
    if status is CampaignStatus.PAUSED:
        return f"campaign {campaign_id} is paused"
    if status is not CampaignStatus.RUNNING:
        reason = f"campaign {campaign_id} is {status.value}"
        await record_post_failed(session, campaign_id, group_id, reason)
        return reason
    if round != current_round:
        return f"campaign {campaign_id} was resumed: round {current_round} sends this post"
    return None


async def may_send(redis: Redis, prefix: str, campaign_id: int, round: int) -> None:
    """Raise CampaignStopped if the campaign was paused, cancelled or resumed in another round
    since the job's check (see signal.py: checked right before the Telegram call)."""
    why = await signal.stopped(redis, prefix, campaign_id, round)
    if why is not None:
        raise CampaignStopped(f"{why}: post not sent")


async def publish_state(redis: Redis, prefix: str, campaign: Campaign) -> None:
    """After the commit that changed its status: tell the send jobs already waiting."""
    await signal.publish(redis, prefix, campaign.id, campaign.status, campaign.round)


async def record_post_sent(
    session: AsyncSession,
    campaign_id: int,
    group_id: int,
    message_id: int,
    *,
    message_ids: list[int] | None = None,
    now: datetime | None = None,
) -> bool:
    """The post reached the group: the target is sent and `sent` moves, once. False if the target
    already had its outcome (a retried or redelivered job)."""
    return await _outcome(
        session,
        campaign_id,
        group_id,
        CampaignTargetStatus.SENT,
        now=now,
        message_id=message_id,
        message_ids=message_ids or [message_id],
    )


async def refresh_counters(session: AsyncSession, campaign_id: int) -> None:
    await repository.recount(session, campaign_id)


async def record_post_deleted(session: AsyncSession, campaign_id: int, group_id: int) -> bool:
    """The auto-delete removed the post (the group no longer shows it)."""
    return await repository.mark_deleted(session, campaign_id, group_id, utcnow())


async def due_deletions(session: AsyncSession, *, now: datetime, limit: int = 500) -> list[DeleteOrder]:
    """Posts whose campaign's auto-delete time has come (sent N hours ago, not yet deleted)."""
    rows = await repository.sent_with_auto_delete(session, limit)
    orders: list[DeleteOrder] = []
    for target, hours, chat_id in rows:
        if target.finished_at is None or ensure_utc(target.finished_at) + timedelta(hours=hours) > now:
            continue
        ids = target.message_ids or ([target.message_id] if target.message_id else [])
        if ids:
            orders.append(DeleteOrder(target.campaign_id, target.group_id, chat_id, ids))
    return orders


async def record_post_failed(
    session: AsyncSession, campaign_id: int, group_id: int, reason: str, *, now: datetime | None = None
) -> bool:
    """The post will not reach the group: the target is failed with the reason and `failed` moves, once."""
    return await _outcome(
        session, campaign_id, group_id, CampaignTargetStatus.FAILED, now=now, reason=reason[:REASON_LENGTH]
    )


async def _outcome(
    session: AsyncSession,
    campaign_id: int,
    group_id: int,
    status: CampaignTargetStatus,
    *,
    now: datetime | None,
    message_id: int | None = None,
    message_ids: list[int] | None = None,
    reason: str | None = None,
) -> bool:
    now = now or utcnow()
    moved = await repository.leave_pending(
        session,
        campaign_id,
        group_id,
        status,
        now=now,
        message_id=message_id,
        message_ids=message_ids,
        reason=reason,
    )
    if not moved:
        return False
    # No counter on the campaign's row moves here: every send job of the campaign would queue on
    # that row's lock until its commit (at 30 posts a second that lock is the bottleneck). The
    # counters are recounted from the targets when the campaign finishes and at each check.
    if not await repository.any_pending(session, campaign_id):
        await finish_if_done(session, campaign_id, now=now)
    return True


async def finish_if_done(
    session: AsyncSession, campaign_id: int, *, now: datetime | None = None
) -> CampaignStatus | None:
    """A running campaign with every target done becomes completed, or failed if none was sent."""
    sources = allowed_sources(CampaignStatus.COMPLETED) & allowed_sources(CampaignStatus.FAILED)
    new = await repository.finish_if_done(session, campaign_id, sources, now or utcnow())
    await repository.recount(session, campaign_id)
    if new is not None:
        campaign = await get_campaign(session, campaign_id)
        await record(
            session,
            SYSTEM,
            f"campaign.{new.value}",
            "campaign",
            campaign_id,
            before={"status": "running"},
            after=_snapshot(campaign),
        )
    return new
