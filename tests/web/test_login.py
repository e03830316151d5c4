"""Dashboard login: e-mailed single-use magic link (a real SMTP server on loopback), CSRF on every
form, revocable sessions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.servers import SmtpInbox
from tgadmin.audit.service import Actor
from tgadmin.config import Settings, load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service
from tgadmin.redis import free_port
from tgadmin.web.app import create_app

# The dashboard speaks Portuguese unless asked otherwise; these tests read its English.
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture
def dashboard_settings(
    fresh_db_url: str, smtp_server: SmtpInbox, redis: Redis, redis_url: str, redis_prefix: str
) -> Settings:
    return load_settings(
        database_url=fresh_db_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        public_url="http://dashboard.test",
        smtp_starttls=False,
    )


@asynccontextmanager
async def _dashboard(
    settings: Settings, client: tuple[str, int] = ("127.0.0.1", 123)
) -> AsyncIterator[httpx.AsyncClient]:
    """One dashboard process (its own app state), seen from one client address."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=client)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://dashboard.test", headers=ENGLISH
        ) as http:
            yield http
    finally:
        await app.state.tgadmin.stop()


@pytest.fixture
async def dashboard(dashboard_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(dashboard_settings.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await service.create_operator(
                session, "ops@example.com", OperatorRole.VIEWER, Actor.system("test")
            )
    finally:
        await engine.dispose()
    async with _dashboard(dashboard_settings) as client:
        yield client


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


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post("/login", data={"email": email, "csrf": _field(page.text, "csrf")})


def _mailed_token(smtp: SmtpInbox) -> str:
    raw = smtp.messages[-1].get_payload(decode=True)
    assert isinstance(raw, bytes)
    match = re.search(r"/auth/magic\?token=(\S+)", raw.decode())
    assert match
    return match.group(1)


async def test_over_the_limit_per_e_mail_the_answer_is_the_same_and_nothing_is_sent(
    dashboard: httpx.AsyncClient, dashboard_settings: Settings, smtp_server: SmtpInbox
) -> None:
    """Five links per e-mail per window, counted in Redis across dashboard processes."""
    async with _dashboard(dashboard_settings, ("198.51.100.20", 4000)) as other_process:
        answers = [await _ask((dashboard, other_process)[i % 2], "ops@example.com") for i in range(5)]
        assert len(smtp_server.messages) == 5
        token = _mailed_token(smtp_server)
        refused = [await _ask(client, "ops@example.com") for client in (dashboard, other_process)]
    assert len(smtp_server.messages) == 5
    assert [r.status_code for r in answers + refused] == [200] * 7
    assert {r.text for r in answers + refused} == {answers[0].text}
    # A refused request ends no link: the last one sent still logs in.
    confirm = await dashboard.get("/auth/magic", params={"token": token})
    done = await dashboard.post("/auth/magic", data={"token": token, "csrf": _field(confirm.text, "csrf")})
    assert done.status_code == 303


async def test_over_the_limit_per_address_nothing_is_sent_whatever_the_e_mail(
    dashboard: httpx.AsyncClient, dashboard_settings: Settings, smtp_server: SmtpInbox
) -> None:
    """Every request counts against its address (IPv6: its /64), known e-mail or not."""
    settings = dashboard_settings.model_copy(update={"login_limit_per_address": 3})
    asked = []
    for host, email in [
        ("2001:db8::1", "nobody@example.com"),
        ("2001:db8::2", "someone@example.com"),
        ("2001:db8::3", "ops@example.com"),
        ("2001:db8::4", "ops@example.com"),
        ("2001:db8:0:1::1", "ops@example.com"),
    ]:
        async with _dashboard(settings, (host, 5000)) as client:
            asked.append(await _ask(client, email))
    assert [r.status_code for r in asked] == [200] * 5
    assert asked[3].text == asked[2].text  # refused: the same answer as when the link went out
    assert len(smtp_server.messages) == 2  # the third request of 2001:db8::/64, then another /64
    assert [m["To"] for m in smtp_server.messages] == ["ops@example.com"] * 2


async def test_a_failing_mail_server_does_not_tell_which_addresses_are_operators(
    dashboard: httpx.AsyncClient, dashboard_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dashboard_settings.model_copy(update={"smtp_port": free_port()})  # nothing listens there
    async with _dashboard(settings) as client:
        known, unknown = await _ask(client, "ops@example.com"), await _ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text.replace("nobody@example.com", "ops@example.com")
    assert "login link for ops@example.com not delivered: smtp: could not send" in caplog.text


@pytest.fixture
def dashboard_process(
    sqlite_template: Path, tmp_path: Path, redis: Redis, redis_url: str, redis_prefix: str
) -> Iterator[tuple[str, Path, str]]:
    """`tgadmin dashboard` as a process with SMTP unset (the log is the mail): its URL, log file, database."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'dashboard.db'}"
    shutil.copy(sqlite_template, tmp_path / "dashboard.db")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "REDIS_", "DATABASE_"))}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
        PUBLIC_URL=url,
        PIX_WEBHOOK_SECRET="dashboard-process-pix-secret",  # the sandbox PSP's webhook needs one
        LOG_LEVEL="INFO",
    )
    log_file = tmp_path / "dashboard.log"
    with log_file.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tgadmin", "dashboard", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline, ready = time.monotonic() + 110, False
        while not ready and time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.3)
        assert ready, log_file.read_text()
        yield url, log_file, database_url
    finally:
        process.terminate()
        process.wait(30)


def _wait_for(log_file: Path, text: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if text in (content := log_file.read_text()):
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the log:\n{log_file.read_text()}")


@pytest.mark.timeout(180)
async def test_without_smtp_the_link_in_the_dashboard_log_works_and_no_other_line_shows_a_token(
    dashboard_process: tuple[str, Path, str],
) -> None:
    url, log_file, database_url = dashboard_process
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await service.create_operator(
                session, "back@example.com", OperatorRole.ADMIN, Actor.system("test")
            )
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(base_url=url, headers=ENGLISH) as client:
        assert "a login link is on its way" in (await _ask(client, "back@example.com")).text
        line = next(
            line
            for line in _wait_for(log_file, "login link for back@example.com").splitlines()
            if "back@" in line
        )
        match = re.search(rf"{re.escape(url)}/auth/magic\?token=([A-Za-z0-9_-]{{43}})$", line)
        assert match, line
        token = match.group(1)
        confirm = await client.get("/auth/magic", params={"token": token})
        done = await client.post("/auth/magic", data={"token": token, "csrf": _field(confirm.text, "csrf")})
        assert done.status_code == 303
        assert "back@example.com" in (await client.get("/")).text
    log = _wait_for(log_file, 'POST /auth/magic HTTP/1.1" 303')
    assert log.count(token) == 1  # the delivery line only
    assert "GET /auth/magic?token=*** HTTP/1.1" in log
