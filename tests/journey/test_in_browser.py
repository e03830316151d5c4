"""The buyer's journey once in headless Chromium, on the sandbox's chat page, set up as `tgadmin dev`
sets it up (buyer Ana and "Grupo Demo" with the bot as admin) after `tgadmin seed demo --promo` (the
command itself, as an operator runs it): Ana opens the group, follows the promo's button, picks
"Pack Verão", pays its PIX code with the page's sandbox-bank button and sees the confirmation and
the pack. Bot service, worker and dashboard are the journey's real ones; the test only clicks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.bot.conftest import eventually
from tests.creator.test_demo import tgadmin
from tests.fixtures.dashboard import CHROMIUM_ARGS
from tests.fixtures.redis import REDIS_URL
from tests.journey.conftest import Shop
from tgadmin.dev.demo import DemoCast, create_demo_cast
from tgadmin.models import Creator, Group, PostHistory

pytestmark = pytest.mark.timeout(90)
PACK_PHOTOS = 15
PREVIEWS = 4


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


async def dev_cast(shop: Shop) -> tuple[DemoCast, Group]:
    """What `tgadmin dev` adds to its sandbox; the bot service records the group as an admin group."""
    cast = await asyncio.to_thread(create_demo_cast, shop.sandbox.url, shop.bot_tg_id)

    async def admin_group() -> Group | None:
        group = await shop.world.row(Group, Group.telegram_id == cast.group_id)
        return group if group is not None and group.bot_is_admin else None

    return cast, await eventually(admin_group)


async def seed_demo_promo(shop: Shop, tmp_path: Path) -> Creator:
    """`tgadmin seed demo --promo` on the shop's database and queues; the creator once the worker has
    posted the promo."""
    settings = shop.world.settings
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": settings.redis_prefix,
        "MEDIA_DIR": str(settings.media_dir),
    }
    done = await asyncio.to_thread(tgadmin, "seed", "demo", "--promo", cwd=tmp_path, **env)
    assert done.returncode == 0, done.stderr
    assert "promo: queued" in done.stdout and "'Grupo Demo'" in done.stdout
    await eventually(lambda: shop.world.row(PostHistory), within=30)
    creator = await shop.world.row(Creator, Creator.username == "amanda_exclusive")
    assert creator is not None
    return creator


@pytest.mark.parametrize("db_backend", ["postgresql"])  # SQLite walks the journey in test_buyer_journey
async def test_a_buyer_clicks_from_the_group_promo_to_a_paid_pix_pack_on_the_chat_page(
    shop: Shop, page: Page, tmp_path: Path
) -> None:
    cast, group = await dev_cast(shop)
    creator = await seed_demo_promo(shop, tmp_path)
    await page.goto(shop.sandbox.url + "/")

    # Ana, in Grupo Demo, sees the promo and follows its button.
    await page.get_by_label("I am").select_option(str(cast.buyer_id))
    await page.locator(".chat-item", has_text="Grupo Demo").click()
    await expect(page.locator("#chat-title")).to_have_text("Grupo Demo")
    await expect(page.get_by_text("🔥 Amanda Silva")).to_be_visible()
    await expect(page.locator("#messages img[alt=photo]")).to_have_count(1)
    # The page follows a bot's t.me deep link as Telegram does: the bot's chat, /start with the payload.
    await page.get_by_role("link", name="🔥 Quero Ver Mais").click()
    await expect(page.locator("#chat-title")).to_have_text(f"Ana · @{shop.world.tg.username}")
    await expect(page.locator(".msg.user .text")).to_have_text(f"/start model_{creator.id}_g{group.id}")

    # The creator's page (no 18+ question: the demo creator is not adult), then Pack Verão by PIX.
    photos = page.locator("#messages img[alt=photo]")
    await expect(page.locator("#messages .album img")).to_have_count(PREVIEWS)
    await page.get_by_role("button", name="Pack Verão — R$ 29,90 · ⭐ 150").click()
    await expect(page.get_by_text("Como você quer pagar")).to_be_visible()
    await page.get_by_role("button", name="PIX · R$ 29,90").click()
    await expect(page.get_by_text("Válido até")).to_be_visible()
    await expect(photos).to_have_count(PREVIEWS + 1)  # the QR code
    await expect(page.get_by_role("button", name="✅ Já paguei")).to_be_visible()

    # The page's bank pays the copy-paste code; the bot confirms and delivers the pack.
    await expect(page.locator(".pix code")).to_have_count(1)
    await page.get_by_role("button", name="Pay (sandbox bank)").click()
    confirmation = page.locator("#messages .text", has_text="Pagamento confirmado")
    await expect(confirmation).to_be_visible(timeout=20_000)
    await expect(confirmation).to_contain_text("“Pack Verão”")
    await expect(photos).to_have_count(PREVIEWS + 1 + PACK_PHOTOS, timeout=20_000)
    await expect(page.locator("#messages .album")).to_have_count(1 + 2)  # previews; 10 + 5 pack photos
