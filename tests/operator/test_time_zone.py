"""Each operator reads and types times in their own time zone (their account page, or the API):
dates on the pages, the audit log's day filter and a campaign's typed time and daily hour. A zone
that does not exist is refused in words and changes nothing."""

from __future__ import annotations

from datetime import UTC, timedelta

from babel.dates import format_datetime
from sqlalchemy import select

from tests.factories import make_bot, make_group
from tests.fixtures.dashboard import Desk, Person
from tgadmin.clock import DEFAULT_TIME_ZONE, utcnow, zone
from tgadmin.db import session_scope
from tgadmin.models import ApiToken, AuditLog, Campaign, Operator
from tgadmin.models.enums import OperatorRole

Staff = dict[OperatorRole | None, Person]
TOKYO = "Asia/Tokyo"


async def operator_row(desk: Desk, email: str) -> Operator:
    async with desk.sessions() as session:
        return (await session.execute(select(Operator).where(Operator.email == email))).scalar_one()


async def me(person: Person) -> dict[str, str]:
    answer = await person.api("GET", "/api/v1/account")
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


async def test_an_operator_chooses_a_time_zone_and_the_pages_show_and_filter_in_it(
    desk: Desk, staff: Staff
) -> None:
    viewer = staff[OperatorRole.VIEWER]
    assert (await me(viewer))["time_zone"] == DEFAULT_TIME_ZONE
    page = await viewer.http.get("/account")
    assert page.status_code == 200 and f'<option value="{DEFAULT_TIME_ZONE}" selected>' in page.text

    saved = await viewer.submit("/account/time-zone", time_zone=TOKYO)
    assert saved.status_code == 303 and saved.headers["location"] == "/account"
    shown = await viewer.http.get("/account")
    assert f'<option value="{TOKYO}" selected>' in shown.text and f"shown in {TOKYO}" in shown.text
    account = await me(viewer)
    assert account["time_zone"] == TOKYO
    async with desk.sessions() as session:
        [entry] = (
            await session.execute(select(AuditLog).where(AuditLog.action == "operator.time_zone"))
        ).scalars()
    assert entry.before == {"time_zone": DEFAULT_TIME_ZONE} and entry.after == {"time_zone": TOKYO}

    # A moment on a page reads in Tokyo time, not Brasília's (12 hours apart).
    assert (await viewer.submit("/account/tokens", name="export")).status_code == 200
    async with desk.sessions() as session:
        created = (await session.execute(select(ApiToken.created_at))).scalar_one()
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
    tokens = await viewer.http.get("/account/tokens")
    assert format_datetime(created, "short", tzinfo=zone(TOKYO), locale="en") in tokens.text
    assert format_datetime(created, "short", tzinfo=zone(DEFAULT_TIME_ZONE), locale="en") not in tokens.text

    # The audit log's days are Tokyo's days: the change is on its Tokyo date.
    day = entry.created_at.replace(tzinfo=UTC).astimezone(zone(TOKYO)).date()
    found = await viewer.api("GET", "/api/v1/audit", params={"from": str(day), "to": str(day)})
    assert "operator.time_zone" in {row["action"] for row in found.json()["items"]}
    before = await viewer.api(
        "GET", "/api/v1/audit", params={"to": str(day - timedelta(days=1)), "action": "operator.time_zone"}
    )
    assert before.json()["items"] == []


async def test_a_time_zone_that_does_not_exist_is_refused_and_nothing_changes(
    desk: Desk, staff: Staff
) -> None:
    admin = staff[OperatorRole.ADMIN]
    refused = await admin.api("PUT", "/api/v1/account", json={"time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 400 and "is not a time zone" in refused.json()["message"]
    form = await admin.submit("/account/time-zone", time_zone="Brasília")
    assert form.status_code == 303
    page = await admin.http.get("/account")
    assert "is not a time zone" in page.text
    forged = await admin.submit("/account/time-zone", csrf="forged", time_zone=TOKYO)
    assert forged.status_code == 403
    assert (await me(admin))["time_zone"] == DEFAULT_TIME_ZONE
    async with desk.sessions() as session:
        changes = (
            await session.execute(select(AuditLog).where(AuditLog.action == "operator.time_zone"))
        ).all()
    assert changes == []


async def test_a_campaign_reads_its_typed_time_and_daily_hour_in_the_operators_zone(
    desk: Desk, staff: Staff
) -> None:
    operator = staff[OperatorRole.OPERATOR]
    assert (await operator.api("PUT", "/api/v1/account", json={"time_zone": TOKYO})).status_code == 200
    async with session_scope(desk.sessions) as session:
        group = await make_group(session, await make_bot(session), title="Tokyo Deals")
    start = (
        (utcnow() + timedelta(days=2))
        .astimezone(zone(TOKYO))
        .replace(hour=9, minute=0, second=0, microsecond=0)
    )
    made = await operator.submit(
        "/campaigns",
        name="Bom dia",
        text="Bom dia!",
        targets="selection",
        group=[str(group.id)],
        when="at",
        at=start.strftime("%Y-%m-%dT%H:%M"),
        repeat="daily",
        daily_at="09:00",
        until=(start + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
    )
    assert made.status_code == 303, made.text
    by_api = await operator.api(
        "POST",
        "/api/v1/campaigns",
        json={
            "name": "API",
            "content": {"text": "oi"},
            "group_ids": [group.id],
            "scheduled_at": start.isoformat(),
            "repeat_daily_at": "09:00",
            "repeat_until": (start + timedelta(days=5)).isoformat(),
        },
    )
    assert by_api.status_code == 201, by_api.text
    async with desk.sessions() as session:
        form_made, api_made = (await session.execute(select(Campaign).order_by(Campaign.id))).scalars()
    for campaign in (form_made, api_made):
        assert campaign.repeat_timezone == TOKYO
        at = campaign.scheduled_at
        assert at is not None
        assert (at.replace(tzinfo=UTC) if at.tzinfo is None else at) == start.astimezone(UTC)
    assert start.astimezone(UTC).hour == 0  # 09:00 in Tokyo is midnight UTC
    detail = await operator.http.get(f"/campaigns/{form_made.id}")
    assert f"daily at 09:00 ({TOKYO})" in detail.text
