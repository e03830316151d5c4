"""The funnel from the sandbox: buyers open a creator through deep links in a real chat (the bot
driven by aiogram against the Telegram sandbox), a checkout follows, and the hour's analytics and
the page's tables count the starts per creator and per source."""

from __future__ import annotations

from datetime import timedelta

from tests.creator.storefront import Store
from tests.factories import make_purchase
from tgadmin.analytics import report, service
from tgadmin.clock import frozen_at, utcnow, zone
from tgadmin.db import session_scope
from tgadmin.models import Campaign, Product

PRODUCTS = [{"title": "Pack Verão", "price_cents": 2990}]


async def test_deep_link_starts_reach_the_hours_funnel_per_creator_and_per_source(store: Store) -> None:
    amanda = await store.creator(name="Amanda Silva", products=PRODUCTS)
    ana, bia, cris = await store.buyer(), await store.buyer(), await store.buyer()
    async with session_scope(store.world.sessions) as session:
        promo = Campaign(name="Black Friday", content={"text": "Promoção"}, scheduled_at=None)
        session.add(promo)
    await store.says(cris, f"/start model_{amanda.id}_c{promo.id}", expect=1)
    await store.settled(cris)
    await store.says(ana, f"/start model_{amanda.id}_g42", expect=1)
    await store.says(bia, f"/start model_{amanda.id}_g42", expect=1)
    await store.says(bia, f"/start model_{amanda.id}", expect=1)
    await store.settled(ana)
    await store.settled(bia)
    hour = service.hour_start(utcnow())
    [pack] = await store.world.rows(Product, Product.creator_id == amanda.id)
    buyer = await store.user(ana)
    async with session_scope(store.world.sessions) as session:
        await make_purchase(session, product=pack, buyer=buyer, source="g42", created_at=hour)

    later = hour + timedelta(hours=1, minutes=5)
    with frozen_at(later):
        async with session_scope(store.world.sessions) as session:
            figures = await service.aggregate_hour(session, hour)
    assert figures["starts", ""] == 4
    assert figures["starts", f"creator={amanda.id}"] == 4
    assert figures["starts", "source=g42"] == 2
    assert figures["purchases_created", "source=g42"] == 1

    async with store.world.sessions() as session:
        built = await report.build(session, report.Span.DAY, zone("America/Sao_Paulo"), now=later)
    [creator_row] = built.tables["creators"].records()
    assert creator_row["creator"] == "Amanda Silva"
    assert (creator_row["starts"], creator_row["checkouts"], creator_row["paid"]) == (4, 1, 0)
    assert creator_row["conversion"] == 0.0
    sources = {row["source"]: row for row in built.tables["sources"].records()}
    assert (sources["g42"]["name"], sources["g42"]["starts"], sources["g42"]["checkouts"]) == ("g42", 2, 1)
    campaign_row = sources[f"c{promo.id}"]
    assert (campaign_row["name"], campaign_row["starts"]) == ("Black Friday", 1)  # named, not a tag
    assert built.totals["starts"] == 4 and built.charts["starts"][-1] == 4
