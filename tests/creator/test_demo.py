"""`tgadmin seed demo`: the demo creator and products, created once and left alone on a second run;
the command as an operator runs it (a subprocess on a database of the test's own)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import audit_actions, make_bot, make_group
from tgadmin.creator.demo import PRODUCTS, DemoSeed, seed_demo
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Creator, CreatorPreview, MediaAsset, MediaFileId, Product, ProductMedia
from tgadmin.models.enums import BotMemberStatus, CreatorTier, ProductType
from tgadmin.storage import LocalStorage

# Each command is a process start (about 2 s, far more on a loaded machine).
pytestmark = pytest.mark.timeout(300)


async def counts(session: AsyncSession) -> dict[str, int]:
    tables = (Creator, Product, MediaAsset, CreatorPreview, ProductMedia)
    return {t.__name__: int(await session.scalar(select(func.count()).select_from(t)) or 0) for t in tables}


async def test_seeding_twice_keeps_the_same_ids_and_adds_nothing(
    session: AsyncSession, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "media")
    first = await seed_demo(session, storage)
    before = await counts(session)
    files = sorted(p.name for p in (tmp_path / "media").rglob("*.jpg"))
    again = await seed_demo(session, storage)
    assert (first.changed, again.changed) == (True, False)
    assert again == DemoSeed(**{**first.__dict__, "changed": False})
    assert await counts(session) == before
    assert sorted(p.name for p in (tmp_path / "media").rglob("*.jpg")) == files
    # 4 previews + 15 + 20 + 10 product photos, each stored once.
    assert before == {"Creator": 1, "Product": 3, "MediaAsset": 49, "CreatorPreview": 4, "ProductMedia": 45}
    assert await audit_actions(session, "creator", first.creator_id) == ["creator.demo_seeded"]


async def test_the_demo_creator_and_products_are_those_of_the_spec(
    session: AsyncSession, tmp_path: Path
) -> None:
    seed = await seed_demo(session, LocalStorage(tmp_path / "media"))
    creator = await session.get_one(Creator, seed.creator_id)
    assert (creator.name, creator.username, creator.tier, creator.country) == (
        "Amanda Silva",
        "amanda_exclusive",
        CreatorTier.GOLD,
        "Brazil",
    )
    assert creator.bio and not creator.is_adult and creator.is_active
    shown = [
        (p.title, p.type, p.price_cents, p.stars_price, p.photo_count, p.video_count) for p in seed.products
    ]
    assert shown == [
        ("Pack Verão", ProductType.CONTENT, 2990, 150, 15, 0),
        ("Pack Fitness", ProductType.PPV, 4990, 250, 20, 3),
        ("Assinatura VIP", ProductType.SUBSCRIPTION, 7990, 400, 10, 0),
    ]
    assert [p.subscription_days for p in seed.products] == [None, None, 30]
    # Every photo a product announces is a file delivery can send, in order.
    assert [p.files for p in seed.products] == [spec.photos for spec in PRODUCTS]


async def test_preview_photos_are_distinct_jpegs_whose_rows_match_the_stored_bytes(
    session: AsyncSession, tmp_path: Path
) -> None:
    seed = await seed_demo(session, LocalStorage(tmp_path / "media"))
    rows = (
        await session.execute(
            select(MediaAsset)
            .join(CreatorPreview, CreatorPreview.asset_id == MediaAsset.id)
            .where(CreatorPreview.creator_id == seed.creator_id)
            .order_by(CreatorPreview.position)
        )
    ).scalars()
    previews = list(rows)
    assert len(previews) == 4 and len({p.sha256 for p in previews}) == 4
    for asset in previews:
        data = (tmp_path / "media" / asset.storage_key).read_bytes()
        assert data[:3] == b"\xff\xd8\xff" and asset.content_type == "image/jpeg"
        assert (asset.sha256, asset.size_bytes) == (hashlib.sha256(data).hexdigest(), len(data))
        assert (asset.width, asset.height) == (480, 600)


async def test_a_stored_file_lost_since_the_last_seed_is_put_back(
    session: AsyncSession, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "media")
    await seed_demo(session, storage)
    lost = tmp_path / "media" / "demo" / "amanda_exclusive" / "preview-1.jpg"
    lost.unlink()
    again = await seed_demo(session, storage)
    assert lost.is_file() and again.changed


async def test_a_picture_drawn_anew_is_uploaded_again_not_sent_by_its_old_file_id(
    session: AsyncSession, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "media")
    seed = await seed_demo(session, storage)
    bot = await make_bot(session)
    asset = (await session.execute(select(MediaAsset).order_by(MediaAsset.id).limit(1))).scalar_one()
    session.add(MediaFileId(asset_id=asset.id, bot_id=bot.id, file_id="old-picture", file_unique_id=None))
    asset.sha256 = "drawn-by-an-older-pillow"
    await session.flush()
    again = await seed_demo(session, storage)
    assert again.changed and again.creator_id == seed.creator_id
    assert (await session.scalars(select(MediaFileId.file_id))).all() == []
    assert asset.sha256 == hashlib.sha256((tmp_path / "media" / asset.storage_key).read_bytes()).hexdigest()


def tgadmin(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "REDIS_", "S3_"))}
    return subprocess.run(
        [sys.executable, "-m", "tgadmin", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _with_bot(database_url: str, *, group_status: BotMemberStatus | None = None) -> str:
    """Registers a bot (and a group it is in) in the command's database; returns its username."""
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            bot = await make_bot(session)
            if group_status is not None:
                await make_group(session, bot, status=group_status)
            return bot.username
    finally:
        await engine.dispose()


