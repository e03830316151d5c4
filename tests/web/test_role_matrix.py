"""Every route of the dashboard app against every role, generated from the app's own routes: a new
route that checks no role (and is not on the short public list below, with its reason) fails here,
and so does one whose check lets a lower role in or keeps its own role out.

For each route the role it needs is read off the route (its `RoleCheck` dependency); then each
method is called as nobody, a viewer, an operator and an admin — fresh sessions for every route, so
one route's action (log out, deactivate) cannot spoil the next — with the right CSRF token, and
with each role's personal API token (`Authorization: Bearer`, no CSRF; the JSON API only: a page
ignores a token and sends the caller to log in):
  nobody       -> 401 (API) or a redirect to the login page (pages)
  below it     -> 403, whatever the input
  at or above  -> anything but 401, 403 or a server error (404 and 422 are fine: the ids are made up)
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import select

from tests.factories import make_operator
from tgadmin.audit.service import Actor
from tgadmin.config import load_settings
from tgadmin.db import session_scope
from tgadmin.models import AuditLog
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service as operators
from tgadmin.operator import tokens
from tgadmin.operator.auth import CSRF_HEADER, ROLE_RANK, SESSION_COOKIE, RoleCheck, csrf_for_session
from tgadmin.redis import free_port
from tgadmin.web.app import create_app

# Routes anyone may call, and why. Everything else must check a role.
PUBLIC: dict[str, str] = {
    "/login": "asks for a login link",
    "/auth/magic": "spends a login link",
    "/logout": "ends the caller's own session (CSRF-checked)",
    "/language/{lang}": "remembers the page language in a cookie",
    "/assets/vendor/{name}": "the npm packages' own scripts and styles",
    "/healthz": "liveness for the process supervisor",
    "/readyz": "readiness for the load balancer",
    "/metrics": "Prometheus scrape (token-checked or loopback only)",
    "/webhooks/pix/{provider}": "PSP notifications (secret in the path, signature checked)",
    "/webhooks/pix/{provider}/pix": "PSP notifications (API Pix appends /pix)",
    "/webhooks/pix/{provider}/{secret}": "PSP notifications with the webhook secret",
    "/webhooks/pix/{provider}/{secret}/pix": "PSP notifications with the webhook secret (API Pix)",
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN)


def routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every endpoint of the app, through included routers (FastAPI keeps them nested)."""

    def walk(found: list[Any]) -> Iterator[APIRoute]:
        for route in found:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):
                yield from walk(route.original_router.routes)

    yield from walk(app.routes)


def needed_role(dependant: Dependant) -> OperatorRole | None:
    """The role the route's dependencies check (the highest, if several)."""
    found = [dep.call.minimum for dep in dependant.dependencies if isinstance(dep.call, RoleCheck)]
    found += [role for dep in dependant.dependencies if (role := needed_role(dep)) is not None]
    return max(found, key=ROLE_RANK.__getitem__, default=None)


def made_up_path(route: APIRoute) -> str:
    """The route's path with ids that do not exist (and the first value of an enum parameter)."""
    values: dict[str, str] = {}
    for param in route.dependant.path_params:
        kind = param.field_info.annotation
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            values[param.name] = str(next(iter(kind)).value)
        elif kind is int:
            values[param.name] = "987654"
        else:
            values[param.name] = "nobody-987654"
    return route.path_format.format(**values)


@dataclass
class Desk:
    app: FastAPI
    http: httpx.AsyncClient

    async def person(self, role: OperatorRole) -> tuple[str, str, str]:
        """A new operator of `role`, logged in: (session cookie, CSRF token, API token)."""
        state = self.app.state.tgadmin
        async with session_scope(state.sessions) as session:
            operator = await make_operator(session, role)
            link = await operators.issue_magic_link(session, operator)
            token = (await operators.consume_magic_link(session, link.token)).token
            actor = Actor.operator(operator.id, operator.email)
            api_token = (await tokens.create(session, operator, "role matrix", actor)).token
        return token, csrf_for_session(state.settings, token), api_token

    async def call_with_token(self, method: str, path: str, api_token: str) -> httpx.Response:
        self.http.cookies.clear()
        headers = {"Authorization": f"Bearer {api_token}"}
        return await self.http.request(method, path, headers=headers)

    async def call(self, method: str, path: str, person: tuple[str, str, str] | None) -> httpx.Response:
        csrf = person[1] if person else ""
        headers = {CSRF_HEADER: csrf} if csrf else {}
        data = {"csrf": csrf} if method in MUTATING else None
        self.http.cookies.clear()
        if person:
            self.http.cookies.set(SESSION_COOKIE, person[0])
        return await self.http.request(method, path, headers=headers, data=data)


