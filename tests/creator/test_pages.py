"""The Creators pages over real HTTP (the dashboard on uvicorn, PostgreSQL and SQLite): every route
against every role, forms with and without the CSRF token, refusals shown with what was typed, and
each action's outcome as the operator reads it."""

from __future__ import annotations

import re
from pathlib import Path

from bullmq import Job

from tests.creator.dashboard import notice, png, shown_error, size_of, stored_files, trail
from tests.factories import make_bot, make_creator, make_group, make_product
from tests.fixtures.dashboard import Desk, Person
from tgadmin.db import session_scope
from tgadmin.models import Creator
from tgadmin.models.enums import OperatorRole
from tgadmin.queue.names import QueueName
from tgadmin.webkit import i18n

Staff = dict[OperatorRole | None, Person]
ROLES = (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN)
FORM = {"name": "Bia Rocha", "username": "bia_rocha", "tier": "silver", "country": "Brazil", "bio": "Oi"}


async def a_creator(desk: Desk, name: str = "Ana Lima") -> Creator:
    async with session_scope(desk.sessions) as session:
        return await make_creator(session, name=name)


async def api_detail(person: Person, creator_id: int) -> dict:  # type: ignore[type-arg]
    answer = await person.http.get(f"/api/v1/creators/{creator_id}")
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


async def test_pages_need_a_login_and_show_by_role(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk)
    for path in ("/creators", f"/creators/{creator.id}", "/creators/new"):
        refused = await staff[None].http.get(path)
        assert refused.status_code == 303 and refused.headers["location"] == "/login"
    for role in ROLES:
        listing = await staff[role].http.get("/creators")
        assert listing.status_code == 200 and f'<a href="/creators/{creator.id}">Ana Lima</a>' in listing.text
        detail = await staff[role].http.get(f"/creators/{creator.id}")
        assert detail.status_code == 200 and "Ana Lima" in detail.text
        acts = role != OperatorRole.VIEWER
        assert ('action="/creators/new"' in (await staff[role].http.get("/creators/new")).text) is acts
        assert (f'action="/creators/{creator.id}/previews"' in detail.text) is acts
        assert ('href="/creators/new"' in listing.text) is acts
    assert (await staff[OperatorRole.VIEWER].http.get("/creators/new")).status_code == 403


async def test_an_operator_creates_a_creator_and_a_duplicate_keeps_the_form(desk: Desk, staff: Staff) -> None:
    operator = staff[OperatorRole.OPERATOR]
    made = await operator.submit("/creators/new", **FORM, is_adult="1")
    assert made.status_code == 303
    creator_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert await notice(operator, f"/creators/{creator_id}") == "Bia Rocha was created"
    detail = await api_detail(operator, creator_id)
    assert (detail["username"], detail["tier"], detail["is_adult"], detail["bio"]) == (
        "bia_rocha",
        "silver",
        True,
        "Oi",
    )

    again = await operator.submit("/creators/new", **{**FORM, "name": "Bia Outra", "username": "Bia_Rocha"})
    assert again.status_code == 409
    assert (
        shown_error(again.text)
        == "the username @Bia_Rocha is already taken by another creator; choose another"
    )
    assert 'value="Bia Outra"' in again.text and 'value="Bia_Rocha"' in again.text  # nothing typed is lost
    empty = await operator.submit("/creators/new", **{**FORM, "name": "  ", "username": "ok_name"})
    assert empty.status_code == 422 and shown_error(empty.text).startswith("name:")
    total = (await operator.http.get("/api/v1/creators")).json()["total"]
    assert total == 1 and [r.action for r in await trail(desk, creator_id)] == ["creator.created"]


