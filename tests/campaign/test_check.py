"""The `campaign-check` job and the campaign's posts, end to end: a real worker, the real Redis,
PostgreSQL and SQLite, and the Telegram sandbox over HTTP showing what each group sees."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.campaign.factories import BUTTONS, campaign_audit, make_campaign, targets_of
from tests.worker.harness import Outcome, World
from tgadmin.campaign import jobs, service
from tgadmin.campaign.schemas import CampaignContent
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models import Campaign, CampaignTarget, Group, PostHistory
from tgadmin.models.enums import CampaignStatus, CampaignTargetStatus
from tgadmin.queue.names import JobName

S = CampaignStatus


async def new_campaign(world: World, groups: list[int], **kw: Any) -> int:
    async with session_scope(world.sessions) as session:
        return (await make_campaign(session, groups, **kw)).id


async def campaign(world: World, campaign_id: int) -> Campaign:
    async with world.sessions() as session:
        return await service.get_campaign(session, campaign_id)


async def targets(world: World, campaign_id: int) -> dict[int, CampaignTarget]:
    async with world.sessions() as session:
        return await targets_of(session, campaign_id)


async def check(world: World) -> Outcome:
    out = await world.run(JobName.CAMPAIGN_CHECK, {})
    assert out.state == "completed", out.reason
    return out


async def posts_done(world: World, campaign_id: int, groups: list[Group]) -> dict[int, Outcome]:
    return {
        g.id: await world.wait(JobName.SEND_MESSAGE, service.send_job_id(campaign_id, g.id)) for g in groups
    }


def shown(messages: list[dict[str, Any]]) -> list[Any]:
    return [(m["text"], m["buttons"]) for m in messages if not m["deleted"] and m["text"]]


async def sends(world: World) -> int:
    return len(await world.sandbox.calls(method="sendMessage"))


EXPECTED_BUTTONS = [[{"text": b["text"], "url": b["url"]}] for b in BUTTONS]


async def test_a_due_campaign_posts_once_to_each_active_group_with_its_buttons(world: World) -> None:
    ofertas, vip = await world.add_group("Ofertas"), await world.add_group("VIP")
    dormant = await world.add_group("Antigo", is_active=False, deactivated_reason="bot kicked")
    campaign_id = await new_campaign(world, [ofertas.id, vip.id, dormant.id, 424242])
    await check(world)
    outcomes = await posts_done(world, campaign_id, [ofertas, vip])
    assert all(o.state == "completed" for o in outcomes.values()), [o.reason for o in outcomes.values()]
    for group in (ofertas, vip):
        assert shown(await world.sandbox.messages(group.telegram_id)) == [("Promoção hoje", EXPECTED_BUTTONS)]
    assert shown(await world.sandbox.messages(dormant.telegram_id)) == []
    done = await campaign(world, campaign_id)
    assert (done.status, done.total, done.sent, done.failed) == (S.COMPLETED, 4, 2, 2)
    assert done.started_at is not None and done.finished_at is not None
    found = await targets(world, campaign_id)
    assert found[ofertas.id].message_id == outcomes[ofertas.id].value["messageId"]
    assert "inactive: bot kicked" in (found[dormant.id].reason or "")
    assert found[424242].reason == "group 424242 no longer exists"
    async with world.sessions() as session:
        history = (await session.execute(select(PostHistory))).scalars().all()
        assert {(h.group_id, h.campaign_id) for h in history} == {
            (ofertas.id, campaign_id),
            (vip.id, campaign_id),
        }
        assert await campaign_audit(session, campaign_id) == [
            "campaign.created",
            "campaign.scheduled",
            "campaign.started",
            "campaign.completed",
        ]


async def test_a_redelivered_or_re_enqueued_post_neither_posts_nor_counts_twice(world: World) -> None:
    groups = [await world.add_group("A"), await world.add_group("B")]
    campaign_id = await new_campaign(world, [g.id for g in groups])
    await check(world)
    first = await posts_done(world, campaign_id, groups)
    job_id = service.send_job_id(campaign_id, groups[0].id)
    # Redelivered (as after a crash): the job runs again, finds its send record, records nothing new.
    await first[groups[0].id].job.retry("completed")
    again = await world.wait(JobName.SEND_MESSAGE, job_id)
    assert again.state == "completed" and again.value["messageId"] == first[groups[0].id].value["messageId"]
    # Enqueued again after its job was removed from Redis: a new job under the same id, same record.
    await world.queues.queue(JobName.SEND_MESSAGE.queue).remove(job_id)
    content = CampaignContent(text="Promoção <b>hoje</b>", parse_mode="HTML")
    order = service.SendOrder(campaign_id, groups[0].id, groups[0].telegram_id, content)
    assert await jobs.enqueue_sends(world.queues, [order, order]) == 2
    third = await world.wait(JobName.SEND_MESSAGE, job_id)
    assert third.state == "completed" and third.value["messageId"] == first[groups[0].id].value["messageId"]
    await check(world)
    assert await sends(world) == 2
    for group in groups:
        assert len(shown(await world.sandbox.messages(group.telegram_id))) == 1
    done = await campaign(world, campaign_id)
    assert (done.status, done.sent, done.failed) == (S.COMPLETED, 2, 0)
    async with world.sessions() as session:
        assert len((await session.execute(select(PostHistory))).scalars().all()) == 2


async def test_two_checks_at_once_start_a_campaign_once(world: World) -> None:
    groups = [await world.add_group(f"G{i}") for i in range(3)]
    # Due in an hour: the worker's own scheduled check (real time) leaves it to the two below.
    campaign_id = await new_campaign(world, [g.id for g in groups], at=utcnow() + timedelta(hours=1))
    later = utcnow() + timedelta(hours=2)

    async def one_check() -> Counter[str]:
        async with session_scope(world.sessions) as session:
            return await jobs.check_campaigns(session, session.commit, world.queues, now=later)

    tallies = await asyncio.gather(one_check(), one_check())
    assert sum(t["started"] for t in tallies) == 1
    assert sum(t["enqueued"] for t in tallies) == 3
    outcomes = await posts_done(world, campaign_id, groups)
    assert all(o.state == "completed" for o in outcomes.values())
    assert await sends(world) == 3
    assert len(await targets(world, campaign_id)) == 3
    assert (await campaign(world, campaign_id)).sent == 3
    async with world.sessions() as session:
        assert (await campaign_audit(session, campaign_id)).count("campaign.started") == 1


async def test_campaigns_not_yet_due_drafts_and_cancelled_ones_are_left_alone(world: World) -> None:
    group = await world.add_group()
    future = await new_campaign(world, [group.id], at=utcnow() + timedelta(minutes=10))
    draft = await new_campaign(world, [group.id], schedule=False)
    cancelled = await new_campaign(world, [group.id])
    async with session_scope(world.sessions) as session:
        await service.cancel_campaign(session, service.SYSTEM, cancelled)
    await check(world)
    statuses = [(await campaign(world, c)).status for c in (future, draft, cancelled)]
    assert statuses == [S.SCHEDULED, S.DRAFT, S.CANCELLED]
    for campaign_id in (future, draft, cancelled):
        assert await targets(world, campaign_id) == {}
    assert await sends(world) == 0


async def test_a_group_that_kicked_the_bot_gets_a_failed_target_with_the_reason(world: World) -> None:
    stays, kicked = await world.add_group("Fica"), await world.add_group("Saiu")
    await world.sandbox.add_member(kicked.telegram_id, bot_id=world.tg.id, status="kicked")
    campaign_id = await new_campaign(world, [stays.id, kicked.id])
    await check(world)
    outcomes = await posts_done(world, campaign_id, [stays, kicked])
    assert outcomes[kicked.id].state == "failed"
    found = await targets(world, campaign_id)
    assert found[kicked.id].status is CampaignTargetStatus.FAILED
    assert "kicked" in (found[kicked.id].reason or "")
    assert not (await world.group(kicked.id)).is_active
    done = await campaign(world, campaign_id)
    assert (done.status, done.sent, done.failed) == (S.COMPLETED, 1, 1)


async def test_a_campaign_whose_every_group_fails_ends_failed(world: World) -> None:
    kicked = await world.add_group("Saiu")
    await world.sandbox.add_member(kicked.telegram_id, bot_id=world.tg.id, status="kicked")
    campaign_id = await new_campaign(world, [kicked.id])
    await check(world)
    await posts_done(world, campaign_id, [kicked])
    done = await campaign(world, campaign_id)
    assert (done.status, done.sent, done.failed) == (S.FAILED, 0, 1) and done.finished_at is not None


async def start_without_enqueueing(world: World, campaign_id: int) -> list[service.SendOrder]:
    """What a check that died between its commit and its enqueue leaves: targets, no jobs."""
    async with session_scope(world.sessions) as session:
        orders = await service.start_campaign(session, campaign_id)
    assert orders
    return orders


async def test_a_lost_send_job_is_enqueued_again_under_the_same_id(world: World) -> None:
    groups = [await world.add_group("A"), await world.add_group("B")]
    campaign_id = await new_campaign(world, [g.id for g in groups])
    await start_without_enqueueing(world, campaign_id)
    out = await check(world)
    assert out.value.get("started", 0) == 0
    outcomes = await posts_done(world, campaign_id, groups)
    assert all(o.state == "completed" for o in outcomes.values())
    for group in groups:
        assert shown(await world.sandbox.messages(group.telegram_id)) == [("Promoção hoje", EXPECTED_BUTTONS)]
    done = await campaign(world, campaign_id)
    assert (done.status, done.sent) == (S.COMPLETED, 2)


async def test_a_send_job_that_gave_up_without_an_outcome_fails_its_target_at_the_next_check(
    world: World,
) -> None:
    groups = [await world.add_group("A"), await world.add_group("B")]
    campaign_id = await new_campaign(world, [g.id for g in groups])
    orders = await start_without_enqueueing(world, campaign_id)
    # The first group's job failed for good without reporting (here: data it cannot run).
    broken = await world.run(JobName.SEND_MESSAGE, {"chatId": "x"}, job_id=orders[0].job_id)
    assert broken.state == "failed"
    await check(world)
    await posts_done(world, campaign_id, [groups[1]])
    await check(world)
    found = await targets(world, campaign_id)
    assert found[groups[0].id].status is CampaignTargetStatus.FAILED
    assert "send failed: invalid send-message job data" in (found[groups[0].id].reason or "")
    assert found[groups[1].id].status is CampaignTargetStatus.SENT
    done = await campaign(world, campaign_id)
    assert (done.status, done.sent, done.failed) == (S.COMPLETED, 1, 1)


async def test_posts_of_a_campaign_cancelled_while_running_are_not_sent(world: World) -> None:
    groups = [await world.add_group("A"), await world.add_group("B")]
    campaign_id = await new_campaign(world, [g.id for g in groups])
    orders = await start_without_enqueueing(world, campaign_id)
    async with session_scope(world.sessions) as session:
        await service.cancel_campaign(session, service.SYSTEM, campaign_id)
    await jobs.enqueue_sends(world.queues, orders)
    outcomes = await posts_done(world, campaign_id, groups)
    assert all(o.state == "completed" and "skipped" in o.value for o in outcomes.values())
    assert await sends(world) == 0
    done = await campaign(world, campaign_id)
    assert (done.status, done.sent, done.failed) == (S.CANCELLED, 0, 2)
