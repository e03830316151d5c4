"""Products in the JSON API over real HTTP (the dashboard on uvicorn, PostgreSQL and SQLite): every
route against every role, CSRF on every change, the field rules, media stored once per content and
kept in order, and an audit row (actor, before, after) for every change."""

from __future__ import annotations

import os
from typing import Any

from PIL import Image

from tests.fixtures.dashboard import Person
from tests.product.conftest import Catalog, mp4, png
from tgadmin.models.enums import OperatorRole, ProductType

People = dict[OperatorRole | None, Person]
ROLES = (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN)


def body(**changes: Any) -> dict[str, Any]:
    return {"title": "Pack Verão", "type": "content", "price_cents": 2990, **changes}


def uploads(*files: tuple[str, bytes, str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("media", file) for file in files]


async def test_reads_need_a_login_and_any_role(catalog: Catalog, staff: People) -> None:
    product = await catalog.product(title="Pack Fitness")
    paths = [
        "/api/v1/products",
        f"/api/v1/creators/{catalog.creator.id}/products",
        f"/api/v1/products/{product.id}",
    ]
    for path in paths:
        refused = await staff[None].http.get(path)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    for role in ROLES:
        listing = await staff[role].http.get("/api/v1/products")
        assert listing.status_code == 200 and [p["id"] for p in listing.json()["items"]] == [product.id]
        mine = await staff[role].http.get(f"/api/v1/creators/{catalog.creator.id}/products")
        assert mine.json()["total"] == 1 and mine.json()["items"][0]["creator_name"] == "Amanda Silva"
        one = await staff[role].http.get(f"/api/v1/products/{product.id}")
        assert one.status_code == 200 and one.json()["title"] == "Pack Fitness" and one.json()["media"] == []
    assert (await staff[OperatorRole.VIEWER].http.get("/api/v1/products/999999")).status_code == 404
    assert (await staff[OperatorRole.VIEWER].http.get("/api/v1/creators/999999/products")).status_code == 404


async def test_changes_need_the_operator_role_and_the_csrf_header_and_change_nothing_otherwise(
    catalog: Catalog, staff: People
) -> None:
    product = await catalog.product(price_cents=1990)
    base = f"/api/v1/products/{product.id}"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/v1/creators/{catalog.creator.id}/products", {"json": body()}),
        ("PATCH", base, {"json": {"price_cents": 100}}),
        ("POST", f"{base}/media", {"files": uploads(("a.png", png(30), "image/png"))}),
        ("PUT", f"{base}/media/order", {"json": {"asset_ids": []}}),
        ("PUT", f"{base}/media/previews", {"json": {"asset_ids": []}}),
        ("DELETE", f"{base}/media/1", {}),
    ]
    operator = staff[OperatorRole.OPERATOR]
    for method, path, kw in calls:
        assert (await staff[None].api(method, path, **kw)).status_code == 401, path
        viewer = await staff[OperatorRole.VIEWER].api(method, path, **kw)
        assert viewer.status_code == 403 and "operator role" in viewer.json()["message"], path
        forged = await operator.api(method, path, csrf="forged", **kw)
        assert forged.status_code == 403 and "form expired" in forged.json()["message"], path
        missing = await operator.http.request(method, path, **kw)
        assert missing.status_code == 403, path
    assert [p.id for p in await catalog.products()] == [product.id]
    assert (await catalog.get(product.id)).price_cents == 1990
    assert await catalog.assets() == 0 and await catalog.audit(product.id) == []
    for role in (OperatorRole.OPERATOR, OperatorRole.ADMIN):
        created = await staff[role].api(
            "POST", f"/api/v1/creators/{catalog.creator.id}/products", json=body()
        )
        assert created.status_code == 201, created.text
        changed = await staff[role].api("PATCH", base, json={"price_cents": 2490})
        assert changed.status_code == 200 and changed.json()["price_cents"] == 2490


