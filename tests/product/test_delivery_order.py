"""A pack is delivered in the order the dashboard gave it: files uploaded through the product service,
reordered, then sent by the real worker's `deliver-purchase` to a buyer in the Telegram sandbox."""

from __future__ import annotations

from tests.product.conftest import png
from tests.purchase.conftest import Shop, shop, world_overrides  # noqa: F401 - shared fixtures
from tests.worker.harness import world  # noqa: F401 - shared fixtures
from tgadmin.audit.service import Actor
from tgadmin.db import session_scope
from tgadmin.product import media, service


async def test_the_worker_sends_the_pack_in_the_order_set_on_the_dashboard(shop: Shop) -> None:  # noqa: F811
    buyer, product = await shop.buyer(), await shop.product()
    actor = Actor.system("test")
    uploads = [media.Upload(f"{width}.png", png(width, 24, "blue")) for width in (40, 41, 42, 43)]
    async with session_scope(shop.world.sessions) as session:
        added = (await service.add_media(session, shop.storage, product.id, uploads, actor)).added
        # Last file first, then the rest as uploaded; the second is a preview (delivered all the same).
        await service.reorder(session, product.id, [added[3], *added[:3]], actor)
        await service.set_previews(session, product.id, [added[0]], actor)
    purchase_id = await shop.paid(product, buyer)

    outcome = await shop.deliver(purchase_id)

    assert outcome.state == "completed", outcome.reason
    photos = [m for m in await shop.chat(buyer) if m["media"] is not None]
    assert [m["media"]["width"] for m in photos] == [43, 40, 41, 42]
