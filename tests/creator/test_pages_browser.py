"""An operator in headless Chromium (logged in through the mailed link): creates a creator in the
form, uploads a preview photo, frames it with the page's cropper (Cropper.js), saves, and the
dashboard serves the cropped picture at the size of the crop box."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.creator.dashboard import png, size_of
from tests.fixtures.dashboard import Desk, browser_log_in
from tgadmin.models.enums import OperatorRole

pytestmark = pytest.mark.timeout(180)


async def test_an_operator_creates_a_creator_and_crops_her_preview_in_chromium(
    desk: Desk, chromium: Browser, tmp_path: Path
) -> None:
    await desk.operator(OperatorRole.OPERATOR, email="bia@example.com")
    picture = tmp_path / "praia.png"
    picture.write_bytes(png(640, 480))
    page = await browser_log_in(chromium, desk, "bia@example.com")

    await page.get_by_role("link", name="Creators").click()
    await page.get_by_role("link", name="New creator").click()
    await page.get_by_label("Name", exact=True).fill("Luana Costa")
    await page.get_by_label("Username").fill("luana_costa")
    await page.get_by_label("Country").fill("Brazil")
    await page.get_by_role("button", name="Create").click()
    await expect(page.get_by_text("Luana Costa was created")).to_be_visible()
    creator_url = page.url

    await page.get_by_label("Image").set_input_files(str(picture))
    await page.get_by_role("button", name="Upload").click()
    await expect(page.get_by_text("preview photo added")).to_be_visible()
    await expect(page.get_by_text("640×480")).to_be_visible()

    await page.get_by_role("button", name="Crop", exact=True).click()
    dialog = page.locator("dialog.crop[data-ready='1']")
    await expect(dialog).to_be_visible()
    # What an operator's drag would leave: a box in pixels of the original picture.
    await page.evaluate("Object.values(window.croppers)[0].setData({x: 100, y: 60, width: 320, height: 240})")
    box = await page.evaluate("Object.values(window.croppers)[0].getData(true)")
    await dialog.get_by_role("button", name="Save crop").click()
    await expect(page.get_by_text("crop saved: buyers get the cropped picture")).to_be_visible()
    await expect(page.get_by_text(f"cropped to {box['width']}×{box['height']}")).to_be_visible()
    assert abs(box["width"] - 320) <= 2 and abs(box["height"] - 240) <= 2

    shown = page.locator(".preview img.shown")
    served = await page.request.get(await shown.get_attribute("src") or "")
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    assert size_of(await served.body()) == (box["width"], box["height"])
    # The page's own <img> shows the cropped picture too.
    natural = await shown.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [box["width"], box["height"]]
    assert page.url == creator_url
    await page.context.close()
