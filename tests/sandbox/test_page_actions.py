"""The chat page in headless Chromium as the operator drives it: who am I, new users and groups,
the bot added and promoted, a chat opened with the bot, /start typed, buttons and deep links pressed —
all by clicking, with no control-API call from the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update
from playwright.async_api import Page, async_playwright, expect

from tests.fixtures.dashboard import CHROMIUM_ARGS
from tests.fixtures.sandbox import Sandbox
from tests.narrow import present


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


class Updates:
    """What the bot has been sent so far, read with getUpdates as a polling bot would."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.offset = 0

    async def next(self, wanted: Callable[[Update], bool], attempts: int = 20) -> Update:
        for _ in range(attempts):
            for update in await self.bot.get_updates(offset=self.offset, timeout=1):
                self.offset = update.update_id + 1
                if wanted(update):
                    return update
        raise AssertionError("the bot was not sent the expected update")


async def test_a_user_and_a_group_are_created_and_the_bot_is_added_and_promoted_from_the_page(
    sandbox: Sandbox, page: Page
) -> None:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot("vitrine_bot")
    updates = Updates(shop.bot)
    await page.goto(sandbox.url + "/")

    await page.get_by_role("button", name="+ User").click()
    await page.get_by_label("First name").fill("Bia")
    await page.get_by_label("Language").select_option("en")
    await page.get_by_role("button", name="Create user").click()
    # The page answers the click asynchronously: wait until it shows Bia as "I am" before asking
    # the control API.
    await expect(page.get_by_label("I am").locator("option:checked")).to_have_text("Bia (en)")
    bia = await sandbox_user(sandbox, "Bia")
    await expect(page.get_by_label("I am")).to_have_value(str(bia["id"]))
    assert bia["language_code"] == "en"

    await page.get_by_role("button", name="+ Group").click()
    await page.get_by_label("Title").fill("Vendas VIP")
    await page.get_by_role("button", name="Create group").click()
    await expect(page.locator("#chat-title")).to_have_text("Vendas VIP")
    await expect(page.get_by_text("Bia: creator")).to_be_visible()

    await page.get_by_role("button", name="Add @vitrine_bot").click()
    added = await updates.next(lambda u: u.my_chat_member is not None)
    await page.get_by_role("button", name="Promote @vitrine_bot to admin").click()
    await expect(page.get_by_text("@vitrine_bot is admin ✓")).to_be_visible()
    promoted = await updates.next(lambda u: u.my_chat_member is not None)
    assert present(added.my_chat_member).new_chat_member.status == "member"
    change = present(promoted.my_chat_member)
    assert (change.chat.title, change.chat.type) == ("Vendas VIP", "supergroup")
    assert change.new_chat_member.status == "administrator"

    await page.get_by_label("Message").fill("Bom dia, grupo")
    await page.get_by_label("Message").press("Enter")
    said = await updates.next(lambda u: u.message is not None and u.message.text is not None)
    message = present(said.message)
    assert (message.text, present(message.from_user).first_name) == ("Bom dia, grupo", "Bia")
    assert message.chat.id == change.chat.id


async def sandbox_user(sandbox: Sandbox, first_name: str) -> dict[str, object]:
    users = (await sandbox.control.get("/sandbox/users")).json()
    return next(user for user in users if user["first_name"] == first_name)


async def test_a_user_opens_the_bot_types_start_and_presses_its_button(sandbox: Sandbox, page: Page) -> None:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot("vitrine_bot")
    ana = await sandbox.create_user("Ana")
    updates = Updates(shop.bot)
    await page.goto(sandbox.url + "/")

    await page.get_by_text("Ana · @vitrine_bot").click()
    await expect(page.get_by_role("button", name="START")).to_be_visible()
    await page.get_by_label("Message").fill("/start")
    await page.get_by_role("button", name="Send").click()
    start = present((await updates.next(lambda u: u.message is not None)).message)
    assert (start.text, start.chat.id, present(start.from_user).id) == ("/start", ana, ana)

    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Pack Verão — R$ 29,90", callback_data="buy:1")]]
    )
    await shop.bot.send_message(ana, "Escolha um pack", reply_markup=keyboard)
    await page.get_by_role("button", name="Pack Verão — R$ 29,90").click()
    query = present((await updates.next(lambda u: u.callback_query is not None)).callback_query)
    assert (query.data, query.from_user.id) == ("buy:1", ana)
    await shop.bot.answer_callback_query(query.id, text="Checkout aberto")
    await expect(page.locator("#toast")).to_have_text("Checkout aberto")


async def test_a_deep_link_in_a_group_opens_the_bot_and_sends_start_with_its_payload(
    sandbox: Sandbox, page: Page
) -> None:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot("vitrine_bot")
    bia = await sandbox.create_user("Bia")
    ana = await sandbox.create_user("Ana")
    group = await sandbox.create_chat("supergroup", "Grupo Demo")
    await sandbox.add_member(group, user_id=ana)
    await sandbox.add_member(group, bot_id=shop.id, status="administrator")
    link = InlineKeyboardButton(text="🔥 Quero Ver Mais", url="https://t.me/vitrine_bot?start=model_7_g1")
    promo = InlineKeyboardMarkup(inline_keyboard=[[link]])
    await shop.bot.send_message(group, "Amanda Silva", reply_markup=promo)
    updates = Updates(shop.bot)
    await page.goto(sandbox.url + "/")
    await expect(page.get_by_label("I am")).to_have_value(str(bia))

    await page.get_by_label("I am").select_option(str(ana))
    await page.locator(".chat-item", has_text="Grupo Demo").click()
    await expect(page.get_by_text("Ana: member")).to_be_visible()
    await page.get_by_role("link", name="🔥 Quero Ver Mais").click()

    await expect(page.locator("#chat-title")).to_have_text("Ana · @vitrine_bot")
    start = present(
        (await updates.next(lambda u: u.message is not None and u.message.chat.type == "private")).message
    )
    assert (start.text, start.chat.id) == ("/start model_7_g1", ana)
    await expect(page.locator(".msg.user .text")).to_have_text("/start model_7_g1")


async def test_writing_in_a_group_before_joining_it_says_why_and_joining_lets_the_message_through(
    sandbox: Sandbox, page: Page
) -> None:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot("vitrine_bot")
    bia = await sandbox.create_user("Bia")
    group = await sandbox.create_chat("supergroup", "Grupo Demo")
    await sandbox.add_member(group, bot_id=shop.id, status="administrator")
    updates = Updates(shop.bot)
    await page.goto(sandbox.url + "/")
    await page.locator(".chat-item", has_text="Grupo Demo").click()

    await page.get_by_label("Message").fill("Oi")
    await page.get_by_label("Message").press("Enter")
    await expect(page.locator("#toast")).to_have_text(f"user {bia} is not a member of chat {group}")
    await page.get_by_role("button", name="Join as Bia").click()
    await expect(page.get_by_text("Bia: member")).to_be_visible()
    await page.get_by_label("Message").fill("Oi de novo")
    await page.get_by_label("Message").press("Enter")

    said = await updates.next(lambda u: u.message is not None and u.message.text is not None)
    assert present(said.message).text == "Oi de novo"
