"""The group API over HTTP, for every role: reads for viewers, actions for operators and admins (with
the CSRF header), 401 for anonymous; bad input refused in the one error shape, nothing changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.factories import make_bot, make_group
from tests.fixtures.dashboard import Desk, Person
from tests.group.photo import png_bytes
from tgadmin.db import session_scope
from tgadmin.models import AuditLog, Group
from tgadmin.models.enums import BotMemberStatus, OperatorRole
from tgadmin.queue.names import JobName

VIEWER, OPERATOR, ADMIN = OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN
Staff = dict[OperatorRole | None, Person]


async def _group(desk: Desk, **kw: Any) -> Group:
    async with session_scope(desk.sessions) as session:
        group = await make_group(session, await make_bot(session), **kw)
        group.bot_rights = {"can_delete_messages": True, "can_invite_users": True}
        return group


async def _row(desk: Desk, group_id: int) -> Group:
    async with desk.sessions() as session:
        found = await session.get(Group, group_id)
        assert found is not None
        return found


async def _waiting(desk: Desk, job: JobName) -> int:
    """How many `job` jobs wait in their queue (the queue holds other job types too)."""
    waiting = await desk.queues.queue(job.queue).getJobs(["waiting", "delayed", "prioritized"])
    return sum(1 for found in waiting if found.name == str(job))


async def test_reads_need_a_viewer_and_actions_an_operator_with_the_csrf_header(
    desk: Desk, staff: Staff
) -> None:
    group = await _group(desk, title="API")
    gid = group.id
    assert (await staff[None].api("GET", "/api/v1/groups")).status_code == 401
    assert (await staff[None].api("GET", f"/api/v1/groups/{gid}")).status_code == 401
    for role in (VIEWER, OPERATOR, ADMIN):
        listing = (await staff[role].api("GET", "/api/v1/groups")).json()
        assert listing["total"] == 1 and listing["items"][0]["title"] == "API"
        one = (await staff[role].api("GET", f"/api/v1/groups/{gid}")).json()
        assert {a["name"]: a["ok"] for a in one["abilities"]} == {
            "post": True,
            "delete": True,
            "invite": True,
        }
    actions: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", f"/api/v1/groups/{gid}", {"cooldown_seconds": 5}),
        ("POST", "/api/v1/groups/sync", None),
        ("POST", f"/api/v1/groups/{gid}/sync", None),
        ("POST", f"/api/v1/groups/{gid}/messages/preview", {"text": "oi"}),
        ("POST", f"/api/v1/groups/{gid}/messages", {"text": "oi"}),
    ]
    for method, path, body in actions:
        assert (await staff[None].api(method, path, json=body)).status_code == 401, path
        viewer = await staff[VIEWER].api(method, path, json=body)
        assert viewer.status_code == 403 and viewer.json()["error"] == "forbidden", path
        forged = await staff[OPERATOR].api(method, path, json=body, csrf="forged")
        assert forged.status_code == 403, path
    assert (await _row(desk, gid)).cooldown_seconds == 0 and await _waiting(desk, JobName.SEND_MESSAGE) == 0
    for role in (OPERATOR, ADMIN):
        for method, path, body in actions:
            answer = await staff[role].api(method, path, json=body)
            assert answer.status_code in (200, 202), (path, answer.text)
    assert (await _row(desk, gid)).cooldown_seconds == 5
    assert await _waiting(desk, JobName.SEND_MESSAGE) == 2


async def test_the_list_filters_and_pages_with_limit_and_offset(desk: Desk, staff: Staff) -> None:
    await _group(desk, title="Alfa")
    await _group(desk, title="Beta", status=BotMemberStatus.MEMBER)
    await _group(desk, title="Gama", is_active=False)
    http = staff[VIEWER]

    async def titles(**params: Any) -> list[str]:
        answer = await http.api("GET", "/api/v1/groups", params=params)
        return [item["title"] for item in answer.json()["items"]]

    assert await titles() == ["Gama", "Beta", "Alfa"]
    assert await titles(active=False) == ["Gama"]
    assert await titles(admin=False) == ["Beta"]
    assert await titles(missing_rights=True) == ["Beta"]
    assert await titles(q="ALF") == ["Alfa"]
    assert await titles(q="%") == []
    assert await titles(limit=1, offset=1) == ["Beta"]
    assert (await http.api("GET", "/api/v1/groups", params={"limit": 0})).status_code == 422


async def test_changes_are_audited_and_bad_values_are_refused_with_nothing_changed(
    desk: Desk, staff: Staff
) -> None:
    group = await _group(desk, title="Regras")
    operator = staff[OPERATOR]
    changed = await operator.api("PATCH", f"/api/v1/groups/{group.id}", json={"is_active": False})
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    for bad in (
        {"cooldown_seconds": -1},
        {"cooldown_seconds": 86_401},
        {"cooldown_seconds": "x"},
        {"nope": 1},
    ):
        refused = await operator.api("PATCH", f"/api/v1/groups/{group.id}", json=bad)
        assert refused.status_code == 422, bad
    row = await _row(desk, group.id)
    assert row.cooldown_seconds == 0 and row.is_active is False
    async with desk.sessions() as session:
        (audit,) = (
            await session.execute(select(AuditLog).where(AuditLog.action == "group.update"))
        ).scalars()
    assert audit.before == {"is_active": True, "cooldown_seconds": 0}
    assert audit.after == {"is_active": False, "cooldown_seconds": 0} and audit.actor_type == "operator"
    assert (await operator.api("GET", "/api/v1/groups/999999")).status_code == 404


async def test_messages_are_checked_before_anything_is_queued(desk: Desk, staff: Staff) -> None:
    group = await _group(desk, title="Mensagens")
    left = await _group(desk, title="Saiu", status=BotMemberStatus.KICKED, is_active=False)
    operator, path = staff[OPERATOR], f"/api/v1/groups/{group.id}/messages"
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"text": "<b>oi"}, 422, "never closed"),
        ({"text": "<blink>oi</blink>"}, 422, "is not a tag Telegram accepts"),
        ({"text": "&nbsp;oi"}, 422, "not an entity Telegram knows"),
        ({"text": "oi", "buttons": [{"text": "Ir", "url": "ftp://x.com"}]}, 422, "https://"),
        ({"text": "oi", "photo_asset_id": 424242}, 422, "no uploaded photo"),
        ({"text": "oi", "buttons": [{"text": "a", "url": "https://a.com"}] * 9}, 422, ""),
    ]
    for body, status, words in bad:
        refused = await operator.api("POST", path, json=body)
        assert refused.status_code == status and words in refused.json()["message"], (body, refused.text)
    gone = await operator.api("POST", f"/api/v1/groups/{left.id}/messages", json={"text": "oi"})
    assert gone.status_code == 409 and "no longer in the group (kicked)" in gone.json()["message"]
    gone_sync = await operator.api("POST", f"/api/v1/groups/{left.id}/sync")
    assert gone_sync.status_code == 409
    assert (
        await _waiting(desk, JobName.SEND_MESSAGE) == 0
        and await _waiting(desk, JobName.SYNC_SINGLE_GROUP) == 0
    )
    preview = await operator.api(
        "POST",
        f"{path}/preview",
        json={
            "text": "<i>oi</i> <tg-spoiler>x</tg-spoiler>",
            "buttons": [{"text": "Ir", "url": "https://a.com"}],
        },
    )
    assert preview.json()["html"] == '<i>oi</i> <span class="tg-spoiler">x</span>'
    assert preview.json()["buttons"] == [{"text": "Ir", "url": "https://a.com"}]


async def test_a_photo_uploaded_through_the_api_is_sent_by_its_asset_id_with_a_caption_limit(
    desk: Desk, staff: Staff
) -> None:
    group = await _group(desk, title="Fotos")
    operator = staff[OPERATOR]
    files = {"photo": ("p.png", png_bytes(), "image/png")}
    uploaded = await operator.api("POST", "/api/v1/groups/photos", files=files)
    assert uploaded.status_code == 201 and uploaded.json()["width"] == 64
    again = await operator.api("POST", "/api/v1/groups/photos", files=files)
    assert again.json()["asset_id"] == uploaded.json()["asset_id"]
    not_image = await operator.api(
        "POST", "/api/v1/groups/photos", files={"photo": ("x.png", b"hello", "image/png")}
    )
    assert not_image.status_code == 400
    too_big = await operator.api(
        "POST",
        "/api/v1/groups/photos",
        files={"photo": ("x.png", b"\0" * (10 * 1024 * 1024 + 1), "image/png")},
    )
    assert too_big.status_code == 413 and "10 MB" in too_big.json()["message"]
    asset_id = uploaded.json()["asset_id"]
    path = f"/api/v1/groups/{group.id}/messages"
    long = await operator.api("POST", path, json={"text": "z" * 1025, "photo_asset_id": asset_id})
    assert long.status_code == 422 and "caption" in long.json()["message"]
    sent = await operator.api("POST", path, json={"text": "<b>foto</b>", "photo_asset_id": asset_id})
    assert sent.status_code == 202
    job = await desk.queues.queue(JobName.SEND_MESSAGE.queue).getJob(sent.json()["job_id"])
    assert job is not None and job.data["photoAssetId"] == asset_id
    followed = await operator.api("GET", f"/api/v1/jobs/bot-tasks/{sent.json()['job_id']}")
    assert followed.status_code == 200 and followed.json()["name"] == "send-message"