async def test_the_seed_command_prints_creator_products_tier_and_deep_link_and_is_idempotent(
    fresh_db_url: str, tmp_path: Path
) -> None:
    username = await _with_bot(fresh_db_url)
    env = {"DATABASE_URL": fresh_db_url, "MEDIA_DIR": str(tmp_path / "media")}
    first = tgadmin("seed", "demo", cwd=tmp_path, **env)
    assert first.returncode == 0, first.stderr
    engine = create_engine(fresh_db_url)
    try:
        async with session_factory(engine)() as session:
            creator_id = await session.scalar(
                select(Creator.id).where(Creator.username == "amanda_exclusive")
            )
    finally:
        await engine.dispose()
    out = first.stdout
    assert f"Amanda Silva (@amanda_exclusive) id={creator_id}" in out and "tier: gold" in out
    assert "Pack Verão [content] R$29,90 / 150 ⭐" in out
    assert "Pack Fitness [ppv] R$49,90 / 250 ⭐ (20 photos + 3 videos" in out
    assert "Assinatura VIP [subscription] R$79,90 / 400 ⭐ (10 photos, 30 days" in out
    assert f"deep link: https://t.me/{username}?start=model_{creator_id}\n" in out
    second = tgadmin("seed", "demo", cwd=tmp_path, **env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.replace("none (already up to date)", "saved") == out
    assert "changes: none" in second.stdout


async def test_seed_without_a_bot_says_where_the_deep_link_would_come_from(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": fresh_db_url, "MEDIA_DIR": str(tmp_path / "media")}
    done = tgadmin("seed", "demo", cwd=tmp_path, **env)
    assert done.returncode == 0, done.stderr
    assert "deep link: no active bot yet: register one" in done.stdout


async def test_promo_without_an_admin_group_says_so_and_keeps_the_seed(
    fresh_db_url: str, tmp_path: Path
) -> None:
    # The bot is in a group, but only as a member: no promo can go there.
    await _with_bot(fresh_db_url, group_status=BotMemberStatus.MEMBER)
    env = {"DATABASE_URL": fresh_db_url, "MEDIA_DIR": str(tmp_path / "media")}
    done = tgadmin("seed", "demo", "--promo", cwd=tmp_path, **env)
    assert done.returncode == 1
    assert (
        "error: no active group where the bot is an admin: add the bot to a group and make it admin"
        in done.stderr
    )
    assert "Amanda Silva (@amanda_exclusive)" in done.stdout and "promo: queued" not in done.stdout
