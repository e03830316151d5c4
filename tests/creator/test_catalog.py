"""Plain `/start` lists active creators by name, a page at a time; adult creators open after the
buyer confirms 18+ once; a button for a creator gone since answers clearly with the fresh list."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.bot.conftest import eventually
from tests.creator.storefront import Store, buttons, text_of
from tgadmin.audit.service import Actor
from tgadmin.creator import media as crop
from tgadmin.creator import repository as previews
from tgadmin.creator.schemas import CropBox
from tgadmin.creator.service import PAGE_SIZE
from tgadmin.db import session_scope
from tgadmin.models import Creator
from tgadmin.telegram.callbacks import Buy, CatalogPage, ConfirmAge, OpenCreator


async def test_plain_start_lists_active_creators_by_name_and_pages_through_them(store: Store) -> None:
    names = [f"Modelo {letter}" for letter in "KJIHGFEDCBA"]  # created out of order on purpose
    for name in names:
        await store.creator(name=name)
    await store.creator(name="Modelo AAA inativa", is_active=False)
    ana = await store.buyer()

    [first] = await store.says(ana, "/start", expect=1)
    assert "(página 1 de 2)" in text_of(first)
    labels = [label for label, _ in buttons(first)]
    assert labels == [*sorted(names)[:PAGE_SIZE], "Próxima ▶️"]
    assert buttons(first)[-1][1] == CatalogPage(page=1).pack()

    await store.press(ana, first, CatalogPage(page=1).pack())

    async def second_page() -> dict[str, Any] | None:
        [shown] = await store.chat(ana)  # the list is edited in place, not sent again
        return shown if "(página 2 de 2)" in text_of(shown) else None

    shown = await eventually(second_page)
    assert [label for label, _ in buttons(shown)] == [*sorted(names)[PAGE_SIZE:], "◀️ Anterior"]


@contextmanager
def buyer_row_statements() -> Iterator[list[str]]:
    """Statements naming `telegram_users`, as any engine (the bot service's own too) sends them."""
    seen: list[str] = []

    def capture(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
        if "telegram_users" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", capture)


async def test_a_known_buyer_browses_without_reading_their_row(store: Store) -> None:
    """Their language comes with the middleware's copy of the buyer; only an adult creator's page
    reads the row, for the 18+ answer."""
    amanda = await store.creator(name="Amanda", products=[{"title": "Pack Verão", "price_cents": 2990}])
    luna = await store.creator(name="Luna", is_adult=True)
    ana = await store.buyer(language="en")
    await store.says(ana, "/start", expect=1)  # first contact writes the row
    await store.settled(ana)

    with buyer_row_statements() as statements:
        [listed] = await store.says(ana, "/start", expect=1)
        assert text_of(listed).startswith("✨ Choose a creator")  # in the language of first contact
        await store.press(ana, listed, OpenCreator(creator_id=amanda.id).pack())
        [page] = (await store.replies(ana, 4))[3:]
        assert text_of(page).startswith("Amanda") and "Pack Verão" in buttons(page)[0][0]
        assert statements == []

        await store.press(ana, listed, OpenCreator(creator_id=luna.id).pack())
        [question] = (await store.replies(ana, 5))[4:]
        assert text_of(question).startswith("🔞 Luna")
        assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")


async def test_an_adult_creator_opens_after_the_buyer_confirms_18_once(store: Store) -> None:
    luna = await store.creator(
        name="Luna", is_adult=True, previews=2, products=[{"title": "Pack Noite", "price_cents": 4990}]
    )
    ana = await store.buyer()

    [listed] = await store.says(ana, "/start", expect=1)
    assert buttons(listed)[0] == ("🔞 Luna", OpenCreator(creator_id=luna.id).pack())
    assert "🔞 marca conteúdo para maiores de 18 anos" in text_of(listed)

    [question] = await store.says(ana, f"/start model_{luna.id}_grupo-vip", expect=1)
    assert question["media"] is None  # nothing of hers before the answer
    assert text_of(question).startswith("🔞 Luna publica conteúdo adulto.")
    confirm = ConfirmAge(creator_id=luna.id, source="grupo-vip").pack()
    assert buttons(question)[0] == ("✅ Tenho 18 anos ou mais", confirm)
    assert (await store.user(ana)).age_confirmed_at is None

    answer = await store.press(ana, question, confirm)
    assert answer["answer"]["text"] == "Obrigado! Idade confirmada."
    page = (await store.replies(ana, 5))[-1]
    assert text_of(page).startswith("Luna\n")
    assert Buy.unpack(buttons(page)[0][1]) == Buy(
        product_id=_product_id(page), price_cents=4990, source="grupo-vip"
    )
    confirmed_at = (
        await store.user(ana, until=lambda row: row.age_confirmed_at is not None)
    ).age_confirmed_at

    # Once is enough: from the list, straight to her page (album of 2 + page).
    opened = await store.press(ana, listed, OpenCreator(creator_id=luna.id).pack())
    assert opened["answered"]
    shown = await store.replies(ana, 8)
    assert text_of(shown[-1]).startswith("Luna\n")
    assert (await store.user(ana)).age_confirmed_at == confirmed_at


def _product_id(page: dict[str, Any]) -> int:
    return Buy.unpack(buttons(page)[0][1]).product_id


async def test_buttons_for_a_creator_gone_since_say_so_and_show_the_fresh_list(store: Store) -> None:
    gone = await store.creator(name="Aline", is_adult=True)
    stays = await store.creator(name="Bruna")
    ana = await store.buyer()
    [listed] = await store.says(ana, "/start", expect=1)
    await store.press(ana, listed, OpenCreator(creator_id=gone.id).pack())
    question = (await store.replies(ana, 2))[-1]
    await store.deactivate(gone)

    answer = await store.press(ana, listed, OpenCreator(creator_id=gone.id).pack())
    assert answer["answer"]["text"] == "Esta modelo não está mais disponível. Veja a lista atualizada."
    assert answer["answer"]["show_alert"] is True
    fresh = (await store.replies(ana, 3))[-1]
    assert text_of(fresh).startswith("Esta modelo não está mais disponível.")
    assert buttons(fresh) == [("Bruna", OpenCreator(creator_id=stays.id).pack())]

    # Her 18+ button: the answer is recorded all the same, and the list shown again.
    answer = await store.press(ana, question, ConfirmAge(creator_id=gone.id).pack())
    assert answer["answer"]["text"].startswith("Esta modelo não está mais disponível")
    assert buttons((await store.replies(ana, 4))[-1]) == buttons(fresh)
    await store.user(ana, until=lambda row: row.age_confirmed_at is not None)


async def test_a_creator_page_shows_her_preview_as_the_operator_cropped_it(store: Store) -> None:
    bela = await store.creator(name="Bela", previews=1)
    async with session_scope(store.world.sessions) as session:
        creator = await session.get_one(Creator, bela.id)
        [(asset, _)] = await previews.preview_rows(session, bela.id)
        asset.width, asset.height = 40, 30  # as an upload through the dashboard records them
        await crop.set_crop(
            session, creator, asset.id, CropBox(x=5, y=5, width=20, height=10), Actor.system("test")
        )
    ana = await store.buyer()
    [page] = await store.says(ana, f"/start model_{bela.id}", expect=1)
    assert page["media"]["kind"] == "photo" and text_of(page).startswith("Bela\n")
    assert (page["media"]["width"], page["media"]["height"]) == (20, 10)
