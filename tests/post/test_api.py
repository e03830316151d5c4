"""/api/v1/posts, /api/v1/posts/delete and /api/v1/groups/{id}/clear[/count] over real HTTP: every
route against every role, CSRF on the changes, documented refusals, and nothing enqueued by a
refused call."""

from __future__ import annotations

from tests.fixtures.dashboard import Desk, Person
from tests.post.posts_kit import audit_trail, bot_left, shelf, waiting
from tgadmin.clock import utcnow
from tgadmin.models.enums import OperatorRole

Staff = dict[OperatorRole | None, Person]
ACTING = (OperatorRole.OPERATOR, OperatorRole.ADMIN)


async def test_the_list_reads_for_every_role_with_filters_limit_and_offset(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    assert (await staff[None].http.get("/api/v1/posts")).status_code == 401
    for role in (OperatorRole.VIEWER, *ACTING):
        listing = (await staff[role].http.get("/api/v1/posts")).json()
        assert listing["total"] == 6 and len(listing["items"]) == 6
    viewer = staff[OperatorRole.VIEWER].http
    failed = (await viewer.get("/api/v1/posts", params={"status": "failed"})).json()["items"]
    assert [(p["id"], p["group_title"], p["error"]) for p in failed] == [
        (found.posts["failed"].id, "Promoções", "Bad Request: not enough rights")
    ]
    paged = (await viewer.get("/api/v1/posts", params={"limit": 2, "offset": 1})).json()
    assert paged["total"] == 6 and [p["id"] for p in paged["items"]] == [
        found.posts["fresh"].id,
        found.posts["deleted"].id,
    ]
    photos = (await viewer.get("/api/v1/posts", params={"kind": "photo", "group_id": found.promo.id})).json()
    assert [p["id"] for p in photos["items"]] == [found.posts["photo"].id]
    window = {"sent_from": "2999-01-02T00:00:00Z", "sent_to": "2999-01-01T00:00:00Z"}
    reversed_range = await viewer.get("/api/v1/posts", params=window)
    assert reversed_range.status_code == 400 and "reversed" in reversed_range.json()["message"]
    assert (await viewer.get("/api/v1/posts", params={"status": "gone"})).status_code == 422


async def test_delete_answers_the_job_ids_for_operators_only(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    body = {"post_ids": [found.posts["fresh"].id, found.posts["photo"].id]}
    assert (await staff[None].api("POST", "/api/v1/posts/delete", json=body)).status_code == 401
    viewer = await staff[OperatorRole.VIEWER].api("POST", "/api/v1/posts/delete", json=body)
    assert viewer.status_code == 403 and viewer.json()["error"] == "forbidden"
    forged = await staff[OperatorRole.OPERATOR].api("POST", "/api/v1/posts/delete", json=body, csrf="forged")
    assert forged.status_code == 403
    assert await waiting(desk.queues) == []
    started = await staff[OperatorRole.OPERATOR].api("POST", "/api/v1/posts/delete", json=body)
    assert started.status_code == 202
    jobs = started.json()["jobs"]
    assert sorted((job["group_id"], job["messages"]) for job in jobs) == [
        (found.fotos.id, 1),
        (found.promo.id, 1),
    ]
    queued = await waiting(desk.queues)
    assert len(queued) == 2 and {name for name, _ in queued} == {"delete-messages-bulk"}
    for job in jobs:
        read = await staff[OperatorRole.VIEWER].http.get(f"/api/v1/jobs/bot-tasks/{job['job_id']}")
        assert read.status_code == 200 and read.json()["state"] == "waiting"
    assert len(await audit_trail(desk, "post.bulk_delete_requested")) == 2


async def test_refused_deletes_enqueue_nothing(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    admin = staff[OperatorRole.ADMIN]
    for body, status, said in (
        ({"post_ids": []}, 422, ""),
        ({"post_ids": [found.posts["undeletable"].id]}, 409, "only posts still shown (sent)"),
        ({"post_ids": [123456789]}, 404, "no post with id 123456789"),
        ({"posts": [1]}, 422, ""),
    ):
        answer = await admin.api("POST", "/api/v1/posts/delete", json=body)
        assert answer.status_code == status and said in answer.json()["message"], answer.text
    await bot_left(desk, found.promo)
    left = await admin.api("POST", "/api/v1/posts/delete", json={"post_ids": [found.posts["photo"].id]})
    assert left.status_code == 409 and "no longer in group 'Promoções'" in left.json()["message"]
    assert await waiting(desk.queues) == []


async def test_clear_counts_for_every_role_and_starts_for_operators(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    count = f"/api/v1/groups/{found.fotos.id}/clear/count"
    clear = f"/api/v1/groups/{found.fotos.id}/clear"
    assert (await staff[None].http.get(count)).status_code == 401
    for role in (OperatorRole.VIEWER, *ACTING):
        assert (await staff[role].http.get(count)).json() == {
            "matched": 2,
            "past_48_hours": 1,
            "deletable": 1,
        }
    narrowed = await staff[OperatorRole.VIEWER].http.get(count, params={"older_than_days": 2})
    assert narrowed.json() == {"matched": 1, "past_48_hours": 1, "deletable": 0}
    assert (await staff[None].api("POST", clear, json={})).status_code == 401
    assert (await staff[OperatorRole.VIEWER].api("POST", clear, json={})).status_code == 403
    assert (await staff[OperatorRole.OPERATOR].api("POST", clear, json={}, csrf="forged")).status_code == 403
    assert await waiting(desk.queues) == []
    started = await staff[OperatorRole.OPERATOR].api("POST", clear, json={"to_date": utcnow().isoformat()})
    assert started.status_code == 202
    answer = started.json()
    assert answer["count"] == {"matched": 2, "past_48_hours": 1, "deletable": 1}
    assert answer["job"]["group_id"] == found.fotos.id and answer["job"]["job_id"].startswith("clear-")
    ((name, data),) = await waiting(desk.queues)
    assert name == "clear-all-messages" and data["groupDbId"] == found.fotos.id and "toDate" in data


async def test_refused_clears_enqueue_nothing(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    operator = staff[OperatorRole.OPERATOR]
    clear = f"/api/v1/groups/{found.fotos.id}/clear"
    for body, status, said in (
        ({"from_date": "2026-11-30T00:00:00Z", "to_date": "2026-11-01T00:00:00Z"}, 400, "reversed"),
        ({"older_than_days": -1}, 422, ""),
        ({"from_message_id": 9, "to_message_id": 2}, 400, "the message id range is reversed"),
        ({"from_date": "2999-01-01T00:00:00Z"}, 409, "nothing to delete"),
        ({"everything": True}, 422, ""),
    ):
        answer = await operator.api("POST", clear, json=body)
        assert answer.status_code == status and said in answer.json()["message"], answer.text
    count = await operator.http.get(
        f"/api/v1/groups/{found.fotos.id}/clear/count", params={"from_message_id": 5, "to_message_id": 1}
    )
    assert count.status_code == 400
    assert (await operator.api("POST", "/api/v1/groups/999999/clear", json={})).status_code == 404
    await bot_left(desk, found.fotos)
    left = await operator.api("POST", clear, json={})
    assert left.status_code == 409 and "no longer in group 'Fotos VIP'" in left.json()["message"]
    assert await waiting(desk.queues) == []
    assert await audit_trail(desk, "post.clear_requested") == []
