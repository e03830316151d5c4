"""`/start model_<id>[_<source>]`: the creator opens with previews and products, the source is kept
once; payloads that name no creator get a friendly word and the list."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.creator.storefront import Store, buttons, text_of
from tgadmin.models import Creator, MediaFileId, Product, StorefrontStart
from tgadmin.models.enums import CreatorTier
from tgadmin.telegram.callbacks import Buy, CatalogPage, OpenCreator

PRODUCTS = [
    {"title": "Pack Verão", "price_cents": 2990},
    {"title": "Assinatura VIP", "price_cents": 7990, "stars_price": 150},
]


async def cached_file_ids(store: Store) -> int:
    async with store.world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MediaFileId)) or 0)


async def products_of(store: Store, creator: Creator) -> list[Product]:
    return sorted(
        await store.world.rows(Product, Product.creator_id == creator.id), key=lambda p: p.price_cents
    )


async def test_deep_link_with_source_opens_the_creator_and_stores_the_first_source_only(store: Store) -> None:
    amanda = await store.creator(
        name="Amanda Silva",
        tier=CreatorTier.GOLD,
        country="Brasil",
        bio="Conteúdo exclusivo toda semana.",
        previews=3,
        products=PRODUCTS,
    )
    pack, vip = await products_of(store, amanda)
    ana = await store.buyer()

    shown = await store.says(ana, f"/start model_{amanda.id}_grupo-praia", expect=4)
    photos, page = shown[:3], shown[3]
    assert [m["media"]["kind"] for m in photos] == ["photo"] * 3
    assert len({m["media_group_id"] for m in photos}) == 1 and photos[0]["media_group_id"]
    assert text_of(page).startswith("Amanda Silva\n🥇 Ouro · Brasil\n\nConteúdo exclusivo toda semana.")
    assert buttons(page) == [
        ("Pack Verão — R$ 29,90", Buy(product_id=pack.id, price_cents=2990, source="grupo-praia").pack()),
        (
            "Assinatura VIP — R$ 79,90 · ⭐ 150",
            Buy(product_id=vip.id, price_cents=7990, source="grupo-praia").pack(),
        ),
        ("⬅️ Todas as modelos", CatalogPage(page=0).pack()),
    ]
    await store.settled(ana)
    assert (await store.user(ana)).source == "grupo-praia"
    assert await cached_file_ids(store) == 3  # uploaded once, file_ids kept for this bot

    again = await store.says(ana, f"/start model_{amanda.id}_outro-grupo", expect=4)
    assert [m["media"]["kind"] for m in again[:3]] == ["photo"] * 3
    assert [m["media"]["file_id"] for m in again[:3]] == [m["media"]["file_id"] for m in photos]
    await store.settled(ana)
    assert (await store.user(ana)).source == "grupo-praia"  # the first source stays
    assert await cached_file_ids(store) == 3
    # Every start through a link is counted for conversion analytics, each with its own source.
    starts = await store.world.rows(StorefrontStart, StorefrontStart.creator_id == amanda.id)
    user_id = (await store.user(ana)).id
    assert sorted((s.source, s.user_id) for s in starts) == [
        ("grupo-praia", user_id),
        ("outro-grupo", user_id),
    ]


async def test_english_buyer_sees_one_preview_with_the_page_and_english_prices(store: Store) -> None:
    bia = await store.creator(name="Bia", tier=CreatorTier.DIAMOND, previews=1, products=PRODUCTS[1:])
    [vip] = await products_of(store, bia)
    john = await store.buyer(language="en-US")

    [page] = await store.says(john, f"/start model_{bia.id}", expect=1)
    assert page["media"]["kind"] == "photo" and page["media_group_id"] is None
    assert text_of(page).startswith("Bia\n💎 Diamond")
    assert buttons(page)[0] == (
        "Assinatura VIP — R$79.90 · ⭐ 150",
        Buy(product_id=vip.id, price_cents=7990, source="").pack(),
    )
    await store.settled(john)
    assert (await store.user(john)).source is None


async def test_a_creator_without_previews_shows_its_page_as_text(store: Store) -> None:
    carla = await store.creator(name="Carla", bio="Oi!", products=PRODUCTS[:1])
    ana = await store.buyer()
    [page] = await store.says(ana, f"/start model_{carla.id}", expect=1)
    assert page["media"] is None
    assert text_of(page).startswith("Carla\n🥉 Bronze\n\nOi!")
    assert buttons(page)[0][0] == "Pack Verão — R$ 29,90"


@pytest.mark.parametrize(
    "payload",
    [
        "model_abc",
        "model_",
        "model_99999999999999999999",
        "model_0",
        "junk",
        "model_{gone}",
        "model_{asleep}",
    ],
)
async def test_a_payload_naming_no_active_creator_gets_a_friendly_word_and_the_list(
    store: Store, payload: str
) -> None:
    listed = await store.creator(name="Amanda Silva")
    asleep = await store.creator(name="Zuleica", is_active=False)
    ana = await store.buyer()
    link = payload.format(gone=asleep.id + 1000, asleep=asleep.id)

    [reply] = await store.says(ana, f"/start {link}", expect=1)
    assert text_of(reply).startswith("🤔 Não encontramos o que esse link procura")
    assert buttons(reply) == [("Amanda Silva", OpenCreator(creator_id=listed.id).pack())]
    await store.settled(ana)
    assert (await store.user(ana)).source is None
