"""`send-promo` through a real worker and the sandbox: what the group shows, PostHistory, and the
command `tgadmin seed demo --promo` queuing it for the worker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import make_buyer, make_purchase
from tests.worker import harness
from tests.worker.harness import World
from tgadmin.audit.service import Actor
from tgadmin.creator import media as crop
from tgadmin.creator import repository as previews
from tgadmin.creator.demo import DemoSeed, seed_demo
from tgadmin.creator.schemas import CropBox
from tgadmin.db import session_scope
from tgadmin.models import Creator, Group, MediaFileId, PostHistory, Product
from tgadmin.models.enums import PostKind, PostStatus, PurchaseStatus
from tgadmin.queue.names import JobName
from tgadmin.storage import LocalStorage

pytestmark = pytest.mark.timeout(300)
world = harness.world  # the real worker on a database of the test's own (tests/worker/harness.py)


@pytest.fixture
def world_overrides(tmp_path: Path) -> dict[str, Any]:
    return {"media_dir": tmp_path / "media"}


async def seeded(world: World) -> DemoSeed:
    async with session_scope(world.sessions) as session:
        return await seed_demo(session, LocalStorage(world.settings.media_dir))


def posted(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if not m["deleted"] and m["media"] is not None]


async def history(world: World, group_id: int) -> list[PostHistory]:
    async with world.sessions() as session:
        query = select(PostHistory).where(PostHistory.group_id == group_id).order_by(PostHistory.id)
        return list((await session.execute(query)).scalars())


async def test_the_promo_arrives_with_photo_caption_and_a_deep_link_naming_the_group(world: World) -> None:
    seed = await seeded(world)
    group = await world.add_group("Ofertas do Dia")
    out = await world.run(JobName.SEND_PROMO, {"creatorId": seed.creator_id, "groupId": group.id})
    assert out.state == "completed", out.reason
    [promo] = posted(await world.sandbox.messages(group.telegram_id))
    assert promo["media"]["kind"] == "photo" and promo["media"]["has_bytes"]
    assert promo["caption"].splitlines()[:2] == ["🔥 Amanda Silva", "🥇 Ouro"]
    assert "Praia, treino e bastidores" in promo["caption"]
    link = f"https://t.me/{world.tg.username}?start=model_{seed.creator_id}_g{group.id}"
    assert promo["buttons"] == [[{"text": "🔥 Quero Ver Mais", "url": link}]]
    [row] = await history(world, group.id)
    assert (row.message_id, row.kind, row.status) == (promo["message_id"], PostKind.PROMO, PostStatus.SENT)
    assert row.excerpt is not None and row.excerpt.startswith("🔥 Amanda Silva")
    assert (await world.group(group.id)).last_message_id == promo["message_id"]


async def test_the_preview_is_uploaded_once_then_sent_by_file_id(world: World) -> None:
    seed = await seeded(world)
    first, second = await world.add_group("Um"), await world.add_group("Dois")
    for group in (first, second):
        out = await world.run(JobName.SEND_PROMO, {"creatorId": seed.creator_id, "groupId": group.id})
        assert out.state == "completed", out.reason
    async with world.sessions() as session:
        cached = (await session.execute(select(MediaFileId))).scalars().all()
    assert len(cached) == 1 and cached[0].bot_id == world.bot_id
    [one] = posted(await world.sandbox.messages(first.telegram_id))
    [two] = posted(await world.sandbox.messages(second.telegram_id))
    # The second group got the very file Telegram stored for the first upload.
    assert one["media"]["file_id"] == two["media"]["file_id"] == cached[0].file_id


async def test_a_redelivered_promo_job_posts_once(world: World) -> None:
    seed = await seeded(world)
    group = await world.add_group()
    data = {"creatorId": seed.creator_id, "groupId": group.id}
    first = await world.run(JobName.SEND_PROMO, data, job_id="promo-once")
    assert first.state == "completed", first.reason
    await first.job.retry("completed")
    again = await world.wait(JobName.SEND_PROMO, "promo-once")
    assert again.state == "completed" and again.value["messageId"] == first.value["messageId"]
    assert len(posted(await world.sandbox.messages(group.telegram_id))) == 1
    assert len(await world.sandbox.calls(method="sendPhoto")) == 1
    assert len(await history(world, group.id)) == 1


async def test_a_promo_to_a_group_the_bot_was_removed_from_fails_once_and_deactivates_it(
    world: World,
) -> None:
    seed = await seeded(world)
    group = await world.add_group()
    await world.sandbox.add_member(group.telegram_id, bot_id=world.tg.id, status="kicked")
    out = await world.run(JobName.SEND_PROMO, {"creatorId": seed.creator_id, "groupId": group.id})
    assert out.state == "failed" and out.attempts_made == 1, out.reason
    after = await world.group(group.id)
    assert not after.is_active and after.deactivated_reason
    assert await history(world, group.id) == []
    # Asked again, the job refuses at once without calling Telegram.
    before = len(await world.sandbox.calls(method="sendPhoto"))
    again = await world.run(JobName.SEND_PROMO, {"creatorId": seed.creator_id, "groupId": group.id})
    assert again.state == "failed" and "inactive" in (again.reason or "")
    assert len(await world.sandbox.calls(method="sendPhoto")) == before


async def test_a_promo_for_an_unknown_creator_or_group_fails_with_a_clear_reason(world: World) -> None:
    seed = await seeded(world)
    group = await world.add_group()
    no_creator = await world.run(JobName.SEND_PROMO, {"creatorId": 999_999, "groupId": group.id})
    no_group = await world.run(JobName.SEND_PROMO, {"creatorId": seed.creator_id, "groupId": 999_999})
    assert (no_creator.state, no_group.state) == ("failed", "failed")
    assert "no creator with id 999999" in (no_creator.reason or "")
    assert "no group with id 999999" in (no_group.reason or "")
    assert posted(await world.sandbox.messages(group.telegram_id)) == []


async def test_a_buyer_of_a_demo_pack_receives_its_photos_in_albums(world: World) -> None:
    seed = await seeded(world)
    verao = next(p for p in seed.products if p.title == "Pack Verão")
    buyer = await world.sandbox.create_user("Bia")
    await world.sandbox.user_says(buyer, "/start")
    async with session_scope(world.sessions) as session:
        purchase = await make_purchase(
            session,
            product=await session.get_one(Product, verao.id),
            buyer=await make_buyer(session, buyer),
            status=PurchaseStatus.PAID,
            bot_id=world.bot_id,
        )
    out = await world.run(JobName.DELIVER_PURCHASE, {"purchaseId": purchase.id})
    assert out.state == "completed", out.reason
    photos = [m for m in posted(await world.sandbox.messages(buyer)) if m["media"]["kind"] == "photo"]
    assert len(photos) == 15 and len({m["media_group_id"] for m in photos}) == 2


def seed_command(world: World, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "REDIS_", "S3_"))}
    env.update(
        DATABASE_URL=world.settings.database_url,
        REDIS_URL=world.settings.effective_redis_url or "",
        REDIS_PREFIX=world.settings.redis_prefix,
        MEDIA_DIR=str(world.settings.media_dir),
    )
    return subprocess.run(
        [sys.executable, "-m", "tgadmin", "seed", "demo", "--promo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_seed_demo_promo_queues_the_promo_the_worker_posts_to_the_admin_group(
    world: World, tmp_path: Path
) -> None:
    # Only the group where the bot is an administrator gets the promo.
    await world.add_group("Só membro", status="member")
    group = await world.add_group("Admin")
    done = seed_command(world, tmp_path)
    assert done.returncode == 0, done.stderr
    match = re.search(r"promo: queued as job (\S+) for group 'Admin'", done.stdout)
    assert match, done.stdout
    out = await world.wait(JobName.SEND_PROMO, match.group(1))
    assert out.state == "completed", out.reason
    [promo] = posted(await world.sandbox.messages(group.telegram_id))
    async with world.sessions() as session:
        member_only = (await session.execute(select(Group).where(Group.title == "Só membro"))).scalar_one()
    assert posted(await world.sandbox.messages(member_only.telegram_id)) == []
    creator_id = out.value["creatorId"]
    assert f"?start=model_{creator_id}_g{group.id}" in promo["buttons"][0][0]["url"]
    assert f"deep link: https://t.me/{world.tg.username}?start=model_{creator_id}" in done.stdout


async def test_the_promo_posts_the_preview_as_the_operator_cropped_it(world: World) -> None:
    seed = await seeded(world)
    group = await world.add_group("Ofertas")
    async with session_scope(world.sessions) as session:
        creator = await session.get_one(Creator, seed.creator_id)
        first = (await previews.preview_rows(session, creator.id))[0][0]
        box = CropBox(x=40, y=100, width=300, height=200)
        await crop.set_crop(session, creator, first.id, box, Actor.system("test"))
    out = await world.run(JobName.SEND_PROMO, {"creatorId": seed.creator_id, "groupId": group.id})
    assert out.state == "completed", out.reason
    [promo] = posted(await world.sandbox.messages(group.telegram_id))
    assert (promo["media"]["width"], promo["media"]["height"]) == (300, 200)  # the original is 480×600
