"""The Products pages over real HTTP (the dashboard on uvicorn, PostgreSQL and SQLite): who may see
and do what, prices typed as operators type them, refusals that say why and keep what was typed,
forged and viewer posts that change nothing, media managed from the page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.factories import make_product
from tests.fixtures.dashboard import Person
from tests.product.conftest import Catalog, png
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole, ProductType

People = dict[OperatorRole | None, Person]
ROLES = (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN)


def form(**changes: str) -> dict[str, str]:
    fields = {"title": "Pack Verão", "type": "content", "price": "29,90", "is_active": "1"}
    return {**fields, **changes}


async def test_pages_need_a_login_and_any_role_reads_them(catalog: Catalog, staff: People) -> None:
    product = await catalog.product(title="Pack Fitness")
    media = await staff[OperatorRole.ADMIN].api(
        "POST", f"/api/v1/products/{product.id}/media", files=[("media", ("a.png", png(33), "image/png"))]
    )
    asset = media.json()["added"][0]
    pages = [
        "/products",
        f"/creators/{catalog.creator.id}/products/new",
        f"/products/{product.id}",
        f"/products/{product.id}/media/{asset}",
    ]
    for path in pages:
        anonymous = await staff[None].http.get(path)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login", path
    for role in ROLES:
        listing = await staff[role].http.get("/products")
        assert listing.status_code == 200 and f'<tr id="product-{product.id}"' in listing.text
        new = await staff[role].http.get(f"/creators/{catalog.creator.id}/products/new")
        assert new.status_code == 200 and "New product of Amanda Silva" in new.text
        assert "VIP Amanda" in new.text and "Antigo" not in new.text  # the bot left that group
        page = await staff[role].http.get(f"/products/{product.id}")
        assert (
            page.status_code == 200 and "Pack Fitness" in page.text and f'data-asset="{asset}"' in page.text
        )
        # Only those who may act get the forms.
        assert ('type="file"' in page.text) is (role is not OperatorRole.VIEWER)
        image = await staff[role].http.get(f"/products/{product.id}/media/{asset}")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert Image.open(__import__("io").BytesIO(image.content)).size == (33, 20)
    viewer = staff[OperatorRole.VIEWER]
    assert (await viewer.http.get("/products/999999")).status_code == 404
    assert (await viewer.http.get("/creators/999999/products/new")).status_code == 404
    assert (await viewer.http.get(f"/products/{product.id}/media/999999")).status_code == 404


@pytest.mark.parametrize(
    ("typed", "cents"), [("29,90", 2990), ("29.90", 2990), ("R$ 1.234,56", 123456), ("7", 700)]
)
async def test_a_price_is_read_as_the_operator_types_it(
    catalog: Catalog, staff: People, typed: str, cents: int
) -> None:
    answer = await staff[OperatorRole.OPERATOR].submit(
        f"/creators/{catalog.creator.id}/products/new", **form(price=typed)
    )
    assert answer.status_code == 303, answer.text
    (product,) = await catalog.products()
    assert answer.headers["location"] == f"/products/{product.id}"
    assert product.price_cents == cents and product.title == "Pack Verão" and product.is_active
    assert await catalog.audit(product.id) == ["product.created"]
    operator = staff[OperatorRole.OPERATOR]
    assert "Product “Pack Verão” created" in (await operator.http.get(f"/products/{product.id}")).text
    assert "created" not in (await operator.http.get(f"/products/{product.id}")).text  # shown once


async def test_bad_input_is_refused_with_the_reason_and_the_typed_form_kept(
    catalog: Catalog, staff: People
) -> None:
    operator = staff[OperatorRole.OPERATOR]
    path = f"/creators/{catalog.creator.id}/products/new"
    cases = [
        (form(price="0"), 400, "is not an amount in reais"),
        (form(price="-1"), 400, "is not an amount in reais"),
        (form(price="1,999"), 400, "is not an amount in reais"),
        (form(price=""), 422, "price is required"),
        (form(price="99.999.999,00"), 422, "is more than a price may be"),
        (form(stars_price="0"), 422, "Stars price must be a whole number above 0"),
        (form(type="subscription"), 422, "subscription days must be more than 0"),
        (form(type="subscription", subscription_days="-3"), 422, "subscription days must be a whole number"),
        (form(access_chat_id=str(catalog.chat_the_bot_left.telegram_id)), 422, "the bot is an administrator"),
        (form(title=" "), 422, "title"),
    ]
    for fields, status, reason in cases:
        answer = await operator.submit(
            path, title=fields.pop("title"), description="Fotos na praia", **fields
        )
        assert answer.status_code == status, (fields, answer.text)
        assert reason in answer.text, (fields, reason)
        assert 'role="alert"' in answer.text and "Fotos na praia</textarea>" in answer.text
    assert await catalog.products() == []


async def test_forged_and_viewer_posts_change_nothing(catalog: Catalog, staff: People) -> None:
    product = await catalog.product(price_cents=1990)
    base = f"/products/{product.id}"
    posts = [
        (f"/creators/{catalog.creator.id}/products/new", form()),
        (base, form(price="9,90")),
        (f"{base}/active", {"active": "0"}),
        (f"{base}/media/previews", {}),
        (f"{base}/media/1/move", {"direction": "up"}),
        (f"{base}/media/1/remove", {}),
    ]
    for path, fields in posts:
        forged = await staff[OperatorRole.ADMIN].submit(path, csrf="forged", **fields)
        assert forged.status_code == 403 and "form expired" in forged.text, path
        viewer = await staff[OperatorRole.VIEWER].submit(path, **fields)
        assert viewer.status_code == 403 and "operator role" in viewer.text, path
        anonymous = await staff[None].submit(path, **fields)
        assert anonymous.status_code in (303, 401, 403), path
    upload = await staff[OperatorRole.VIEWER].submit(
        f"{base}/media", files=[("media", ("a.png", png(30), "image/png"))]
    )
    assert upload.status_code == 403
    assert [(p.id, p.price_cents, p.is_active) for p in await catalog.products()] == [
        (product.id, 1990, True)
    ]
    assert await catalog.assets() == 0 and await catalog.audit(product.id) == []


async def test_editing_and_deactivating_from_the_page(catalog: Catalog, staff: People) -> None:
    product = await catalog.product(price_cents=1990)
    admin = staff[OperatorRole.ADMIN]
    page = await admin.http.get(f"/products/{product.id}")
    assert 'value="19,90"' in page.text
    fields = form(title="Pack Inverno", price="R$ 39,90", type="subscription", subscription_days="30")
    fields["access_chat_id"] = str(catalog.chat.telegram_id)
    saved = await admin.submit(f"/products/{product.id}", stars_price="200", **fields)
    assert saved.status_code == 303
    changed = await catalog.get(product.id)
    assert (changed.title, changed.price_cents, changed.type, changed.subscription_days) == (
        "Pack Inverno",
        3990,
        ProductType.SUBSCRIPTION,
        30,
    )
    assert changed.access_chat_id == catalog.chat.telegram_id and changed.stars_price == 200
    refused = await admin.submit(f"/products/{product.id}", **form(price="1,999", title="Nunca"))
    assert refused.status_code == 400 and 'value="Nunca"' in refused.text
    assert (await catalog.get(product.id)).title == "Pack Inverno"

    off = await admin.submit(f"/products/{product.id}/active", active="0")
    assert off.status_code == 303 and not (await catalog.get(product.id)).is_active
    assert "inactive" in (await admin.http.get(f"/products/{product.id}")).text
    assert (await admin.submit(f"/products/{product.id}/active", active="1")).status_code == 303
    assert (await catalog.get(product.id)).is_active
    assert await catalog.audit(product.id) == [
        "product.updated",
        "product.refused",
        "product.deactivated",
        "product.activated",
    ]


async def test_media_from_the_page_upload_order_previews_and_removal(
    catalog: Catalog, staff: People, tmp_path: Path
) -> None:
    product = await catalog.product()
    operator = staff[OperatorRole.OPERATOR]
    base = f"/products/{product.id}"
    files = [("media", (f"{w}.png", png(w), "image/png")) for w in (30, 31, 32)]
    assert (await operator.submit(f"{base}/media", files=files)).status_code == 303
    ids = [asset.id for _, asset in await catalog.media(product.id)]

    assert (await operator.submit(f"{base}/media/{ids[2]}/move", direction="up")).status_code == 303
    assert (
        await operator.submit(f"{base}/media/{ids[0]}/move", direction="up")
    ).status_code == 303  # at the top
    bad = await operator.submit(f"{base}/media/{ids[0]}/move", direction="sideways")
    assert bad.status_code == 422 and "direction must be up or down" in bad.text
    assert [asset.width for _, asset in await catalog.media(product.id)] == [30, 32, 31]
    assert (await operator.submit(f"{base}/media/previews", preview=[str(ids[1])])).status_code == 303
    assert [link.is_preview for link, _ in await catalog.media(product.id)] == [False, False, True]
    assert (await operator.submit(f"{base}/media/{ids[2]}/remove")).status_code == 303
    assert [asset.width for _, asset in await catalog.media(product.id)] == [30, 31]
    assert (await catalog.get(product.id)).photo_count == 2

    page = await operator.http.get(base)
    assert re.findall(r'data-asset="(\d+)"', page.text) == [str(ids[0]), str(ids[1])]
    text = await operator.submit(f"{base}/media", files=[("media", ("notes.txt", b"hello", "text/plain"))])
    assert text.status_code == 422 and "notes.txt is neither a photo nor a video" in text.text
    noise = Image.frombytes("RGB", (1900, 1900), os.urandom(1900 * 1900 * 3))
    noise.save(tmp_path / "big.png", format="PNG", compress_level=0)
    big = await operator.submit(
        f"{base}/media", files=[("media", ("big.png", (tmp_path / "big.png").read_bytes(), "image/png"))]
    )
    assert big.status_code == 413 and "a photo may be at most 10 MB" in big.text
    nothing = await operator.submit(f"{base}/media")
    assert nothing.status_code == 422 and "choose at least one file" in nothing.text
    assert len(await catalog.media(product.id)) == 2 and await catalog.assets() == 3


async def test_the_list_filters_and_pages_on_the_server(catalog: Catalog, staff: People) -> None:
    async with session_scope(catalog.desk.sessions) as session:
        for n in range(52):
            await make_product(session, creator=catalog.creator, title=f"Pack {n:02d}", is_active=n % 2 == 0)
        await make_product(session, title="De outra", kind=ProductType.SUBSCRIPTION)
    viewer = staff[OperatorRole.VIEWER]
    first = await viewer.http.get("/products")
    assert "53 products" in first.text and "Page 1 of 2" in first.text and "De outra" in first.text
    second = await viewer.http.get("/products?page=2")
    assert "Pack 00" in second.text and "Pack 51" not in second.text
    mine = await viewer.http.get(f"/products?creator_id={catalog.creator.id}&active=0")
    assert "26 products" in mine.text and "Pack 01" in mine.text and "Pack 02" not in mine.text
    subs = await viewer.http.get("/products?type=subscription")
    assert "1 product" in subs.text and "De outra" in subs.text
    odd = await viewer.http.get("/products?type=nonsense&active=maybe&creator_id=x")
    assert odd.status_code == 200 and "53 products" in odd.text