async def test_a_product_is_created_with_its_fields_checked_and_audited(
    catalog: Catalog, staff: People
) -> None:
    operator = staff[OperatorRole.OPERATOR]
    path = f"/api/v1/creators/{catalog.creator.id}/products"
    refusals = [
        body(price_cents=0),
        body(price_cents=-1),
        body(stars_price=0),
        body(title="   "),
        body(type="subscription"),
        body(type="subscription", subscription_days=0),
        body(access_chat_id=catalog.chat_the_bot_left.telegram_id),
        body(access_chat_id=-100123),
    ]
    for refused in refusals:
        answer = await operator.api("POST", path, json=refused)
        assert answer.status_code == 422, (refused, answer.text)
    no_days = await operator.api("POST", path, json=body(type="subscription"))
    assert "subscription days must be more than 0" in no_days.json()["message"]
    left = await operator.api("POST", path, json=body(access_chat_id=catalog.chat_the_bot_left.telegram_id))
    assert "where the bot is an administrator" in left.json()["message"]
    assert await catalog.products() == []
    assert (await operator.api("POST", "/api/v1/creators/999999/products", json=body())).status_code == 404

    made = await operator.api(
        "POST",
        path,
        json=body(
            type="subscription",
            subscription_days=30,
            stars_price=150,
            access_chat_id=catalog.chat.telegram_id,
            description="VIP",
        ),
    )
    assert made.status_code == 201, made.text
    product = made.json()
    assert product["type"] == "subscription" and product["subscription_days"] == 30
    assert product["access_chat_id"] == catalog.chat.telegram_id and product["currency"] == "BRL"
    entry = await catalog.last_audit(product["id"])
    assert entry.action == "product.created" and entry.before is None
    assert (
        entry.after is not None and entry.after["price_cents"] == 2990 and entry.after["stars_price"] == 150
    )
    assert entry.actor_label and entry.actor_label.startswith("op") and entry.ip == "127.0.0.1"


