"""Campaigns with media, deep links, pause and resume, repeats and auto-delete, end to end: a real
worker, Redis, PostgreSQL and SQLite, and the Telegram sandbox over HTTP (its clock moved forward
for the auto-delete; our clock frozen ahead for the campaign check)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from tests.campaign.factories import make_campaign, targets_of
from tests.factories import make_creator
from tests.sandbox.conftest import png_bytes
from tests.worker.harness import World
from tgadmin.campaign import jobs, service, signal
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models import Campaign, Group, MediaAsset, MediaFileId, PostHistory
from tgadmin.models.enums import CampaignStatus, CampaignTargetStatus, PostStatus
from tgadmin.queue.names import JobName
from tgadmin.storage import LocalStorage

S, T = CampaignStatus, CampaignTargetStatus


@pytest.fixture
def world_overrides(tmp_path: Path) -> dict[str, Any]:
    return {"media_dir": tmp_path / "media"}


async def images(world: World, tmp_path: Path, count: int) -> list[int]:
    """`count` PNGs in the library (storage and MediaAsset rows)."""
    storage = LocalStorage(tmp_path / "media")
    ids = []
    async with session_scope(world.sessions) as session:
        for i in range(count):
            data = png_bytes(["red", "green", "blue", "white"][i % 4], (30 + i, 20))
            key = f"library/{i}.png"
            await storage.put(key, data, "image/png")
            asset = MediaAsset(
                storage_key=key,
                content_type="image/png",
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                crop=None,
            )
            session.add(asset)
            await session.flush()
            ids.append(asset.id)
    return ids


async def new_campaign(world: World, groups: list[Group], **kw: Any) -> int:
    async with session_scope(world.sessions) as session:
        return (await make_campaign(session, [g.id for g in groups], **kw)).id


async def start(world: World, campaign_id: int) -> list[service.SendOrder]:
    async with session_scope(world.sessions) as session:
        orders = await service.start_campaign(session, campaign_id)
    assert orders is not None
    return orders


async def sent(world: World, orders: list[service.SendOrder]) -> list[Any]:
    await jobs.enqueue_sends(world.queues, orders)
    outcomes = [await world.wait(JobName.SEND_MESSAGE, o.job_id) for o in orders]
    assert all(o.state == "completed" for o in outcomes), [o.reason for o in outcomes]
    return outcomes


async def campaign(world: World, campaign_id: int) -> Campaign:
    async with world.sessions() as session:
        return await service.get_campaign(session, campaign_id)


async def outcomes(world: World, campaign_id: int) -> dict[int, Any]:
    async with world.sessions() as session:
        return await targets_of(session, campaign_id)


def shown(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The posts a member sees (not the chat's service messages, not deleted ones)."""
    return [m for m in messages if not m["deleted"] and (m.get("media") or m.get("text"))]


async def test_a_photo_post_carries_the_caption_and_the_creators_deep_link_with_the_campaign(
    world: World, tmp_path: Path
) -> None:
    [photo] = await images(world, tmp_path, 1)
    async with session_scope(world.sessions) as session:
        creator = await make_creator(session)
    group = await world.add_group("Ofertas")
    buttons = [{"text": "🔥 Quero Ver Mais", "creator_id": creator.id}]
    campaign_id = await new_campaign(world, [group], media_asset_id=photo, buttons=buttons)
    await sent(world, await start(world, campaign_id))
    [post] = shown(await world.sandbox.messages(group.telegram_id))
    assert post["media"]["kind"] == "photo" and post["caption"] == "Promoção hoje"
    link = f"https://t.me/shop_bot?start=model_{creator.id}_c{campaign_id}"
    assert post["buttons"] == [[{"text": "🔥 Quero Ver Mais", "url": link}]]
    done = await campaign(world, campaign_id)
    assert (done.status, done.sent) == (S.COMPLETED, 1)


