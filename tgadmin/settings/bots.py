"""Bot settings: add a bot by its token (getMe proves it; `telegram.bots` stores it encrypted), list
the bots with their tokens masked, and their webhook state, set or removed from here.

Mode: a bot whose webhook is set at Telegram is in webhook mode (`tgadmin bot` receives its
updates at PUBLIC_URL); without one it is in polling mode (`tgadmin bot --polling` fetches them).
Telegram delivers webhooks only to https URLs, so setting one needs an https PUBLIC_URL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram.exceptions import TelegramAPIError
from aiohttp import ClientError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.config import Settings
from tgadmin.errors import BadRequest, ServiceUnavailable
from tgadmin.logs import redact
from tgadmin.models import Bot
from tgadmin.telegram import bots

log = logging.getLogger(__name__)

# The bot process's endpoint (bot/server.py WEBHOOK_PATH; the top floor cannot be imported here).
WEBHOOK_PATH = "/telegram/webhook/{bot_id}"
INFO_TIMEOUT = 5


def mask_token(token: str) -> str:
    """`123456789:ABCdef…xyz` -> `1234…:AB…yz`: recognisable, never usable."""
    bot_id, _, secret = token.partition(":")
    return f"{bot_id[:4]}…:{secret[:2]}…{secret[-2:]}" if len(secret) >= 8 else "••••"


@dataclass(frozen=True)
class Webhook:
    url: str | None
    pending: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    problem: str | None = None  # getWebhookInfo itself failed

    @property
    def mode(self) -> str:
        return "unknown" if self.problem else "webhook" if self.url else "polling"


@dataclass(frozen=True)
class BotView:
    id: int
    username: str
    telegram_id: int
    token_masked: str
    is_active: bool
    webhook: Webhook


def webhook_url(settings: Settings, bot_id: int) -> str:
    if not settings.public_url.startswith("https://"):
        raise BadRequest(
            f"PUBLIC_URL is {settings.public_url}: Telegram delivers webhooks only to https URLs. "
            "Set PUBLIC_URL to the public https address, or run `tgadmin bot --polling`."
        )
    return settings.public_url.rstrip("/") + WEBHOOK_PATH.format(bot_id=bot_id)


async def _webhook(bot: Bot, settings: Settings) -> Webhook:
    client = bots.client(bot.token, settings, timeout=INFO_TIMEOUT)
    try:
        info = await client.get_webhook_info()
    except (TelegramAPIError, ClientError, TimeoutError) as error:
        return Webhook(None, problem=f"getWebhookInfo failed: {redact(type(error).__name__)}")
    finally:
        await client.session.close()
    when = info.last_error_date
    return Webhook(
        info.url or None,
        info.pending_update_count,
        info.last_error_message,
        when if when is None or isinstance(when, datetime) else datetime.fromtimestamp(when, UTC),
    )


async def listed(session: AsyncSession, settings: Settings) -> list[BotView]:
    """The active bots (telegram.bots keeps the rows), each with its webhook state asked live."""
    return [
        BotView(
            bot.id,
            bot.username,
            bot.telegram_id,
            mask_token(bot.token),
            bot.is_active,
            await _webhook(bot, settings),
        )
        for bot in await bots.active_bots(session)
    ]


async def add(session: AsyncSession, settings: Settings, token: str, actor: Actor) -> Bot:
    """Register the bot (getMe must accept the token; a refusal saves nothing) and audit it."""
    if not token.strip():
        raise BadRequest("paste the bot token BotFather gave you")
    registered = await bots.register_from_token(session, token, settings)
    bot = registered.bot
    if registered.changed:
        action = "bot.add" if registered.created else "bot.token_changed"
        await record(
            session,
            actor,
            action,
            "bot",
            bot.id,
            after={"username": bot.username, "token": mask_token(bot.token)},
        )
    return bot


async def set_webhook(session: AsyncSession, settings: Settings, bot_id: int, actor: Actor) -> str:
    url = webhook_url(settings, bot_id)
    bot = await bots.get_bot(session, bot_id)
    await _call(bot, settings, "setWebhook", url)
    await record(session, actor, "bot.webhook_set", "bot", bot.id, after={"url": url})
    return url


async def remove_webhook(session: AsyncSession, settings: Settings, bot_id: int, actor: Actor) -> None:
    bot = await bots.get_bot(session, bot_id)
    await _call(bot, settings, "deleteWebhook", None)
    await record(session, actor, "bot.webhook_removed", "bot", bot.id)


async def _call(bot: Bot, settings: Settings, method: str, url: str | None) -> None:
    client = bots.client(bot.token, settings)
    try:
        if url is None:
            await client.delete_webhook(drop_pending_updates=False)
        else:
            await client.set_webhook(url=url, secret_token=bot.webhook_secret)
    except TelegramAPIError as error:
        raise BadRequest(f"Telegram refused {method}: {redact(error.message)}") from None
    except (ClientError, TimeoutError) as error:
        raise ServiceUnavailable(f"telegram: {method} failed: {type(error).__name__}") from None
    finally:
        await client.session.close()
