"""The plain-text router registered first answers only what the fallback registered last would:
no handler of any domain router in between may accept a plain private text message."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Router
from aiogram.types import Message

from tgadmin.bot.routers import domain_routers
from tgadmin.buyer import bot as buyer_bot

TOKEN = "42:AAnotAtokenThatIsEverSentAnywhere000000000"


def _message(text: str | None = None, *, chat: str = "private", **extra: Any) -> Message:
    chat_id = 5151 if chat == "private" else -1005151
    raw: dict[str, Any] = {
        "message_id": 1,
        "date": 1_760_000_000,
        "chat": {"id": chat_id, "type": chat, "first_name": "Ana", "title": "G"},
        "from": {"id": 5151, "is_bot": False, "first_name": "Ana"},
        **extra,
    }
    if text is not None:
        raw["text"] = text
    return Message.model_validate(raw)


async def _takers(router: Router, message: Message, bot: Bot) -> list[str]:
    """The message handlers of `router` that would take `message` (router filters first)."""
    passed, _ = await router.message._handler.check(message, bot=bot)
    if not passed:
        return []
    found = []
    for handler in router.message.handlers:
        accepted, _ = await handler.check(message, bot=bot)
        if accepted:
            found.append(f"{router.name}.{handler.callback.__name__}")
    return found


PLAIN = ["oi", "quero comprar o pack", "", "start", "🔥", "price / 2", "http://x/y"]


@pytest.mark.parametrize("text", PLAIN)
async def test_plain_private_text_is_taken_by_no_domain_handler_but_the_fallback(text: str) -> None:
    bot = Bot(TOKEN)
    message = _message(text)
    routers = domain_routers()
    assert routers[0] is buyer_bot.plain_text and routers[-1] is buyer_bot.fallback
    between = [name for router in routers[1:-1] for name in await _takers(router, message, bot)]
    assert between == []
    assert await _takers(buyer_bot.plain_text, message, bot) == ["buyer-plain-text.hint"]
    assert await _takers(buyer_bot.fallback, message, bot) == ["buyer-fallback.hint"]


@pytest.mark.parametrize(
    ("text", "chat", "extra"),
    [
        ("/start", "private", {}),
        (" /start model_7", "private", {}),
        ("/mypurchases", "private", {}),
        ("/unknown", "private", {}),
        ("oi", "supergroup", {}),
        (None, "private", {"sticker": None, "caption": "a photo", "photo": []}),
        (None, "supergroup", {"migrate_from_chat_id": -5151}),
    ],
)
async def test_commands_service_messages_groups_and_media_go_the_usual_way(
    text: str | None, chat: str, extra: dict[str, Any]
) -> None:
    message = _message(text, chat=chat, **extra)
    assert await _takers(buyer_bot.plain_text, message, Bot(TOKEN)) == []