async def test_an_album_is_posted_once_recorded_per_message_and_deleted_after_its_hours(
    world: World, tmp_path: Path
) -> None:
    album = await images(world, tmp_path, 3)
    groups = [await world.add_group("A"), await world.add_group("B")]
    campaign_id = await new_campaign(world, groups, album_asset_ids=album, buttons=[])
    async with session_scope(world.sessions) as session:
        stored = await session.get_one(Campaign, campaign_id)
        stored.auto_delete_hours = 2
    await sent(world, await start(world, campaign_id))
    for group in groups:
        posts = shown(await world.sandbox.messages(group.telegram_id))
        assert [m["media"]["kind"] for m in posts] == ["photo"] * 3
        # The sandbox keeps an album caption's HTML as typed (it ignores an item's parse_mode).
        assert len({m["media_group_id"] for m in posts}) == 1 and "hoje" in posts[0]["caption"]
    found = await outcomes(world, campaign_id)
    assert all(len(t.message_ids or []) == 3 for t in found.values())
    # Not yet: an hour later nothing is deleted.
    async with session_scope(world.sessions) as session:
        tally = await jobs.check_campaigns(
            session, session.commit, world.queues, now=utcnow() + timedelta(hours=1)
        )
    assert tally["deleting"] == 0
    # Two hours later (Telegram's clock moved too) each group's album is deleted.
    await world.sandbox.advance(2 * 3600 + 60)
    async with session_scope(world.sessions) as session:
        later = utcnow() + timedelta(hours=2, minutes=1)
        tally = await jobs.check_campaigns(session, session.commit, world.queues, now=later)
    assert tally["deleting"] == 2
    for group in groups:
        out = await world.wait(JobName.DELETE_MESSAGES_BULK, service.delete_job_id(campaign_id, group.id))
        assert out.state == "completed", out.reason
        assert shown(await world.sandbox.messages(group.telegram_id)) == []
    assert {t.status for t in (await outcomes(world, campaign_id)).values()} == {T.DELETED}
    async with world.sessions() as session:
        rows = (await session.execute(select(PostHistory.status))).scalars().all()
    assert sorted(rows) == [PostStatus.DELETED] * 6


async def test_a_pause_stops_queued_posts_and_a_resume_sends_them_once(world: World) -> None:
    groups = [await world.add_group("A"), await world.add_group("B"), await world.add_group("C")]
    campaign_id = await new_campaign(world, groups)
    orders = await start(world, campaign_id)
    async with session_scope(world.sessions) as session:
        await service.pause_campaign(session, service.SYSTEM, campaign_id)
    skipped = await sent(world, orders)
    assert all("paused" in o.value["skipped"] for o in skipped)
    for group in groups:
        assert shown(await world.sandbox.messages(group.telegram_id)) == []
    paused = await campaign(world, campaign_id)
    assert (paused.status, paused.sent, paused.failed) == (S.PAUSED, 0, 0)
    # The check leaves a paused campaign alone (its finished jobs are not failures).
    async with session_scope(world.sessions) as session:
        await jobs.check_campaigns(session, session.commit, world.queues)
    assert {t.status for t in (await outcomes(world, campaign_id)).values()} == {T.PENDING}
    async with session_scope(world.sessions) as session:
        resumed, again = await service.resume_campaign(session, service.SYSTEM, campaign_id)
    assert resumed.round == 1 and {o.job_id for o in again}.isdisjoint({o.job_id for o in orders})
    await sent(world, again)
    # A job of the first round run late (redelivered) does not post a second time.
    late = await world.run(JobName.SEND_MESSAGE, orders[0].job_data(), job_id="late-round-0")
    assert late.state == "completed" and "skipped" in late.value
    for group in groups:
        assert len(shown(await world.sandbox.messages(group.telegram_id))) == 1
    done = await campaign(world, campaign_id)
    assert (done.status, done.sent) == (S.COMPLETED, 3)


