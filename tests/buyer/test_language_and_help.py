"""The buyer's language: Telegram's on first contact, then /language, kept whatever later updates
say; /help lists the commands; anything the bot does not understand gets a hint at /start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

from tests.creator.storefront import Store, buttons, text_of
from tgadmin.buyer import texts as buyer_texts
from tgadmin.models import TelegramUser
from tgadmin.telegram.callbacks import SetLanguage


def private_message(user: TelegramUser, language_code: str, **content: Any) -> dict[str, Any]:
    """A message from `user` as Telegram would send it, its profile now saying `language_code`."""
    sender = {"id": user.telegram_id, "is_bot": False, "first_name": user.first_name}
    return {
        "message": {
            "message_id": 10_000,
            "date": 1_760_000_000,
            "chat": {"id": user.telegram_id, "type": "private", "first_name": user.first_name},
            "from": {**sender, "language_code": language_code},
            **content,
        }
    }


async def test_a_language_chosen_with_slash_language_is_kept_after_telegram_reports_another(
    store: Store,
) -> None:
    john = await store.buyer(language="en-US")
    [offer] = await store.says(john, "/language", expect=1)
    assert text_of(offer) == "🌐 Choose your language:"
    assert buttons(offer) == [
        ("🇧🇷 Português", SetLanguage(code="pt").pack()),
        ("🇬🇧 English", SetLanguage(code="en").pack()),
    ]
    assert (await store.user(john)).preferred_language == "en"  # from Telegram, on first contact

    await store.press(john, offer, SetLanguage(code="pt").pack())
    await store.user(john, until=lambda row: row.preferred_language == "pt")
    [done] = await store.chat(john)  # the offer is edited into the confirmation
    assert text_of(done) == "✅ Pronto! Vou falar com você em português."

    # His Telegram still (or again) says English: his choice wins, only the profile column follows.
    await store.post_update(private_message(await store.user(john), "en-GB", text="/help"))
    help_ = (await store.replies(john, 2))[-1]
    assert text_of(help_).startswith("Como funciona:")
    row = await store.user(john, until=lambda r: r.language_code == "en-GB")
    assert row.preferred_language == "pt"


async def test_the_first_contact_language_is_not_overwritten_by_a_later_profile_update(store: Store) -> None:
    ana = await store.buyer(language="en")
    [help_] = await store.says(ana, "/help", expect=1)
    assert "/mypurchases" in text_of(help_) and text_of(help_).startswith("How it works:")

    await store.post_update(private_message(await store.user(ana), "pt-br", text="/help"))
    again = (await store.replies(ana, 2))[-1]
    assert text_of(again).startswith("How it works:")
    row = await store.user(ana, until=lambda r: r.language_code == "pt-br")
    assert row.preferred_language == "en"


async def test_help_lists_every_buyer_command(store: Store) -> None:
    ana = await store.buyer()
    [help_] = await store.says(ana, "/help", expect=1)
    for command in ("/start", "/mypurchases", "/language", "/help", "/paysupport"):
        assert f"\n{command} — " in text_of(help_)


STICKER = {
    "sticker": {
        "file_id": "CAACAgIAAxkBAAIBsticker",
        "file_unique_id": "AgADsticker",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
}
PHOTO = {
    "photo": [{"file_id": "AgACAgIAAxkBAAIBphoto", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
}


@pytest.mark.parametrize("content", [STICKER, PHOTO, {"text": "quero ver"}], ids=["sticker", "photo", "text"])
async def test_a_message_the_bot_does_not_understand_gets_a_hint_at_start_in_the_buyers_language(
    store: Store, content: dict[str, Any]
) -> None:
    bia = await store.buyer(language="pt-br")
    await store.says(bia, "/start", expect=1)
    await store.sandbox.advance(1)  # a second later, as a person would: the chat may be answered again
    await store.post_update(private_message(await store.user(bia), "pt-br", **content))
    hint = (await store.replies(bia, 2))[-1]
    assert text_of(hint) == "Não entendi 🙂 Envie /start para ver as modelos ou /help para ajuda."


async def test_paysupport_answers_in_the_language_chosen_with_slash_language_not_telegrams(
    store: Store,
) -> None:
    bia = await store.buyer(language="pt-br")
    [offer] = await store.says(bia, "/language", expect=1)
    await store.press(bia, offer, SetLanguage(code="en").pack())
    await store.user(bia, until=lambda row: row.preferred_language == "en")
    await store.sandbox.advance(1)  # a second later, as a person would: the chat may be answered again

    [support] = await store.says(bia, "/paysupport", expect=1)
    assert text_of(support).startswith("Payment support: reply here with your order number")
    assert (await store.user(bia)).language_code == "pt-br"  # Telegram still says Portuguese


@contextmanager
def connections_taken() -> Iterator[list[object]]:
    """Every connection any engine of this process takes from its pool while the block runs."""
    taken: list[object] = []

    def checkout(connection: object, _record: object, _proxy: object) -> None:
        taken.append(connection)

    event.listen(Pool, "checkout", checkout)
    try:
        yield taken
    finally:
        event.remove(Pool, "checkout", checkout)


async def test_a_known_buyers_stray_messages_take_no_connection_and_follow_the_language_they_chose(
    store: Store,
) -> None:
    john = await store.buyer(language="en")
    await store.says(john, "hello", expect=1)  # first contact: the row is written
    await store.sandbox.advance(1)
    with connections_taken() as taken:
        [hint] = await store.says(john, "still there?", expect=1)
    assert text_of(hint) == buyer_texts.HINT["en"] and taken == []

    await store.sandbox.advance(1)
    [offer] = await store.says(john, "/language", expect=1)
    await store.press(john, offer, SetLanguage(code="pt").pack())
    await store.user(john, until=lambda row: row.preferred_language == "pt")
    await store.sandbox.advance(1)
    with connections_taken() as taken:
        [hint] = await store.says(john, "oi", expect=1)
    # The choice reached the bot's copy of the buyer with its commit: no read needed to honour it.
    assert text_of(hint) == buyer_texts.HINT["pt"] and taken == []
