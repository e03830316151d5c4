"""The Settings page and API (admin): bots added by token (getMe decides) and shown masked, webhook
set only for an https PUBLIC_URL, payment methods, PIX credentials tried before they are saved and
encrypted at rest, Telegram limits within Telegram's ranges."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from tests.fixtures.dashboard import Desk, Person, dashboard_server, log_in
from tgadmin.db import session_scope
from tgadmin.models import AppSetting, AuditLog, Bot, PaymentProviderConfig
from tgadmin.models.enums import OperatorRole
from tgadmin.pix.providers.sandbox import SANDBOX_PIX_KEY
from tgadmin.redis import free_port

Staff = dict[OperatorRole | None, Person]
ADMIN = OperatorRole.ADMIN
FAKE_TOKEN = "123456789:AAEexampleexampleexampleexampleexa"


async def count(desk: Desk, model: type[object]) -> int:
    async with session_scope(desk.sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def page(person: Person) -> str:
    response = await person.http.get("/settings")
    assert response.status_code == 200
    return response.text


async def test_a_bot_token_getme_refuses_is_not_saved(desk: Desk, staff: Staff) -> None:
    response = await staff[ADMIN].submit("/settings/bots", token=FAKE_TOKEN)
    assert response.status_code == 303
    shown = await page(staff[ADMIN])
    assert "Telegram refused this bot token (Unauthorized)" in shown and FAKE_TOKEN not in shown
    api = await staff[ADMIN].api("POST", "/api/v1/settings/bots", json={"token": "not a token"})
    assert api.status_code == 400 and "not a bot token" in api.json()["message"]
    assert await count(desk, Bot) == 0


async def test_a_bot_is_added_by_token_and_its_token_never_shown_whole(
    desk: Desk, staff: Staff, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = await desk.sandbox.create_bot("settings_shop_bot")
    await staff[ADMIN].submit("/settings/bots", token=made.token)
    shown = await page(staff[ADMIN])
    bot_id, secret = made.token.split(":")
    masked = f"{bot_id[:4]}…:{secret[:2]}…{secret[-2:]}"
    assert "@settings_shop_bot is registered" in shown and masked in shown
    assert made.token not in shown and secret not in shown
    api = await staff[ADMIN].api("GET", "/api/v1/settings")
    assert api.status_code == 200 and made.token not in api.text and secret not in api.text
    (listed,) = api.json()["bots"]
    assert listed["token"] == masked and listed["webhook"]["mode"] == "polling"
    async with session_scope(desk.sessions) as session:
        stored = await session.scalar(text("select token from bots"))
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "bot.add"))
    assert stored and secret not in stored
    assert audit is not None and secret not in str(audit.after)
    assert secret not in caplog.text


async def test_a_webhook_needs_an_https_public_url(desk: Desk, staff: Staff) -> None:
    made = await desk.sandbox.create_bot("hook_shop_bot")
    added = await staff[ADMIN].api("POST", "/api/v1/settings/bots", json={"token": made.token})
    assert added.status_code == 201
    bot_id = added.json()["id"]
    refused = await staff[ADMIN].api("PUT", f"/api/v1/settings/bots/{bot_id}/webhook")
    assert refused.status_code == 400
    assert "Telegram delivers webhooks only to https URLs" in refused.json()["message"]
    await staff[ADMIN].submit(f"/settings/bots/{bot_id}/webhook", action="set")
    assert "only to https URLs" in await page(staff[ADMIN])
    info = await made.bot.get_webhook_info()
    assert info.url == ""


@pytest.fixture
async def https_desk(desk: Desk) -> AsyncIterator[Person]:
    """The same dashboard behind an https PUBLIC_URL (a closed loopback port: nothing is delivered)."""
    port = free_port()
    settings = desk.settings.model_copy(update={"public_url": f"https://127.0.0.1:{free_port()}"})
    async with dashboard_server(settings, port) as url:
        admin = await log_in(desk.sessions, settings, url, ADMIN)
        try:
            yield admin
        finally:
            await admin.http.aclose()


async def test_webhook_mode_is_set_and_removed_from_the_page(desk: Desk, https_desk: Person) -> None:
    made = await desk.sandbox.create_bot("mode_shop_bot")
    bot_id = (await https_desk.api("POST", "/api/v1/settings/bots", json={"token": made.token})).json()["id"]
    await https_desk.submit(f"/settings/bots/{bot_id}/webhook", action="set")
    shown = await page(https_desk)
    assert "the bot is in webhook mode" in shown
    info = await made.bot.get_webhook_info()
    assert info.url.endswith(f"/telegram/webhook/{bot_id}") and info.url.startswith("https://")
    listed = (await https_desk.api("GET", "/api/v1/settings")).json()["bots"][0]["webhook"]
    assert listed["mode"] == "webhook" and listed["url"] == info.url
    await https_desk.submit(f"/settings/bots/{bot_id}/webhook", action="remove")
    assert "polling mode" in await page(https_desk)
    assert (await made.bot.get_webhook_info()).url == ""


async def test_payment_methods_are_saved_for_the_storefront_and_none_is_refused(
    desk: Desk, staff: Staff
) -> None:
    await staff[ADMIN].submit("/settings/payment-methods", stars="1")
    assert "the storefront offers Stars" in await page(staff[ADMIN])
    async with session_scope(desk.sessions) as session:
        row = await session.get(AppSetting, "payment_methods")
        assert row is not None and row.value == {"pix": False, "stars": True}
    await staff[ADMIN].submit("/settings/payment-methods")
    assert "offer at least one payment method" in await page(staff[ADMIN])
    refused = await staff[ADMIN].api(
        "PUT", "/api/v1/settings/payment-methods", json={"pix": False, "stars": False}
    )
    assert refused.status_code == 400
    async with session_scope(desk.sessions) as session:
        row = await session.get(AppSetting, "payment_methods")
        assert row is not None and row.value == {"pix": False, "stars": True}


def apipix_form(url: str, secret: str) -> dict[str, str]:
    return {
        "provider": "apipix",
        "expires_minutes": "45",
        "apipix.pix_api_url": url,
        "apipix.pix_client_id": "shop-client",
        "apipix.pix_client_secret": secret,
        "apipix.pix_key": SANDBOX_PIX_KEY,
    }


async def test_psp_credentials_that_fail_the_test_call_are_not_saved(desk: Desk, staff: Staff) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    await staff[ADMIN].submit("/settings/pix", **apipix_form(closed, "s3cret-client-secret"))
    shown = await page(staff[ADMIN])
    assert "the test call to apipix failed, nothing was saved" in shown
    body = {
        "provider": "apipix",
        "expires_minutes": 30,
        "credentials": {
            "pix_api_url": closed,
            "pix_client_id": "a",
            "pix_client_secret": "b",
            "pix_key": SANDBOX_PIX_KEY,
        },
    }
    api = await staff[ADMIN].api("PUT", "/api/v1/settings/pix", json=body)
    assert api.status_code == 400 and "nothing was saved" in api.json()["message"]
    incomplete = await staff[ADMIN].api(
        "PUT", "/api/v1/settings/pix", json={"provider": "apipix", "expires_minutes": 30}
    )
    assert incomplete.status_code == 400 and "PIX_API_URL" in incomplete.json()["message"]
    assert await count(desk, PaymentProviderConfig) == 0
    async with session_scope(desk.sessions) as session:
        assert await session.get(AppSetting, "pix") is None


async def test_psp_credentials_are_tested_then_stored_encrypted_and_shown_masked(
    desk: Desk, staff: Staff, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "s3cret-client-secret-42"
    await staff[ADMIN].submit("/settings/pix", **apipix_form(desk.sandbox.url, secret))
    shown = await page(staff[ADMIN])
    assert "PIX provider apipix saved" in shown and "issued an access token" in shown
    assert secret not in shown and "s3…42" in shown
    api = await staff[ADMIN].api("GET", "/api/v1/settings")
    payments = api.json()["payments"]
    assert payments["provider"] == {"value": "apipix", "source": "database"}
    assert payments["expires_minutes"] == {"value": 45, "source": "database"}
    assert payments["credentials"]["apipix"]["pix_client_secret"] == "s3…42" and secret not in api.text
    async with session_scope(desk.sessions) as session:
        raw = await session.scalar(text("select credentials from payment_provider_configs"))
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "settings.pix"))
    assert raw and secret not in raw and "shop-client" not in raw
    assert audit is not None and secret not in str(audit.after)
    # A blank secret keeps the saved one (the test call still passes with it).
    again = apipix_form(desk.sandbox.url, "")
    again["expires_minutes"] = "0"
    await staff[ADMIN].submit("/settings/pix", **again)
    assert "between 1 and 1440 minutes" in await page(staff[ADMIN])
    again["expires_minutes"] = "20"
    await staff[ADMIN].submit("/settings/pix", **again)
    assert "PIX provider apipix saved" in await page(staff[ADMIN])
    assert secret not in caplog.text


async def test_limits_are_validated_and_say_where_they_apply(desk: Desk, staff: Staff) -> None:
    shown = await page(staff[ADMIN])
    assert "from the environment" in shown and "from the next start of the worker and bot" in shown
    await staff[ADMIN].submit(
        "/settings/limits", bot_per_second="31", group_per_minute="20", group_cooldown_seconds="0"
    )
    assert "bot per second must be between 1 and 30 (got 31)" in await page(staff[ADMIN])
    await staff[ADMIN].submit(
        "/settings/limits", bot_per_second="ten", group_per_minute="20", group_cooldown_seconds="0"
    )
    assert "is not a whole number" in await page(staff[ADMIN])
    async with session_scope(desk.sessions) as session:
        assert await session.get(AppSetting, "telegram_limits") is None
    body = {"bot_per_second": 25, "group_per_minute": 18, "group_cooldown_seconds": 120}
    saved = await staff[ADMIN].api("PUT", "/api/v1/settings/limits", json=body)
    assert saved.status_code == 200
    assert saved.json() | body == saved.json() and saved.json()["source"] == "database"
    assert saved.json()["read_by_gateway"] is True
    assert (
        await staff[ADMIN].api("PUT", "/api/v1/settings/limits", json={**body, "group_per_minute": 21})
    ).status_code == 422