@pytest.fixture
async def desk(fresh_db_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[Desk]:
    closed = f"http://127.0.0.1:{free_port()}"  # Telegram and the PSP: nobody answers here
    app = create_app(
        load_settings(
            database_url=fresh_db_url,
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            telegram_api_base_url=closed,
            pix_provider="static",
            pix_key="loja@example.com",
            pix_merchant_name="Loja Teste",
            pix_merchant_city="Recife",
        )
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://dashboard.test", timeout=30) as http,
    ):
        yield Desk(app, http)


def test_every_route_checks_a_role_or_is_public_for_a_stated_reason() -> None:
    app = create_app(load_settings(database_url="sqlite+aiosqlite:///:memory:"))
    unchecked = sorted(
        f"{','.join(sorted(route.methods or ()))} {route.path}"
        for route in routes(app)
        if route.path not in PUBLIC and needed_role(route.dependant) is None
    )
    assert unchecked == [], (
        f"routes with no role check (add one, or list them in PUBLIC with a reason): {unchecked}"
    )
    checked_public = sorted(r.path for r in routes(app) if r.path in PUBLIC and needed_role(r.dependant))
    assert checked_public == [], f"listed as public but checking a role: {checked_public}"


def _token_refusal(
    method: str, path: str, role: OperatorRole, minimum: OperatorRole, answer: httpx.Response
) -> list[str]:
    """What is wrong with a call made with `role`'s API token, if anything."""
    said = f"{method} {path} with a {role.value}'s token: {answer.status_code}"
    if not path.startswith("/api/v1/"):
        redirected = answer.status_code in (302, 303, 307) and "/login" in answer.headers.get("location", "")
        return [] if redirected else [f"{said}, not a redirect to /login (pages take no tokens)"]
    if ROLE_RANK[role] < ROLE_RANK[minimum]:
        return [] if answer.status_code == 403 else [f"{said} (needs {minimum.value})"]
    # Creating tokens with a token is refused on purpose: a leaked token cannot mint successors.
    if answer.status_code == 403 and method == "POST" and path == "/api/v1/tokens":
        return []
    return (
        [f"{said} {answer.text[:120]}"]
        if answer.status_code in (401, 403) or answer.status_code >= 500
        else []
    )


async def test_every_route_answers_each_role_as_its_check_says(desk: Desk) -> None:
    wrong: list[str] = []
    calls = refusals = 0
    for route in routes(desk.app):
        minimum = needed_role(route.dependant)
        if minimum is None:
            continue
        path = made_up_path(route)
        api = path.startswith("/api/v1/")
        people = {role: await desk.person(role) for role in ROLES}
        for method in sorted(route.methods or ()):
            calls += 7
            anonymous = await desk.call(method, path, None)
            if api and anonymous.status_code != 401:
                wrong.append(f"{method} {path} as nobody: {anonymous.status_code}, not 401")
            if not api and not (
                anonymous.status_code in (302, 303, 307) and "/login" in anonymous.headers.get("location", "")
            ):
                wrong.append(f"{method} {path} as nobody: {anonymous.status_code}, not a redirect to /login")
            for role, person in people.items():
                answer = await desk.call(method, path, person)
                allowed = ROLE_RANK[role] >= ROLE_RANK[minimum]
                refusals += not allowed
                if not allowed and answer.status_code != 403:
                    wrong.append(
                        f"{method} {path} as {role.value} (needs {minimum.value}): {answer.status_code}"
                    )
                if allowed and (answer.status_code in (401, 403) or answer.status_code >= 500):
                    wrong.append(f"{method} {path} as {role.value}: {answer.status_code} {answer.text[:120]}")
                wrong += _token_refusal(
                    method, path, role, minimum, await desk.call_with_token(method, path, person[2])
                )
    assert wrong == [], "\n".join(wrong)
    assert calls >= 40, f"only {calls} calls: the app's routes were not found"
    # Every refusal of a logged-in operator left a trace: who, which route, why.
    async with desk.app.state.tgadmin.sessions() as session:
        refused = list(await session.scalars(select(AuditLog).where(AuditLog.action == "access.refused")))
    assert len(refused) >= refusals > 0
    assert all(entry.actor_id and entry.entity_id and entry.after["reason"] for entry in refused)
