"""The chat page in headless Chromium: a buyer sees the bot's message, presses its button, pays."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LabeledPrice,
)
from playwright.async_api import Page, async_playwright, expect

from tests.fixtures.dashboard import CHROMIUM_ARGS
from tests.fixtures.sandbox import Sandbox
from tests.narrow import present
from tests.sandbox.conftest import png_bytes
from tgadmin.sandbox.brcode_scan import find_pix_codes
from tgadmin.webkit.swagger import SWAGGER_UI_DIR


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16(payload: str) -> str:
    crc = 0xFFFF
    for byte in payload.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def brcode(amount: str = "29.90") -> str:
    body = (
        tlv("00", "01")
        + tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", "pix@example.com"))
        + tlv("52", "0000")
        + tlv("53", "986")
        + tlv("54", amount)
        + tlv("58", "BR")
        + tlv("59", "TGADMIN")
        + tlv("60", "SAO PAULO")
        + tlv("62", tlv("05", "***"))
        + "6304"
    )
    return body + crc16(body)


def test_pix_codes_are_found_whole_inside_text() -> None:
    code = brcode()
    assert find_pix_codes(f"Pague com PIX:\n{code}\nVálido por 30 min") == [code]
    assert find_pix_codes("000201 is not a code") == []


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


async def test_buyer_presses_a_button_and_the_bot_receives_the_callback(sandbox: Sandbox, page: Page) -> None:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot("vitrine_bot")
    ana = await sandbox.create_user("Ana")
    await sandbox.user_says(ana, "/start")
    offset = (await shop.bot.get_updates())[-1].update_id + 1
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Quero ver", callback_data="want:7")]]
    )
    await shop.bot.send_message(ana, "Amanda Silva — Pack Verão", reply_markup=keyboard)
    photo = await shop.bot.send_photo(ana, BufferedInputFile(png_bytes("green"), "p.png"))
    await shop.bot.send_media_group(
        ana, [InputMediaPhoto(media=present(photo.photo)[-1].file_id) for _ in range(3)]
    )

    await page.goto(sandbox.url + "/")
    await page.get_by_text("Ana · @vitrine_bot").click()
    await expect(page.get_by_text("Amanda Silva — Pack Verão")).to_be_visible()
    await expect(page.locator(".album img")).to_have_count(3)
    await expect(page.locator("img[alt=photo]")).to_have_count(4)
    await page.get_by_role("button", name="Quero ver").click()

    updates = await shop.bot.get_updates(offset=offset, timeout=10)
    query = next(u.callback_query for u in updates if u.callback_query)
    assert query.data == "want:7" and query.from_user.id == ana
    await shop.bot.answer_callback_query(query.id, text="Anotado!")
    await expect(page.locator("#toast")).to_have_text("Anotado!")


async def test_invoices_and_pix_codes_can_be_paid_from_the_page(sandbox: Sandbox, page: Page) -> None:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot("vitrine_bot")
    ana = await sandbox.create_user("Ana")
    await sandbox.user_says(ana, "/start")
    offset = (await shop.bot.get_updates())[-1].update_id + 1
    code = brcode()
    await shop.bot.send_message(ana, f"PIX copia e cola:\n{code}")
    await shop.bot.send_invoice(
        ana, "Pack Verão", "15 fotos", "purchase:1", "XTR", [LabeledPrice(label="x", amount=150)]
    )

    await page.goto(sandbox.url + "/")
    await page.get_by_text("Ana · @vitrine_bot").click()
    async with page.expect_request(lambda r: r.url.endswith("/sandbox/pix/pay")) as pix_request:
        await page.locator(".pay-pix").click()
    assert json.loads((await pix_request.value).post_data or "{}") == {"code": code}

    await page.get_by_role("button", name="Pay ⭐150").click()
    updates = await shop.bot.get_updates(offset=offset, timeout=10)
    query = next(u.pre_checkout_query for u in updates if u.pre_checkout_query)
    await shop.bot.answer_pre_checkout_query(query.id, ok=True)
    await expect(page.get_by_text("Paid ⭐150").first).to_be_visible()
    paid = await shop.bot.get_updates(offset=updates[-1].update_id + 1, timeout=5)
    assert present(present(paid[0].message).successful_payment).invoice_payload == "purchase:1"


async def test_control_api_docs_load_swagger_ui_from_the_sandbox_itself(sandbox: Sandbox) -> None:
    """`/sandbox/docs` names no CDN: its script and styles are the npm package's, served locally."""
    http = sandbox.control
    page = await http.get("/sandbox/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/sandbox/docs/assets/swagger-ui-bundle.js" in page.text
    bundle = await http.get("/sandbox/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert bundle.content == (SWAGGER_UI_DIR / "swagger-ui-bundle.js").read_bytes()
    refused = await http.get("/sandbox/docs/assets/..%2Fpackage.json")
    assert refused.status_code == 404
