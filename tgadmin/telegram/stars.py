"""Giving Telegram Stars back (`refundStarPayment`): only the bot that received them can."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiohttp import ClientError

from tgadmin.config import Settings
from tgadmin.errors import BadRequest, ServiceUnavailable
from tgadmin.telegram import bots

ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"
TIMEOUT = 20.0


async def refund_through(bot: Bot, user_telegram_id: int, charge_id: str) -> bool:
    """`refundStarPayment` through `bot`; True once Telegram confirms (a retry after success too)."""
    try:
        return bool(
            await bot.refund_star_payment(user_id=user_telegram_id, telegram_payment_charge_id=charge_id)
        )
    except TelegramBadRequest as error:
        if ALREADY_REFUNDED in error.message:
            return True
        raise BadRequest(f"Telegram refused the Stars refund: {error.message}") from None


async def refund_star_payment(
    settings: Settings, token: str, user_telegram_id: int, charge_id: str, *, bot_name: str
) -> bool:
    """Refund through the bot with `token` (named `bot_name` in errors); Telegram or the network
    failing is ServiceUnavailable, so the caller records nothing and the operator tries again."""
    client = bots.client(token, settings, timeout=TIMEOUT)
    try:
        return await refund_through(client, user_telegram_id, charge_id)
    except (TelegramAPIError, ClientError, TimeoutError) as error:
        raise ServiceUnavailable(
            f"telegram: refundStarPayment through @{bot_name} failed "
            f"({type(error).__name__}); nothing was recorded, try again"
        ) from None
    finally:
        await client.session.close()
