"""Creators in the JSON API over real HTTP (the dashboard on uvicorn, PostgreSQL and SQLite, Redis,
the media folder): every route against every role, CSRF on every change, bad input refused with
nothing changed, every change audited, and the promo job queued after the commit."""

from __future__ import annotations

from bullmq import Job
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.creator.dashboard import png, size_of, stored_files, trail
from tests.factories import make_bot, make_creator, make_group, make_product
from tests.fixtures.dashboard import Desk, Person
from tgadmin.db import session_scope
from tgadmin.models import Creator
from tgadmin.models.enums import BotMemberStatus, OperatorRole
from tgadmin.queue.names import QueueName

Staff = dict[OperatorRole | None, Person]
NEW = {"name": "Bia Rocha", "username": "bia_rocha", "tier": "silver", "country": "Brazil", "bio": "Oi"}


async def a_creator(desk: Desk, **kw: object) -> Creator:
    async with session_scope(desk.sessions) as session:
        return await make_creator(session, **kw)  # type: ignore[arg-type]


async def upload(
    person: Person, creator_id: int, data: bytes, name: str = "p.png", kind: str = "image/png"
) -> dict:  # type: ignore[type-arg]
    answer = await person.api(
        "POST", f"/api/v1/creators/{creator_id}/previews", files={"file": (name, data, kind)}
    )
    return {"status": answer.status_code, "body": answer.json() if answer.content else None}


async def test_reads_need_a_login_and_any_role(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk, name="Ana Lima")
    nobody = staff[None]
    for path in ("/api/v1/creators", f"/api/v1/creators/{creator.id}"):
        refused = await nobody.http.get(path)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    for role in (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN):
        listing = await staff[role].http.get("/api/v1/creators")
        assert listing.status_code == 200 and [c["name"] for c in listing.json()["items"]] == ["Ana Lima"]
        one = await staff[role].http.get(f"/api/v1/creators/{creator.id}")
        assert one.status_code == 200 and one.json()["username"] == creator.username
    assert (await nobody.http.get("/api/v1/creators/999999")).status_code == 401
    assert (await staff[OperatorRole.VIEWER].http.get("/api/v1/creators/999999")).status_code == 404


async def test_changes_need_the_operator_role_and_the_csrf_header(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk, name="Ana Lima")
    for who, expected in ((None, 401), (OperatorRole.VIEWER, 403)):
        person = staff[who]
        assert (await person.api("POST", "/api/v1/creators", json=NEW)).status_code == expected
        patch = await person.api("PATCH", f"/api/v1/creators/{creator.id}", json={"name": "X"})
        assert patch.status_code == expected
        assert (await upload(person, creator.id, png()))["status"] == expected
    forged = await staff[OperatorRole.OPERATOR].api("POST", "/api/v1/creators", json=NEW, csrf="forged")
    assert forged.status_code == 403 and "did not come from this dashboard" in forged.json()["message"]
    # Nothing the refused calls asked for happened, and nothing was recorded.
    listing = (await staff[OperatorRole.ADMIN].http.get("/api/v1/creators")).json()
    assert [c["name"] for c in listing["items"]] == ["Ana Lima"]
    assert await trail(desk, creator.id) == []

    made = await staff[OperatorRole.OPERATOR].api(
        "POST", "/api/v1/creators", json={**NEW, "username": "@bia_rocha"}
    )
    assert made.status_code == 201 and made.json()["username"] == "bia_rocha" and made.json()["is_active"]
    changed = await staff[OperatorRole.ADMIN].api(
        "PATCH", f"/api/v1/creators/{made.json()['id']}", json={"tier": "gold", "is_adult": True}
    )
    assert changed.status_code == 200 and (changed.json()["tier"], changed.json()["is_adult"]) == (
        "gold",
        True,
    )
    off = await staff[OperatorRole.OPERATOR].api(
        "PATCH", f"/api/v1/creators/{made.json()['id']}", json={"is_active": False}
    )
    assert off.status_code == 200 and off.json()["is_active"] is False
    rows = await trail(desk, made.json()["id"])
    assert [r.action for r in rows] == ["creator.created", "creator.updated", "creator.deactivated"]
    assert rows[1].before is not None and rows[1].before["tier"] == "silver"
    assert rows[1].after is not None and rows[1].after["tier"] == "gold"
    assert all(r.actor_label and r.actor_label.startswith("op") for r in rows)