async def test_a_deleted_photo_or_a_group_deactivated_mid_campaign_fail_only_their_group(
    world: World, tmp_path: Path
) -> None:
    [photo] = await images(world, tmp_path, 1)
    groups = [await world.add_group("A"), await world.add_group("B"), await world.add_group("C")]
    campaign_id = await new_campaign(world, groups, media_asset_id=photo)
    orders = await start(world, campaign_id)
    async with session_scope(world.sessions) as session:
        group = await session.get_one(Group, groups[1].id)
        group.is_active, group.deactivated_reason = False, "bot kicked"
    await jobs.enqueue_sends(world.queues, orders)
    results = {o.group_id: await world.wait(JobName.SEND_MESSAGE, o.job_id) for o in orders}
    assert results[groups[1].id].state == "failed"
    found = await outcomes(world, campaign_id)
    assert found[groups[0].id].status is T.SENT and found[groups[2].id].status is T.SENT
    assert found[groups[1].id].status is T.FAILED and "inactive: bot kicked" in (
        found[groups[1].id].reason or ""
    )
    # The photo leaves the library's storage: the next campaign's posts fail with the reason.
    (tmp_path / "media" / "library" / "0.png").unlink()
    async with session_scope(world.sessions) as session:
        # Nor has the bot a file_id for it yet (else Telegram would not need the file).
        await session.execute(delete(MediaFileId))
    other = await new_campaign(world, [groups[0]], media_asset_id=photo)
    [order] = await start(world, other)
    await jobs.enqueue_sends(world.queues, [order])
    gone = await world.wait(JobName.SEND_MESSAGE, order.job_id)
    assert gone.state == "failed"
    [target] = (await outcomes(world, other)).values()
    assert target.status is T.FAILED and "no stored file" in (target.reason or "")
    assert (await campaign(world, other)).status is S.FAILED


async def test_a_repeating_campaign_schedules_its_next_occurrence_until_the_end_date(world: World) -> None:
    group = await world.add_group("Ofertas")
    first_at = utcnow() - timedelta(minutes=1)
    async with session_scope(world.sessions) as session:
        first = await make_campaign(session, [group.id], at=first_at)
        first.repeat_every_hours, first.repeat_until = 2, first_at + timedelta(hours=5)
    check_now = utcnow()
    occurrences = []
    for hours in (0, 2, 4, 6):
        async with session_scope(world.sessions) as session:
            tally = await jobs.check_campaigns(
                session, session.commit, world.queues, now=check_now + timedelta(hours=hours)
            )
        occurrences.append(tally["started"])
        # Each occurrence's post is done before the next check (SQLite has one writer at a time).
        async with world.sessions() as session:
            started = (
                await session.execute(select(Campaign.id).where(Campaign.started_at.is_not(None)))
            ).scalars()
            for campaign_id in list(started):
                await world.wait(JobName.SEND_MESSAGE, service.send_job_id(campaign_id, group.id))
    # +0 h the first, +2 h and +4 h the repeats; the one at +6 h falls after the end date.
    assert occurrences == [1, 1, 1, 0]
    async with world.sessions() as session:
        chain = (await session.execute(select(Campaign).order_by(Campaign.id))).scalars().all()
    assert [c.parent_id for c in chain] == [None, first.id, first.id]
    assert None not in [c.scheduled_at for c in chain]
    assert [(c.scheduled_at or first_at) - first_at for c in chain] == [
        timedelta(0),
        timedelta(hours=2),
        timedelta(hours=4),
    ]
    assert [c.status for c in chain] == [S.COMPLETED] * 3
    assert len(shown(await world.sandbox.messages(group.telegram_id))) == 3


async def test_a_post_already_past_its_check_is_stopped_right_before_the_call_by_a_pause(
    world: World,
) -> None:
    group = await world.add_group("A")
    campaign_id = await new_campaign(world, [group])
    [order] = await start(world, campaign_id)
    # The database still says running (the job's first check passes), but the pause was announced
    # while the job waited for the limiter: the guard right before the request stops it.
    await signal.publish(world.redis, world.settings.redis_prefix, campaign_id, S.PAUSED, 0)
    [skipped] = await sent(world, [order])
    assert skipped.value == {"skipped": f"campaign {campaign_id} is paused: post not sent"}
    assert shown(await world.sandbox.messages(group.telegram_id)) == []
    assert (await outcomes(world, campaign_id))[group.id].status is T.PENDING
    assert await world.redis.get(f"{world.settings.redis_prefix}:send:bot-tasks:{order.job_id}") is None