async def test_forged_and_viewer_posts_are_refused_and_change_nothing(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk)
    base = f"/creators/{creator.id}"
    posts: list[tuple[str, dict[str, str]]] = [
        ("/creators/new", FORM),
        (base, {**FORM, "username": "renamed_x"}),
        (f"{base}/active", {"active": "0"}),
        (f"{base}/promo", {"group_id": "1"}),
    ]
    operator = staff[OperatorRole.OPERATOR]
    for path, fields in posts:
        forged = await operator.submit(path, csrf="", **fields)
        assert forged.status_code == 403 and "did not come from this dashboard" in forged.text, path
        viewer = await staff[OperatorRole.VIEWER].submit(path, **fields)
        assert viewer.status_code == 403 and "needs the operator role" in viewer.text, path
        anonymous = await staff[None].submit(path, **fields)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    upload = await operator.submit(
        f"{base}/previews", csrf="x", files={"file": ("a.png", png(), "image/png")}
    )
    assert upload.status_code == 403
    detail = await api_detail(operator, creator.id)
    assert (detail["name"], detail["username"], detail["is_active"], detail["previews"]) == (
        "Ana Lima", creator.username, True, [],
    )  # fmt: skip
    assert await trail(desk, creator.id) == [] and stored_files(desk) == 0


async def test_edit_deactivate_and_activate(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk)
    admin = staff[OperatorRole.ADMIN]
    saved = await admin.submit(
        f"/creators/{creator.id}", **{**FORM, "username": creator.username, "tier": "diamond"}
    )
    assert saved.status_code == 303 and await notice(admin, f"/creators/{creator.id}") == "saved"
    other = await a_creator(desk, "Outra")
    clash = await admin.submit(f"/creators/{creator.id}", **{**FORM, "username": other.username})
    assert clash.status_code == 409 and "already taken" in shown_error(clash.text)
    assert f'value="{other.username}"' in clash.text
    off = await admin.submit(f"/creators/{creator.id}/active", active="0")
    assert off.status_code == 303
    assert await notice(admin, f"/creators/{creator.id}") == "deactivated: hidden from buyers"
    listing = await admin.http.get("/creators", params={"q": "bia"})
    assert "inactive" in listing.text and "1 creators" in listing.text
    assert (await admin.submit(f"/creators/{creator.id}/active", active="1")).status_code == 303
    detail = await api_detail(admin, creator.id)
    assert (detail["name"], detail["tier"], detail["is_active"]) == ("Bia Rocha", "diamond", True)
    actions = [r.action for r in await trail(desk, creator.id)]
    assert actions == ["creator.updated", "creator.deactivated", "creator.activated"]


async def test_the_list_searches_and_pages_on_the_server(desk: Desk, staff: Staff) -> None:
    async with session_scope(desk.sessions) as session:
        for n in range(53):
            await make_creator(session, name=f"Carla {n:02d}")
        await make_creator(session, name="Dora")
    viewer = staff[OperatorRole.VIEWER]
    first = await viewer.http.get("/creators", params={"q": "carla"})
    assert "53 creators" in first.text and "page 1 of 2" in first.text
    assert len(re.findall(r'<tr id="creator-', first.text)) == 50 and "Dora" not in first.text
    second = await viewer.http.get("/creators", params={"q": "carla", "page": 2})
    assert re.findall(r">(Carla \d+)</a>", second.text) == ["Carla 50", "Carla 51", "Carla 52"]
    none = await viewer.http.get("/creators", params={"q": "nobody"})
    assert "No creator matches this search." in none.text


async def test_previews_in_the_page_upload_crop_move_and_remove(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk)
    operator = staff[OperatorRole.OPERATOR]
    base = f"/creators/{creator.id}"
    for colour in ("#111111", "#222222"):
        added = await operator.submit(
            f"{base}/previews", files={"file": ("p.png", png(320, 240, colour), "image/png")}
        )
        assert added.status_code == 303
    assert await notice(operator, base) == "preview photo added"
    first, second = [p["asset_id"] for p in (await api_detail(operator, creator.id))["previews"]]
    crop = await operator.submit(f"{base}/previews/{first}/crop", x="10", y="20", width="100", height="50")
    assert crop.status_code == 303
    assert await notice(operator, base) == "crop saved: buyers get the cropped picture"
    served = await operator.http.get(f"{base}/previews/{first}.jpg")
    assert size_of(served.content) == (100, 50)
    original = await operator.http.get(f"{base}/previews/{first}/original")
    assert size_of(original.content) == (320, 240)
    assert (await operator.submit(f"{base}/previews/{second}/move", direction="up")).status_code == 303
    assert [p["asset_id"] for p in (await api_detail(operator, creator.id))["previews"]] == [second, first]
    assert (await operator.submit(f"{base}/previews/{first}/remove")).status_code == 303
    assert [p["asset_id"] for p in (await api_detail(operator, creator.id))["previews"]] == [second]
    assert stored_files(desk) == 1
    anonymous = await staff[None].http.get(f"{base}/previews/{second}.jpg")
    assert anonymous.status_code == 303


