"""The Operators page and API (admin only): invite by e-mail, change role, deactivate (sessions and
API tokens end at once), and never leave the dashboard without an active admin."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from tests.fixtures.dashboard import Desk, Person, log_in
from tgadmin.db import session_scope
from tgadmin.models import AuditLog, Operator
from tgadmin.models.enums import OperatorRole

Staff = dict[OperatorRole | None, Person]
ADMIN, OPERATOR, VIEWER = OperatorRole.ADMIN, OperatorRole.OPERATOR, OperatorRole.VIEWER


async def _operator(desk: Desk, email: str) -> Operator:
    async with session_scope(desk.sessions) as session:
        found = await session.scalar(select(Operator).where(Operator.email == email))
        assert found is not None
        return found


@pytest.mark.parametrize(("role", "expected"), [(None, 303), (VIEWER, 403), (OPERATOR, 403), (ADMIN, 200)])
async def test_operators_page_is_for_admins_only(
    staff: Staff, role: OperatorRole | None, expected: int
) -> None:
    response = await staff[role].http.get("/operators")
    assert response.status_code == expected
    if expected == 303:
        assert response.headers["location"] == "/login"


@pytest.mark.parametrize(("role", "expected"), [(None, 401), (VIEWER, 403), (OPERATOR, 403), (ADMIN, 200)])
async def test_operators_api_is_for_admins_only(
    staff: Staff, role: OperatorRole | None, expected: int
) -> None:
    response = await staff[role].api("GET", "/api/v1/operators")
    assert response.status_code == expected
    if expected == 200:
        assert {o["role"] for o in response.json()} == {"viewer", "operator", "admin"}


async def test_an_invited_operator_gets_a_login_link_by_mail_and_can_use_it(desk: Desk, staff: Staff) -> None:
    response = await staff[ADMIN].submit("/operators/invite", email="New.Person@Example.com", role="operator")
    assert response.status_code == 303
    page = await staff[ADMIN].http.get("/operators")
    assert "new.person@example.com was invited as operator; a login link was mailed" in page.text
    mail = desk.smtp.messages[-1]
    assert mail["To"] == "new.person@example.com"
    invited = await _operator(desk, "new.person@example.com")
    assert invited.role == OPERATOR and invited.is_active


async def test_inviting_a_bad_address_or_role_says_why_and_creates_nobody(desk: Desk, staff: Staff) -> None:
    await staff[ADMIN].submit("/operators/invite", email="not an address", role="viewer")
    page = await staff[ADMIN].http.get("/operators")
    assert "is not a valid e-mail address" in page.text
    await staff[ADMIN].submit("/operators/invite", email="x@example.com", role="owner")
    page = await staff[ADMIN].http.get("/operators")
    assert "&#39;owner&#39; is not a role" in page.text
    async with session_scope(desk.sessions) as session:
        assert await session.scalar(select(Operator).where(Operator.email == "x@example.com")) is None
    assert desk.smtp.messages == []


async def test_invite_through_the_api_answers_201_and_refuses_a_duplicate(desk: Desk, staff: Staff) -> None:
    body = {"email": "api.invite@example.com", "role": "viewer"}
    created = await staff[ADMIN].api("POST", "/api/v1/operators", json=body)
    assert created.status_code == 201 and created.json()["mailed"] is True
    again = await staff[ADMIN].api("POST", "/api/v1/operators", json=body)
    assert again.status_code == 409 and "already exists" in again.json()["message"]


async def test_a_form_without_the_csrf_token_changes_nothing(desk: Desk, staff: Staff) -> None:
    target = await desk.operator(VIEWER, email="target@example.com")
    forged = await staff[ADMIN].submit(f"/operators/{target.id}/role", csrf="forged", role="admin")
    assert forged.status_code == 403
    forged = await staff[ADMIN].submit(f"/operators/{target.id}/deactivate", csrf="")
    assert forged.status_code == 403
    api = await staff[ADMIN].api("POST", f"/api/v1/operators/{target.id}/deactivate", csrf="nope")
    assert api.status_code == 403
    after = await _operator(desk, "target@example.com")
    assert after.role == VIEWER and after.is_active


async def test_change_role_is_audited(desk: Desk, staff: Staff) -> None:
    target = await desk.operator(VIEWER, email="promote@example.com")
    response = await staff[ADMIN].api("PATCH", f"/api/v1/operators/{target.id}", json={"role": "operator"})
    assert response.status_code == 200 and response.json()["role"] == "operator"
    async with session_scope(desk.sessions) as session:
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "operator.role"))
        assert (
            entry is not None and entry.before == {"role": "viewer"} and entry.after == {"role": "operator"}
        )


async def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(desk: Desk) -> None:
    admin = await log_in(desk.sessions, desk.settings, desk.base_url, ADMIN)
    try:
        me = (await admin.api("GET", "/api/v1/operators")).json()[0]
        demote = await admin.api("PATCH", f"/api/v1/operators/{me['id']}", json={"role": "viewer"})
        assert demote.status_code == 409 and "last active admin" in demote.json()["message"]
        await admin.submit(f"/operators/{me['id']}/deactivate")
        page = await admin.http.get("/operators")
        assert page.status_code == 200 and "is the last active admin" in page.text
        # With a second admin, the first may step down.
        other = await desk.operator(ADMIN, email="second@example.com")
        demote = await admin.api("PATCH", f"/api/v1/operators/{me['id']}", json={"role": "viewer"})
        assert demote.status_code == 200
        refused = await admin.api("PATCH", f"/api/v1/operators/{other.id}", json={"role": "viewer"})
        assert refused.status_code == 403  # now a viewer: the role applies on the next call
    finally:
        await admin.http.aclose()


async def test_deactivation_ends_sessions_and_tokens_at_once(desk: Desk, staff: Staff) -> None:
    victim = staff[OPERATOR]
    token = (await victim.api("POST", "/api/v1/tokens", json={"name": "script"})).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await victim.http.get("/api/v1/transactions", headers=bearer)).status_code == 200
    me = [o for o in (await staff[ADMIN].api("GET", "/api/v1/operators")).json() if o["role"] == "operator"]
    response = await staff[ADMIN].submit(f"/operators/{me[0]['id']}/deactivate")
    assert response.status_code == 303
    page = await victim.http.get("/sales")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    async with httpx.AsyncClient(base_url=desk.base_url, trust_env=False, headers=bearer) as script:
        api = await script.get("/api/v1/transactions")
    assert api.status_code == 401 and "revoked" in api.json()["message"]
    # Reactivated, they need a new login link: the old session and token stay revoked.
    await staff[ADMIN].submit(f"/operators/{me[0]['id']}/reactivate")
    assert (await victim.http.get("/sales")).status_code == 303
    assert (await victim.http.get("/api/v1/transactions", headers=bearer)).status_code == 401
