"""Personal API tokens: shown once, hashed at rest, acting with the owner's current role on every
/api/v1 route without CSRF, revocable, never opening a page; last use recorded at most once a minute."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text, update

from tests.fixtures.dashboard import Desk, Person
from tgadmin.clock import ensure_utc
from tgadmin.crypto import token_hash
from tgadmin.db import session_scope
from tgadmin.models import ApiToken
from tgadmin.models.enums import OperatorRole

Staff = dict[OperatorRole | None, Person]
ADMIN, OPERATOR, VIEWER = OperatorRole.ADMIN, OperatorRole.OPERATOR, OperatorRole.VIEWER


@asynccontextmanager
async def script(desk: Desk, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A program calling the API with the token only: no cookie, no CSRF header."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=desk.base_url, trust_env=False, headers=headers) as http:
        yield http


async def new_token(person: Person, name: str = "script") -> dict[str, str]:
    response = await person.api("POST", "/api/v1/tokens", json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def test_a_token_is_shown_once_and_only_its_hash_is_stored(
    desk: Desk, staff: Staff, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = await staff[VIEWER].submit("/account/tokens", name="nightly export")
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    shown = made.text.split('<code id="new-token">')[1].split("</code>")[0]
    assert shown.startswith("tga_") and len(shown) > 40
    again = await staff[VIEWER].http.get("/account/tokens")
    assert "nightly export" in again.text and shown not in again.text and shown[:8] in again.text
    listed = await staff[VIEWER].api("GET", "/api/v1/tokens")
    assert shown not in listed.text
    async with session_scope(desk.sessions) as session:
        stored = (await session.execute(text("select token_hash, prefix from api_tokens"))).all()
    assert stored == [(token_hash(shown), shown[:8])]
    assert shown not in caplog.text


@pytest.mark.parametrize("role", [VIEWER, OPERATOR, ADMIN])
async def test_a_token_acts_with_its_owners_role_without_csrf(
    desk: Desk, staff: Staff, role: OperatorRole
) -> None:
    other = VIEWER if role != VIEWER else OPERATOR
    await new_token(staff[other], "someone else's")
    token = (await new_token(staff[role]))["token"]
    target = await desk.operator(VIEWER, email="someone@example.com")
    async with script(desk, token) as http:
        assert (await http.get("/api/v1/transactions")).status_code == 200
        assert (await http.get("/api/v1/openapi.json")).status_code == 200
        change = await http.patch(f"/api/v1/operators/{target.id}", json={"role": "operator"})
        assert change.status_code == (200 if role == ADMIN else 403)
        mine = await http.get("/api/v1/tokens")
        assert mine.status_code == 200 and len(mine.json()) == (2 if role == ADMIN else 1)


async def test_a_role_change_applies_to_the_owners_tokens_at_once(desk: Desk, staff: Staff) -> None:
    token = await new_token(staff[VIEWER])
    owner_id = int(token["owner_id"])
    async with script(desk, token["token"]) as http:
        assert (await http.get("/api/v1/operators")).status_code == 403
        promoted = await staff[ADMIN].api("PATCH", f"/api/v1/operators/{owner_id}", json={"role": "admin"})
        assert promoted.status_code == 200
        assert (await http.get("/api/v1/operators")).status_code == 200


async def test_a_wrong_or_revoked_token_is_refused_with_a_clear_401(desk: Desk, staff: Staff) -> None:
    token = await new_token(staff[OPERATOR])
    for wrong in ("tga_nothing", "nonsense", token["token"] + "x"):
        async with script(desk, wrong) as http:
            refused = await http.get("/api/v1/transactions")
        assert refused.status_code == 401
        assert refused.json() == {
            "error": "unauthorized",
            "message": "this API token is unknown or revoked, or its owner is deactivated",
        }
    revoked = await staff[OPERATOR].api("DELETE", f"/api/v1/tokens/{token['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    async with script(desk, token["token"]) as http:
        assert (await http.get("/api/v1/transactions")).status_code == 401


async def test_pages_never_take_a_token(desk: Desk, staff: Staff) -> None:
    token = (await new_token(staff[ADMIN]))["token"]
    async with script(desk, token) as http:
        for page in ("/", "/sales", "/operators", "/account/tokens"):
            response = await http.get(page)
            assert response.status_code == 303 and response.headers["location"] == "/login", page


async def test_a_token_cannot_make_tokens(desk: Desk, staff: Staff) -> None:
    token = (await new_token(staff[ADMIN]))["token"]
    async with script(desk, token) as http:
        refused = await http.post("/api/v1/tokens", json={"name": "another"})
    assert refused.status_code == 403 and "logged-in dashboard session" in refused.json()["message"]


async def test_only_the_owner_or_an_admin_revokes_a_token(desk: Desk, staff: Staff) -> None:
    token = await new_token(staff[OPERATOR])
    assert (await staff[VIEWER].api("DELETE", f"/api/v1/tokens/{token['id']}")).status_code == 403
    page = await staff[ADMIN].http.get("/account/tokens")
    assert f'id="token-{token["id"]}"' in page.text
    await staff[ADMIN].submit(f"/account/tokens/{token['id']}/revoke")
    page = await staff[ADMIN].http.get("/account/tokens")
    assert "is revoked" in page.text
    async with script(desk, token["token"]) as http:
        assert (await http.get("/api/v1/transactions")).status_code == 401


async def test_a_nameless_token_is_refused_and_nothing_is_saved(desk: Desk, staff: Staff) -> None:
    await staff[VIEWER].submit("/account/tokens", name="   ")
    page = await staff[VIEWER].http.get("/account/tokens")
    assert "give the token a name" in page.text and "tga_" not in page.text
    nul = await staff[VIEWER].api("POST", "/api/v1/tokens", json={"name": "cron\u0000job"})
    assert nul.status_code == 422 and "NUL" in nul.json()["message"]  # refused before the route
    bell = await staff[VIEWER].api("POST", "/api/v1/tokens", json={"name": "cron\u0007job"})
    assert bell.status_code == 400 and "control characters" in bell.json()["message"]
    forged = await staff[VIEWER].submit("/account/tokens", name="forged", csrf="x")
    assert forged.status_code == 403
    async with session_scope(desk.sessions) as session:
        assert (await session.scalars(select(ApiToken))).all() == []


async def test_last_use_is_recorded_at_most_once_a_minute(desk: Desk, staff: Staff) -> None:
    token = await new_token(staff[VIEWER])
    token_id = int(token["id"])

    async def last_used() -> datetime | None:
        async with session_scope(desk.sessions) as session:
            found = await session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
            return None if found is None else ensure_utc(found)

    async def set_last_used(moment: datetime) -> None:
        async with session_scope(desk.sessions) as session:
            await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=moment))

    assert await last_used() is None
    async with script(desk, token["token"]) as http:
        await http.get("/api/v1/tokens")
        first = await last_used()
        assert first is not None
        await http.get("/api/v1/tokens")
        assert await last_used() == first  # within the minute: no write
        # The previous use 61 seconds ago: this one is recorded.
        await set_last_used(first - timedelta(seconds=61))
        await http.get("/api/v1/tokens")
        later = await last_used()
    assert later is not None and later >= first
    page = await staff[VIEWER].http.get("/account/tokens")
    assert "never" not in page.text.split(f'id="token-{token_id}"')[1].split("</tr>")[0]
