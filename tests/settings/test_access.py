"""Every route of the Operators, API tokens and Settings areas × every caller: anonymous, each role
with a session, and each role's API token. A page sends nobody to /login and an unmet role gets 403;
the API answers 401 and 403 in JSON; tokens work on the API only, never on a page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import APIRoute

from tests.fixtures.dashboard import Desk, Person
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import admin_pages
from tgadmin.operator import api as operator_api
from tgadmin.settings import api as settings_api
from tgadmin.settings import pages as settings_pages

Staff = dict[OperatorRole | None, Person]
ADMIN, OPERATOR, VIEWER = OperatorRole.ADMIN, OperatorRole.OPERATOR, OperatorRole.VIEWER
RANK = {VIEWER: 0, OPERATOR: 1, ADMIN: 2}
MISSING = 9_999_999  # ids nobody has: an allowed call is refused further in, never by the role check


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    minimum: OperatorRole
    body: dict[str, Any] | None = None
    # Made from a session only: a leaked token must not mint others.
    not_by_token: bool = False

    @property
    def is_page(self) -> bool:
        return not self.path.startswith("/api/")


ROUTES = [
    Route("GET", "/operators", ADMIN),
    Route("POST", "/operators/invite", ADMIN, {"email": "bad", "role": "viewer"}),
    Route("POST", f"/operators/{MISSING}/role", ADMIN, {"role": "viewer"}),
    Route("POST", f"/operators/{MISSING}/deactivate", ADMIN),
    Route("POST", f"/operators/{MISSING}/reactivate", ADMIN),
    Route("GET", "/account", VIEWER),
    Route("POST", "/account/time-zone", VIEWER, {"time_zone": "Nowhere/Else"}),
    Route("GET", "/account/tokens", VIEWER),
    Route("POST", "/account/tokens", VIEWER, {"name": ""}),
    Route("POST", f"/account/tokens/{MISSING}/revoke", VIEWER),
    Route("GET", "/settings", ADMIN),
    Route("POST", "/settings/bots", ADMIN, {"token": ""}),
    Route("POST", f"/settings/bots/{MISSING}/webhook", ADMIN, {"action": "remove"}),
    Route("POST", "/settings/payment-methods", ADMIN, {}),
    Route("POST", "/settings/pix", ADMIN, {"provider": "nope"}),
    Route("POST", "/settings/limits", ADMIN, {"bot_per_second": "0"}),
    Route("GET", "/api/v1/operators", ADMIN),
    Route("POST", "/api/v1/operators", ADMIN, {"email": "bad", "role": "viewer"}),
    Route("PATCH", f"/api/v1/operators/{MISSING}", ADMIN, {"role": "viewer"}),
    Route("POST", f"/api/v1/operators/{MISSING}/deactivate", ADMIN),
    Route("POST", f"/api/v1/operators/{MISSING}/reactivate", ADMIN),
    Route("GET", "/api/v1/account", VIEWER),
    Route("PUT", "/api/v1/account", VIEWER, {"time_zone": "Nowhere/Else"}),
    Route("GET", "/api/v1/tokens", VIEWER),
    Route("POST", "/api/v1/tokens", VIEWER, {"name": ""}, not_by_token=True),
    Route("DELETE", f"/api/v1/tokens/{MISSING}", VIEWER),
    Route("GET", "/api/v1/settings", ADMIN),
    Route("POST", "/api/v1/settings/bots", ADMIN, {"token": "x"}),
    Route("PUT", f"/api/v1/settings/bots/{MISSING}/webhook", ADMIN),
    Route("DELETE", f"/api/v1/settings/bots/{MISSING}/webhook", ADMIN),
    Route("PUT", "/api/v1/settings/payment-methods", ADMIN, {"pix": False, "stars": False}),
    Route("PUT", "/api/v1/settings/pix", ADMIN, {"provider": "apipix", "expires_minutes": 30}),
    Route(
        "PUT",
        "/api/v1/settings/limits",
        ADMIN,
        {"bot_per_second": 1, "group_per_minute": 1, "group_cooldown_seconds": 0},
    ),
]


async def call(person: Person, route: Route, bearer: str | None) -> httpx.Response:
    if bearer is not None:
        headers = {"Authorization": f"Bearer {bearer}"}
        data = None if route.is_page else route.body
        return await person.http.request(route.method, route.path, headers=headers, json=data)
    if route.is_page:
        if route.method == "GET":
            return await person.http.get(route.path)
        return await person.submit(route.path, **(route.body or {}))
    return await person.api(route.method, route.path, json=route.body)


def expected(route: Route, role: OperatorRole | None, with_token: bool) -> str:
    if role is None or (with_token and route.is_page):
        return "login"
    if with_token and route.not_by_token:
        return "forbidden"
    return "allowed" if RANK[role] >= RANK[route.minimum] else "forbidden"


def outcome(route: Route, response: httpx.Response) -> str:
    if route.is_page:
        if response.status_code == 303 and response.headers["location"] == "/login":
            return "login"
    elif response.status_code == 401:
        assert response.json()["error"] == "unauthorized"
        return "login"
    if response.status_code == 403:
        return "forbidden"
    assert response.status_code < 500, (route, response.status_code, response.text[:300])
    return "allowed"


async def test_every_route_by_every_caller(desk: Desk, staff: Staff) -> None:
    tokens: dict[OperatorRole, str] = {}
    for role in (VIEWER, OPERATOR, ADMIN):
        made = await staff[role].api("POST", "/api/v1/tokens", json={"name": f"{role.value} script"})
        tokens[role] = made.json()["token"]
    async with httpx.AsyncClient(base_url=desk.base_url, trust_env=False) as bare:
        scripts = {role: Person(bare, "") for role in tokens}
        wrong: list[str] = []
        for route in ROUTES:
            for caller in (None, VIEWER, OPERATOR, ADMIN):
                got = outcome(route, await call(staff[caller], route, None))
                if got != expected(route, caller, False):
                    wrong.append(f"{route.method} {route.path} as {caller}: {got}")
            for owner, token in tokens.items():
                got = outcome(route, await call(scripts[owner], route, token))
                if got != expected(route, owner, True):
                    wrong.append(f"{route.method} {route.path} with a {owner.value} token: {got}")
    assert wrong == []


def test_the_matrix_covers_every_route_of_these_areas() -> None:
    routers = (operator_api.router, admin_pages.router, settings_api.router, settings_pages.router)
    declared = {
        (method, route.path)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    normal = {(method, re.sub(r"\{\w+_id\}", "{x}", path)) for method, path in declared}
    assert normal == {(r.method, r.path.replace(str(MISSING), "{x}")) for r in ROUTES}