async def test_bad_preview_input_is_shown_on_the_page_and_changes_nothing(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk)
    operator = staff[OperatorRole.OPERATOR]
    base = f"/creators/{creator.id}"
    text = await operator.submit(f"{base}/previews", files={"file": ("a.txt", b"hello", "text/plain")})
    assert text.status_code == 400 and "is not an image" in shown_error(text.text)
    big = await operator.submit(
        f"{base}/previews", files={"file": ("b.png", b"0" * (10 * 1024 * 1024 + 1), "image/png")}
    )
    assert big.status_code == 413 and "larger than 10 MB" in shown_error(big.text)
    assert "at most 10 MB" in big.text  # the limit is stated on the page
    await operator.submit(f"{base}/previews", files={"file": ("p.png", png(320, 240), "image/png")})
    [asset] = [p["asset_id"] for p in (await api_detail(operator, creator.id))["previews"]]
    outside = await operator.submit(
        f"{base}/previews/{asset}/crop", x="300", y="0", width="100", height="100"
    )
    assert outside.status_code == 400
    assert (
        shown_error(outside.text)
        == "the crop box (300, 0, 100×100) lies outside the 320×240 image; nothing was changed"
    )
    negative = await operator.submit(f"{base}/previews/{asset}/crop", x="-1", y="0", width="10", height="10")
    assert negative.status_code == 422
    assert (await api_detail(operator, creator.id))["previews"][0]["crop"] is None
    assert stored_files(desk) == 1
    assert [r.action for r in await trail(desk, creator.id)] == ["creator.preview_added"]


async def test_products_deep_link_and_promo_on_the_detail_page(desk: Desk, staff: Staff) -> None:
    async with session_scope(desk.sessions) as session:
        bot = await make_bot(session)
        group = await make_group(session, bot, title="Ofertas do Dia")
        creator = await make_creator(session, name="Ana Lima")
        product = await make_product(session, creator=creator, title="Pack Verão", price_cents=2990)
    operator = staff[OperatorRole.OPERATOR]
    base = f"/creators/{creator.id}"
    page = (await operator.http.get(base)).text
    assert f'<a href="/products/{product.id}">Pack Verão</a>' in page
    assert f'href="/creators/{creator.id}/products/new"' in page
    assert f"https://t.me/{bot.username}?start=model_{creator.id}" in page and 'id="copy-link"' in page
    assert f'<option value="{group.id}">Ofertas do Dia</option>' in page
    await operator.submit(f"{base}/previews", files={"file": ("p.png", png(), "image/png")})
    sent = await operator.submit(f"{base}/promo", group_id=str(group.id))
    assert sent.status_code == 303
    message = await notice(operator, base)
    found = re.fullmatch(r"promo queued as job (\S+); the worker posts it", message)
    assert found, message
    job = await Job.fromId(desk.queues.queue(QueueName.BOT_TASKS), found.group(1))
    assert job is not None and job.data == {"creatorId": creator.id, "groupId": group.id}
    wrong = await operator.submit(f"{base}/promo", group_id="")
    assert wrong.status_code == 422 and shown_error(wrong.text) == "choose a group for the promo"


async def test_the_pages_speak_portuguese_by_default_every_text_translated(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk)
    admin = staff[OperatorRole.ADMIN]
    listing = await admin.http.get("/creators", headers={"Accept-Language": "pt-BR"})
    assert "Buscar por nome ou usuário" in listing.text and "1 criadoras" in listing.text
    detail = await admin.http.get(f"/creators/{creator.id}", headers={"Accept-Language": "pt-BR"})
    assert "Fotos de prévia" in detail.text and "Enviar promoção" in detail.text
    templates = Path(i18n.CATALOG_DIR).parents[1]
    wrapped = {
        text
        for name in ("creators.html", "creator_new.html", "creator_detail.html", "creator_fields.html")
        for text in re.findall(r"""_\((?:"([^"]+)"|'([^']+)')""", (templates / name).read_text())
        for text in text
        if text
    }
    assert wrapped and wrapped - set(i18n.portuguese()) == set()
