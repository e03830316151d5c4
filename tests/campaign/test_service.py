"""Campaign rules on PostgreSQL and SQLite: the transition table, what an operator may create,
starting (targets, totals, reasons), and counters that move once per target."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.campaign.factories import campaign_audit, make_campaign, operator_actor, targets_of
from tgadmin.campaign import service
from tgadmin.campaign.schemas import CampaignContent
from tgadmin.clock import utcnow
from tgadmin.errors import BadRequest, InvalidTransition
from tgadmin.group import service as group_service
from tgadmin.models import Bot, Group
from tgadmin.models.enums import BotMemberStatus, CampaignStatus, CampaignTargetStatus, ChatType

S = CampaignStatus


async def make_groups(session: AsyncSession, count: int) -> list[Group]:
    bot = Bot(telegram_id=777, username="shop_bot", token="t", webhook_secret="s", is_active=True)
    session.add(bot)
    await session.flush()
    return [
        await group_service.upsert_membership(
            session,
            bot.id,
            group_service.ChatFacts(-1000 - i, ChatType.SUPERGROUP, f"Grupo {i}"),
            BotMemberStatus.ADMINISTRATOR,
            {},
        )
        for i in range(count)
    ]


def test_the_transition_table_allows_only_the_campaign_lifecycle() -> None:
    assert service.can_transition(S.DRAFT, S.SCHEDULED)
    assert service.can_transition(S.SCHEDULED, S.RUNNING)
    assert service.can_transition(S.RUNNING, S.COMPLETED) and service.can_transition(S.RUNNING, S.FAILED)
    for status in (S.DRAFT, S.SCHEDULED, S.RUNNING):
        assert service.can_transition(status, S.CANCELLED)
    for final in (S.COMPLETED, S.FAILED, S.CANCELLED):
        assert not any(service.can_transition(final, other) for other in S)
    assert not service.can_transition(S.DRAFT, S.RUNNING)  # never started without a schedule
    with pytest.raises(InvalidTransition, match="campaign 7 cannot go from cancelled to running"):
        service.ensure_transition(S.CANCELLED, S.RUNNING, campaign_id=7)
    assert service.can_transition(S.RUNNING, S.PAUSED) and service.can_transition(S.PAUSED, S.RUNNING)
    assert service.can_transition(S.PAUSED, S.CANCELLED)
    assert not service.can_transition(S.SCHEDULED, S.PAUSED)  # nothing to pause before it starts
    assert service.allowed_sources(S.RUNNING) == {S.SCHEDULED, S.PAUSED}


def test_content_needs_text_or_media_and_buttons_need_a_real_url() -> None:
    with pytest.raises(ValidationError, match="needs a text or a media"):
        CampaignContent.model_validate({"text": "  "})
    with pytest.raises(ValidationError, match="https://"):
        CampaignContent.model_validate(
            {"text": "oi", "buttons": [{"text": "x", "url": "javascript:alert(1)"}]}
        )
    with pytest.raises(ValidationError):
        CampaignContent.model_validate({"text": "oi", "buttons": [{"text": "x", "callback_data": "y"}]})


async def test_an_operator_creates_schedules_and_cancels_a_campaign_audited(session: AsyncSession) -> None:
    groups = await make_groups(session, 2)
    actor = await operator_actor(session)
    campaign = await make_campaign(session, [g.id for g in groups] * 2, schedule=False, actor=actor)
    assert campaign.status is S.DRAFT and campaign.created_by == int(actor.id or 0)
    assert campaign.group_ids == [groups[0].id, groups[1].id]  # duplicates dropped
    at = utcnow() + timedelta(hours=2)
    scheduled = await service.schedule_campaign(session, actor, campaign.id, at)
    assert scheduled.status is S.SCHEDULED and scheduled.scheduled_at == at
    with pytest.raises(InvalidTransition, match="cannot go from scheduled to scheduled"):
        await service.schedule_campaign(session, actor, campaign.id, at)
    cancelled = await service.cancel_campaign(session, actor, campaign.id)
    assert cancelled.status is S.CANCELLED and cancelled.finished_at is not None
    with pytest.raises(InvalidTransition, match="cannot go from cancelled to cancelled"):
        await service.cancel_campaign(session, actor, campaign.id)
    assert await campaign_audit(session, campaign.id) == [
        "campaign.created",
        "campaign.scheduled",
        "campaign.cancelled",
    ]


async def test_a_campaign_with_media_missing_from_the_library_is_refused(session: AsyncSession) -> None:
    groups = await make_groups(session, 1)
    with pytest.raises(BadRequest, match="no media with id 5 in the library"):
        await make_campaign(session, [groups[0].id], schedule=False, media_asset_id=5)


async def test_starting_makes_one_target_per_group_and_fails_gone_or_inactive_ones(
    session: AsyncSession,
) -> None:
    groups = await make_groups(session, 3)
    await group_service.deactivate_group(
        session, groups[2], "Forbidden: bot was kicked from the supergroup chat"
    )
    campaign = await make_campaign(session, [g.id for g in groups] + [999_999])
    orders = await service.start_campaign(session, campaign.id)
    assert orders is not None and [o.group_id for o in orders] == [groups[0].id, groups[1].id]
    assert orders[0].job_id == f"campaign-{campaign.id}-group-{groups[0].id}"
    assert orders[0].job_data()["replyMarkup"]["inline_keyboard"][0][0]["text"] == "🔥 Quero Ver Mais"
    started = await service.get_campaign(session, campaign.id)
    assert (started.status, started.total, started.sent, started.failed) == (S.RUNNING, 4, 0, 2)
    targets = await targets_of(session, campaign.id)
    assert "kicked" in (targets[groups[2].id].reason or "")
    assert targets[999_999].reason == "group 999999 no longer exists"
    assert targets[groups[0].id].status is CampaignTargetStatus.PENDING
    # Started once: a second start (another check) changes nothing.
    assert await service.start_campaign(session, campaign.id) is None


async def test_counters_move_once_per_target_and_the_last_outcome_completes(session: AsyncSession) -> None:
    groups = await make_groups(session, 2)
    campaign = await make_campaign(session, [g.id for g in groups])
    await service.start_campaign(session, campaign.id)
    assert await service.record_post_sent(session, campaign.id, groups[0].id, 41)
    assert not await service.record_post_sent(session, campaign.id, groups[0].id, 41)  # redelivered
    assert not await service.record_post_failed(session, campaign.id, groups[0].id, "late error")
    assert (await service.get_campaign(session, campaign.id)).status is S.RUNNING
    assert await service.record_post_failed(session, campaign.id, groups[1].id, "Bad Request: chat not found")
    done = await service.get_campaign(session, campaign.id)
    assert (done.status, done.sent, done.failed) == (S.COMPLETED, 1, 1) and done.finished_at is not None
    targets = await targets_of(session, campaign.id)
    assert (
        targets[groups[0].id].message_id == 41
        and targets[groups[1].id].reason == "Bad Request: chat not found"
    )


async def test_a_campaign_where_every_group_failed_is_failed(session: AsyncSession) -> None:
    groups = await make_groups(session, 1)
    await group_service.deactivate_group(session, groups[0], "bot kicked")
    campaign = await make_campaign(session, [groups[0].id])
    assert await service.start_campaign(session, campaign.id) == []
    assert (await service.get_campaign(session, campaign.id)).status is S.FAILED
    assert (await campaign_audit(session, campaign.id))[-2:] == ["campaign.started", "campaign.failed"]


async def test_cancelling_a_running_campaign_fails_the_groups_not_yet_posted(session: AsyncSession) -> None:
    groups = await make_groups(session, 3)
    campaign = await make_campaign(session, [g.id for g in groups])
    await service.start_campaign(session, campaign.id)
    await service.record_post_sent(session, campaign.id, groups[0].id, 10)
    cancelled = await service.cancel_campaign(session, service.SYSTEM, campaign.id)
    assert (cancelled.status, cancelled.sent, cancelled.failed) == (S.CANCELLED, 1, 2)
    targets = await targets_of(session, campaign.id)
    assert targets[groups[1].id].reason == service.CANCELLED_REASON
    # A send job arriving afterwards is told not to post.
    assert await service.check_post(session, campaign.id, groups[1].id) is not None


async def test_a_campaign_whose_stored_content_is_no_longer_valid_fails_at_start_with_the_reason(
    session: AsyncSession,
) -> None:
    groups = await make_groups(session, 2)
    campaign = await make_campaign(session, [g.id for g in groups], schedule=False)
    campaign.status, campaign.scheduled_at = S.SCHEDULED, utcnow()
    campaign.content = {"text": " ", "parse_mode": "HTML"}  # written by hand, or by an older version
    await session.flush()
    assert await service.start_campaign(session, campaign.id) == []
    failed = await service.get_campaign(session, campaign.id)
    assert (failed.status, failed.failed) == (S.FAILED, 2)
    reasons = {t.reason for t in (await targets_of(session, campaign.id)).values()}
    assert reasons == {"campaign content is not valid: Value error, a campaign needs a text or a media"}
