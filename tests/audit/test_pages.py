"""The audit log page and /api/v1/audit over HTTP: filters by actor, action, entity and date, pages
newest first, before and after shown as a diff, bad dates refused clearly."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from tests.fixtures.dashboard import Desk, Person
from tgadmin.audit.service import Actor, record
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole

Staff = dict[OperatorRole | None, Person]
NOON = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # noon in Brasília


async def seed(desk: Desk) -> None:
    async with session_scope(desk.sessions) as session:
        ana = Actor.operator(7, "ana@example.com", "127.0.0.1")
        changed = await record(
            session,
            ana,
            "group.updated",
            "group",
            41,
            before={"cooldown_seconds": 60, "title": "Ofertas"},
            after={"cooldown_seconds": 120, "title": "Ofertas"},
        )
        changed.created_at = NOON
        expired = await record(
            session,
            Actor.system("subscription-sweep"),
            "subscription.expired",
            "purchase",
            9,
            after={"status": "expired"},
        )
        expired.created_at = NOON + timedelta(days=2)
        for n in range(120):
            entry = await record(session, Actor.system("analytics"), "analytics.aggregated", "hour", n)
            entry.created_at = NOON - timedelta(days=3, minutes=n)


async def test_every_role_reads_the_log_and_anonymous_is_sent_to_log_in(desk: Desk, staff: Staff) -> None:
    await seed(desk)
    anonymous = staff[None]
    page = await anonymous.http.get("/audit")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert (await anonymous.http.get("/api/v1/audit")).status_code == 401
    for role in (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN):
        assert (await staff[role].http.get("/audit")).status_code == 200
        assert (await staff[role].http.get("/api/v1/audit")).status_code == 200


async def test_filters_narrow_the_log_and_the_diff_marks_what_changed(desk: Desk, staff: Staff) -> None:
    await seed(desk)
    viewer = staff[OperatorRole.VIEWER]
    by_actor = (await viewer.http.get("/api/v1/audit", params={"actor": "ana@example.com"})).json()
    [entry] = by_actor["items"]
    assert entry["action"] == "group.updated" and entry["ip"] == "127.0.0.1"
    assert entry["changes"] == [
        {"key": "cooldown_seconds", "before": 60, "after": 120, "changed": True},
        {"key": "title", "before": "Ofertas", "after": "Ofertas", "changed": False},
    ]
    prefix = (await viewer.http.get("/api/v1/audit", params={"action": "subscription.*"})).json()
    assert [e["entity_id"] for e in prefix["items"]] == ["9"]
    entity = await viewer.http.get("/api/v1/audit", params={"entity_type": "hour", "entity_id": "5"})
    assert [e["entity_id"] for e in entity.json()["items"]] == ["5"]
    days = await viewer.http.get("/api/v1/audit", params={"from": "2026-11-20", "to": "2026-11-21"})
    assert [e["action"] for e in days.json()["items"]] == ["group.updated"]

    page = await viewer.http.get("/audit", params={"entity_type": "group"})
    assert page.status_code == 200 and 'id="audit-' in page.text
    assert '<tr class="changed-key">\n        <th>cooldown_seconds</th>' in page.text
    assert "<th>title</th>" in page.text and "subscription.expired" not in page.text


async def test_pages_go_back_in_time_by_id(desk: Desk, staff: Staff) -> None:
    await seed(desk)
    viewer = staff[OperatorRole.VIEWER]
    seen: list[int] = []
    before: int | None = None
    for _ in range(5):
        params: dict[str, str | int] = {
            "action": "analytics.aggregated",
            **({"before": before} if before else {}),
        }
        listing = (await viewer.http.get("/api/v1/audit", params=params)).json()
        seen += [e["id"] for e in listing["items"]]
        before = listing["next_before"]
        if before is None:
            break
    assert len(seen) == 120 and seen == sorted(seen, reverse=True) and len(set(seen)) == 120
    first = await viewer.http.get("/audit", params={"action": "analytics.aggregated"})
    assert first.text.count('id="audit-') == 50 and f"before={seen[49]}" in first.text


async def test_a_bad_date_is_refused_with_a_clear_message(desk: Desk, staff: Staff) -> None:
    viewer = staff[OperatorRole.VIEWER]
    api = await viewer.http.get("/api/v1/audit", params={"from": "2026-13-01"})
    assert (
        api.status_code == 400 and api.json()["message"] == "from: '2026-13-01' is not a date like 2026-11-30"
    )
    backwards = await viewer.http.get("/api/v1/audit", params={"from": "2026-11-30", "to": "2026-11-01"})
    assert backwards.status_code == 400 and "is after" in backwards.json()["message"]
    page = await viewer.http.get("/audit", params={"to": "yesterday"})
    assert page.status_code == 400
    assert "to: 'yesterday' is not a date like 2026-11-30" in html.unescape(page.text)
    assert 'value="yesterday"' in page.text  # what was typed stays in the form
