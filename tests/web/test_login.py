"""Dashboard login: e-mailed single-use magic link (a real SMTP server on loopback), CSRF on every
form, revocable sessions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.servers import SmtpInbox
from tgadmin.audit.service import Actor
from tgadmin.config import load_settings
from tgadmin.db import session_factory, session_scope
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service
from tgadmin.web.app import create_app


@pytest.fixture
async def dashboard(fresh_db_url: str, smtp_server: SmtpInbox) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        database_url=fresh_db_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        public_url="http://dashboard.test",
        smtp_starttls=False,
    )
    app = create_app(settings)
    async with session_scope(app.state.tgadmin.sessions) as session:
        await service.create_operator(session, "ops@example.com", OperatorRole.VIEWER, Actor.system("test"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard.test") as client:
        yield client
    await app.state.tgadmin.stop()


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} field"
    return match.group(1)


async def _login(client: httpx.AsyncClient, smtp: SmtpInbox) -> str:
    page = await client.get("/login")
    sent = await client.post("/login", data={"email": "OPS@example.com", "csrf": _field(page.text, "csrf")})
    assert "a login link is on its way" in sent.text
    raw = smtp.messages[-1].get_payload(decode=True)
    assert isinstance(raw, bytes)
    body = raw.decode()
    match = re.search(r"http://dashboard\.test/auth/magic\?token=(\S+)", body)
    assert match
    return match.group(1)


async def test_operator_logs_in_with_the_emailed_link_once(
    dashboard: httpx.AsyncClient, smtp_server: SmtpInbox
) -> None:
    assert (await dashboard.get("/")).status_code == 303  # not logged in: to the login page
    token = await _login(dashboard, smtp_server)
    assert smtp_server.messages[-1]["To"] == "ops@example.com"
    confirm = await dashboard.get("/auth/magic", params={"token": token})
    done = await dashboard.post("/auth/magic", data={"token": token, "csrf": _field(confirm.text, "csrf")})
    assert done.status_code == 303
    overview = await dashboard.get("/")
    assert overview.status_code == 200 and "ops@example.com" in overview.text
    dashboard.cookies.delete("tgadmin_session")
    again = await dashboard.post("/auth/magic", data={"token": token, "csrf": _field(confirm.text, "csrf")})
    assert again.status_code == 401 and "already used" in again.text


async def test_unknown_address_gets_the_same_answer_and_no_mail(
    dashboard: httpx.AsyncClient, smtp_server: SmtpInbox
) -> None:
    page = await dashboard.get("/login")
    sent = await dashboard.post(
        "/login", data={"email": "nobody@example.com", "csrf": _field(page.text, "csrf")}
    )
    assert sent.status_code == 200 and "a login link is on its way" in sent.text
    assert smtp_server.messages == []


async def test_forms_without_the_csrf_token_are_refused(
    dashboard: httpx.AsyncClient, smtp_server: SmtpInbox
) -> None:
    await dashboard.get("/login")
    refused = await dashboard.post("/login", data={"email": "ops@example.com", "csrf": "forged"})
    assert refused.status_code == 403 and smtp_server.messages == []
    token = await _login(dashboard, smtp_server)
    confirm = await dashboard.get("/auth/magic", params={"token": token})
    await dashboard.post("/auth/magic", data={"token": token, "csrf": _field(confirm.text, "csrf")})
    assert (await dashboard.post("/logout", data={"csrf": "forged"})).status_code == 403
    assert (await dashboard.get("/")).status_code == 200  # still logged in
    overview = await dashboard.get("/")
    out = await dashboard.post("/logout", data={"csrf": _field(overview.text, "csrf")})
    assert out.status_code == 303
    assert (await dashboard.get("/")).status_code == 303


async def test_deactivated_operator_session_stops_working(
    dashboard: httpx.AsyncClient, smtp_server: SmtpInbox, fresh_db_url: str
) -> None:
    token = await _login(dashboard, smtp_server)
    confirm = await dashboard.get("/auth/magic", params={"token": token})
    await dashboard.post("/auth/magic", data={"token": token, "csrf": _field(confirm.text, "csrf")})
    app_engine: AsyncEngine = dashboard._transport.app.state.tgadmin.engine  # type: ignore[attr-defined]
    async with session_scope(session_factory(app_engine)) as session:
        from tgadmin.operator import repository

        operator = await repository.by_email(session, "ops@example.com")
        assert operator is not None
        operator.is_active = False
    assert (await dashboard.get("/")).status_code == 303