async def test_an_update_changes_only_what_was_sent_and_deactivating_is_audited(
    catalog: Catalog, staff: People
) -> None:
    product = await catalog.product(kind=ProductType.CONTENT, price_cents=1990)
    operator = staff[OperatorRole.OPERATOR]
    path = f"/api/v1/products/{product.id}"
    refused = await operator.api("PATCH", path, json={"type": "subscription"})
    assert refused.status_code == 422 and "subscription days" in refused.json()["message"]
    assert (await operator.api("PATCH", path, json={"title": None})).status_code == 422
    assert (await catalog.get(product.id)).type is ProductType.CONTENT

    off = await operator.api("PATCH", path, json={"is_active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False and off.json()["price_cents"] == 1990
    entry = await catalog.last_audit(product.id)
    assert entry.action == "product.deactivated"
    assert entry.before is not None and entry.after is not None
    assert entry.before["is_active"] is True and entry.after["is_active"] is False
    again = await operator.api("PATCH", path, json={"type": "subscription", "subscription_days": 7})
    assert again.json()["type"] == "subscription" and again.json()["subscription_days"] == 7
    # The refused attempts are in the trail too, with their reason.
    assert await catalog.audit(product.id) == [
        "product.refused",
        "product.refused",
        "product.deactivated",
        "product.updated",
    ]
    assert (await operator.api("PATCH", "/api/v1/products/999999", json={"title": "x"})).status_code == 404


async def test_uploaded_media_keep_their_order_and_the_same_file_is_stored_once(
    catalog: Catalog, staff: People
) -> None:
    first, second = await catalog.product(), await catalog.product(title="Outro")
    operator = staff[OperatorRole.OPERATOR]
    files = uploads(
        ("b.png", png(41), "image/png"), ("video.mp4", mp4(), "video/mp4"), ("a.png", png(40), "image/png")
    )
    done = await operator.api("POST", f"/api/v1/products/{first.id}/media", files=files)
    assert done.status_code == 200, done.text
    media = done.json()["product"]["media"]
    assert [(m["content_type"], m["width"], m["position"]) for m in media] == [
        ("image/png", 41, 0),
        ("video/mp4", None, 1),
        ("image/png", 40, 2),
    ]
    assert done.json()["product"]["photo_count"] == 2 and done.json()["product"]["video_count"] == 1
    assert (await catalog.get(first.id)).photo_count == 2

    # The same bytes again: in another pack the stored file is reused, in this pack nothing changes.
    reused = await operator.api(
        "POST", f"/api/v1/products/{second.id}/media", files=uploads(("x.png", png(40), "image/png"))
    )
    assert reused.json()["reused"] == [media[2]["asset_id"]] and await catalog.assets() == 3
    twice = await operator.api(
        "POST", f"/api/v1/products/{first.id}/media", files=uploads(("a.png", png(40), "image/png"))
    )
    assert twice.json()["already_in_pack"] == [media[2]["asset_id"]] and twice.json()["added"] == []
    assert len(twice.json()["product"]["media"]) == 3
    assert await catalog.audit(first.id) == ["product.media_added"]


async def test_non_media_and_oversized_files_are_refused_and_nothing_is_stored(
    catalog: Catalog, staff: People, tmp_path: Any
) -> None:
    product = await catalog.product()
    operator = staff[OperatorRole.OPERATOR]
    path = f"/api/v1/products/{product.id}/media"
    text = await operator.api(
        "POST",
        path,
        files=uploads(("ok.png", png(30), "image/png"), ("notes.png", b"just text", "image/png")),
    )
    assert text.status_code == 422 and "notes.png is neither a photo nor a video" in text.json()["message"]
    noise = Image.frombytes("RGB", (1900, 1900), os.urandom(1900 * 1900 * 3))
    big = tmp_path / "big.png"
    noise.save(big, format="PNG", compress_level=0)
    assert big.stat().st_size > 10 * 1024 * 1024
    huge = await operator.api("POST", path, files=uploads(("big.png", big.read_bytes(), "image/png")))
    assert huge.status_code == 413
    assert "big.png is 10.3 MB: a photo may be at most 10 MB" in huge.json()["message"]
    assert (
        await operator.api("POST", path, files=uploads(("empty.png", b"", "image/png")))
    ).status_code == 422
    assert await catalog.media(product.id) == [] and await catalog.assets() == 0
    assert not list((tmp_path / "media").rglob("*.png"))
    assert await catalog.audit(product.id) == ["product.refused"] * 3
    attempt = await catalog.last_audit(product.id)
    assert attempt.after == {"attempted": f"POST {path}", "reason": "empty.png is empty; nothing was saved"}


async def test_order_previews_and_removal_follow_the_operator_and_are_audited(
    catalog: Catalog, staff: People
) -> None:
    product = await catalog.product()
    operator = staff[OperatorRole.OPERATOR]
    base = f"/api/v1/products/{product.id}"
    files = uploads(*((f"{w}.png", png(w), "image/png") for w in (30, 31, 32)))
    ids = [
        m["asset_id"]
        for m in (await operator.api("POST", f"{base}/media", files=files)).json()["product"]["media"]
    ]

    for wrong in ([ids[0], ids[1]], [ids[0], ids[0], ids[1], ids[2]], [*ids, 999]):
        answer = await operator.api("PUT", f"{base}/media/order", json={"asset_ids": wrong})
        assert answer.status_code == 422 and "exactly once" in answer.json()["message"]
    new_order = [ids[2], ids[0], ids[1]]
    moved = await operator.api("PUT", f"{base}/media/order", json={"asset_ids": new_order})
    assert [m["asset_id"] for m in moved.json()["media"]] == new_order
    assert [m["width"] for m in moved.json()["media"]] == [32, 30, 31]

    assert (await operator.api("PUT", f"{base}/media/previews", json={"asset_ids": [999]})).status_code == 422
    marked = await operator.api("PUT", f"{base}/media/previews", json={"asset_ids": [ids[1]]})
    assert [m["is_preview"] for m in marked.json()["media"]] == [False, False, True]

    assert (await operator.api("DELETE", f"{base}/media/999")).status_code == 404
    left = await operator.api("DELETE", f"{base}/media/{ids[0]}")
    assert left.status_code == 200
    assert [(m["asset_id"], m["position"]) for m in left.json()["media"]] == [(ids[2], 0), (ids[1], 1)]
    assert left.json()["photo_count"] == 2 and (await catalog.get(product.id)).photo_count == 2
    trail = await catalog.audit(product.id)
    assert [action for action in trail if action != "product.refused"] == [
        "product.media_added",
        "product.media_reordered",
        "product.previews_set",
        "product.media_removed",
    ]
    assert trail.count("product.refused") == 5
    entry = await catalog.last_audit(product.id)
    assert entry.before is not None and entry.after is not None
    assert entry.before["order"] == new_order and entry.after["order"] == [ids[2], ids[1]]