async def test_a_duplicate_or_malformed_username_is_refused_clearly(desk: Desk, staff: Staff) -> None:
    taken = await a_creator(desk)
    operator = staff[OperatorRole.OPERATOR]
    duplicate = await operator.api(
        "POST", "/api/v1/creators", json={**NEW, "username": taken.username.upper()}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["message"] == (
        f"the username @{taken.username.upper()} is already taken by another creator; choose another"
    )
    other = (await operator.api("POST", "/api/v1/creators", json=NEW)).json()
    renamed = await operator.api(
        "PATCH", f"/api/v1/creators/{other['id']}", json={"username": taken.username}
    )
    assert renamed.status_code == 409 and "already taken" in renamed.json()["message"]
    bad = await operator.api("POST", "/api/v1/creators", json={**NEW, "username": "a b"})
    assert bad.status_code == 422
    assert (await operator.http.get(f"/api/v1/creators/{other['id']}")).json()["username"] == "bia_rocha"


async def test_the_list_searches_name_and_username_and_pages(desk: Desk, staff: Staff) -> None:
    async with session_scope(desk.sessions) as session:
        for n in range(7):
            await make_creator(session, name=f"Carla {n}")
        await make_creator(session, name="Zoe 100%")
    viewer = staff[OperatorRole.VIEWER]
    page = (await viewer.http.get("/api/v1/creators", params={"q": "carla", "limit": 3, "offset": 3})).json()
    assert page["total"] == 7 and [c["name"] for c in page["items"]] == ["Carla 3", "Carla 4", "Carla 5"]
    by_username = (await viewer.http.get("/api/v1/creators", params={"q": "MODELO_"})).json()
    assert by_username["total"] == 8
    literal = (await viewer.http.get("/api/v1/creators", params={"q": "0%"})).json()
    assert [c["name"] for c in literal["items"]] == ["Zoe 100%"]


async def test_previews_upload_crop_order_and_removal(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk)
    operator = staff[OperatorRole.OPERATOR]
    first = await upload(operator, creator.id, png(400, 300))
    assert first["status"] == 201
    assert (first["body"]["width"], first["body"]["height"], first["body"]["crop"]) == (400, 300, None)
    second = (await upload(operator, creator.id, png(200, 200, "#e4572e")))["body"]
    aid = first["body"]["asset_id"]

    cropped = await operator.api(
        "PUT",
        f"/api/v1/creators/{creator.id}/previews/{aid}/crop",
        json={"x": 40, "y": 30, "width": 120, "height": 90},
    )
    assert cropped.status_code == 200 and cropped.json()["crop"] == {
        "x": 40,
        "y": 30,
        "width": 120,
        "height": 90,
    }
    served = await staff[OperatorRole.VIEWER].http.get(cropped.json()["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert size_of(served.content) == (120, 90)

    order = await operator.api(
        "PUT", f"/api/v1/creators/{creator.id}/previews/order", json={"asset_ids": [second["asset_id"], aid]}
    )
    assert [p["asset_id"] for p in order.json()] == [second["asset_id"], aid]
    wrong = await operator.api(
        "PUT", f"/api/v1/creators/{creator.id}/previews/order", json={"asset_ids": [aid]}
    )
    assert wrong.status_code == 400 and "each of the creator's previews once" in wrong.json()["message"]

    gone = await operator.api("DELETE", f"/api/v1/creators/{creator.id}/previews/{second['asset_id']}")
    assert gone.status_code == 204
    detail = (await operator.http.get(f"/api/v1/creators/{creator.id}")).json()
    assert [p["asset_id"] for p in detail["previews"]] == [aid]
    assert stored_files(desk, "*.png") == 1  # its file left storage too
    actions = [r.action for r in await trail(desk, creator.id)]
    assert actions == ["creator.preview_added"] * 2 + [
        "creator.preview_cropped",
        "creator.previews_reordered",
        "creator.preview_removed",
    ]


async def test_bad_uploads_and_crops_are_refused_and_change_nothing(desk: Desk, staff: Staff) -> None:
    creator = await a_creator(desk)
    operator = staff[OperatorRole.OPERATOR]
    text = await upload(operator, creator.id, b"%PDF-1.4 not a picture", "cv.pdf", "image/png")
    assert (
        text["status"] == 400
        and text["body"]["message"] == "the file is not an image (JPEG, PNG or WebP); nothing was saved"
    )
    huge = await upload(operator, creator.id, b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 10))
    assert huge["status"] == 413 and "larger than 10 MB" in huge["body"]["message"]
    aid = (await upload(operator, creator.id, png(400, 300)))["body"]["asset_id"]
    outside = await operator.api(
        "PUT",
        f"/api/v1/creators/{creator.id}/previews/{aid}/crop",
        json={"x": 300, "y": 0, "width": 200, "height": 100},
    )
    assert outside.status_code == 400
    assert (
        outside.json()["message"]
        == "the crop box (300, 0, 200×100) lies outside the 400×300 image; nothing was changed"
    )
    detail = (await operator.http.get(f"/api/v1/creators/{creator.id}")).json()
    assert [(p["asset_id"], p["crop"]) for p in detail["previews"]] == [(aid, None)]
    served = await operator.http.get(detail["previews"][0]["url"])
    assert size_of(served.content) == (400, 300)
    assert stored_files(desk) == 1
    assert [r.action for r in await trail(desk, creator.id)] == ["creator.preview_added"]


async def test_the_detail_lists_products_and_the_deep_link(desk: Desk, staff: Staff) -> None:
    async with session_scope(desk.sessions) as session:
        bot = await make_bot(session)
        creator = await make_creator(session)
        product = await make_product(
            session, creator=creator, title="Pack Inverno", price_cents=2990, is_active=False
        )
    detail = (await staff[OperatorRole.VIEWER].http.get(f"/api/v1/creators/{creator.id}")).json()
    assert detail["deep_link"] == f"https://t.me/{bot.username}?start=model_{creator.id}"
    assert detail["products"] == [
        {
            "id": product.id,
            "title": "Pack Inverno",
            "type": "content",
            "price_cents": 2990,
            "currency": "BRL",
            "is_active": False,
        }
    ]


async def test_send_promo_queues_the_job_after_the_commit(desk: Desk, staff: Staff) -> None:
    async with session_scope(desk.sessions) as session:
        bot = await make_bot(session)
        group = await make_group(session, bot, title="Ofertas")
        member_only = await make_group(session, bot, status=BotMemberStatus.MEMBER, title="Sem admin")
        creator = await make_creator(session)
    operator = staff[OperatorRole.OPERATOR]
    path = f"/api/v1/creators/{creator.id}/promo"
    no_photo = await operator.api("POST", path, json={"group_id": group.id})
    assert no_photo.status_code == 409 and "no preview photo" in no_photo.json()["message"]
    await upload(operator, creator.id, png())
    assert (
        await staff[OperatorRole.VIEWER].api("POST", path, json={"group_id": group.id})
    ).status_code == 403
    not_admin = await operator.api("POST", path, json={"group_id": member_only.id})
    assert not_admin.status_code == 409 and "where the bot is an administrator" in not_admin.json()["message"]

    queued = await operator.api("POST", path, json={"group_id": group.id})
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job_id"]
    job = await Job.fromId(desk.queues.queue(QueueName.BOT_TASKS), job_id)
    assert job is not None and job.name == "send-promo"
    assert job.data == {"creatorId": creator.id, "groupId": group.id}
    [row] = [r for r in await trail(desk, creator.id) if r.action == "creator.promo_requested"]
    assert row.after == {"group_id": group.id, "group": "Ofertas", "job_id": job_id}


async def test_the_list_walks_its_index_and_the_search_uses_trigrams_on_postgresql(
    session: AsyncSession,
) -> None:
    dialect = session.get_bind().dialect.name
    listing = "select id from creators order by name, id limit 50"
    search = "select id from creators where name ilike '%ana%' or username ilike '%ana%'"
    if dialect == "sqlite":
        plan = " ".join(
            str(row) for row in (await session.execute(text("explain query plan " + listing))).all()
        )
        # Any index on name serves (name, id) here: SQLite appends the row id to every index.
        assert "INDEX ix_creators_name" in plan and "TEMP B-TREE" not in plan
        return
    await session.execute(text("set local enable_seqscan = off"))
    for query, index in ((listing, "ix_creators_name_id"), (search, "ix_creators_name_trgm")):
        plan = " ".join(row[0] for row in (await session.execute(text("explain " + query))).all())
        assert index in plan, plan
    assert "ix_creators_username_trgm" in plan
