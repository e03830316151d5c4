"""Dashboard sessions, role checks and CSRF protection for every form.

- Session: an opaque random token in an HttpOnly, SameSite=Lax cookie; only its hash is stored
  (`OperatorSession`), so sessions are revocable.
- CSRF: logged-in forms carry HMAC(SESSION_SECRET, session token) in a `csrf` field, and
  state-changing JSON calls the same value in the `X-CSRF-Token` header; the login form, before any
  session exists, uses a double-submit cookie. All are compared in constant time, as bytes (a token
  may arrive as any text).
- API tokens: the JSON API (`/api/v1/...`) also takes `Authorization: Bearer tga_...` (operator/tokens.py).
  A token is not sent by a browser on its own, so such calls need no CSRF token; pages never take
  one (a page is for a person with a session).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tgadmin.config import Settings
from tgadmin.crypto import constant_time_equal, random_token
from tgadmin.errors import Forbidden, Unauthorized
from tgadmin.models import Operator
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service, tokens
from tgadmin.webkit.deps import SessionDep, StateDep

SESSION_COOKIE = "tgadmin_session"
LOGIN_CSRF_COOKIE = "tgadmin_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
API_PREFIX = "/api/v1/"
ROLE_RANK = {OperatorRole.VIEWER: 0, OperatorRole.OPERATOR: 1, OperatorRole.ADMIN: 2}


def _secret(settings: Settings) -> bytes:
    secret = settings.session_secret
    if secret is None:
        raise Unauthorized("SESSION_SECRET is not set; the dashboard cannot keep sessions")
    return secret.get_secret_value().encode()


def csrf_for_session(settings: Settings, session_token: str) -> str:
    return hmac.new(_secret(settings), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def check_csrf(settings: Settings, session_token: str, submitted: str | None) -> None:
    if not submitted or not constant_time_equal(csrf_for_session(settings, session_token), submitted):
        raise Forbidden("the form expired or did not come from this dashboard; reload the page and try again")


def login_csrf_token(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or random_token(16)


def remember_login_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def check_login_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not submitted or not constant_time_equal(cookie, submitted):
        raise Forbidden("the login form expired; reload the page and try again")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=int(service.SESSION_TTL.total_seconds()),
        secure=request.url.scheme == "https",
    )


# Documents the scheme in the OpenAPI document; a missing or non-Bearer header falls back to the cookie.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="A personal API token (`tga_...`, made on /account/tokens); no CSRF header needed",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def current_operator(
    request: Request, session: SessionDep, state: StateDep, bearer: BearerDep
) -> Operator:
    request.state.via_token = False
    if bearer is not None and request.url.path.startswith(API_PREFIX):
        operator = await tokens.operator_for_token(session, bearer.credentials)
        request.state.via_token = True
        request.state.operator = (operator.id, operator.email)
        request.state.time_zone = operator.time_zone
        return operator
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("please log in")
    operator = await service.operator_for_session(session, token)
    request.state.session_token = token
    request.state.csrf = csrf_for_session(state.settings, token)
    # Who is asking, for the audit of a refusal (web/errors.py) after this unit of work rolled back.
    request.state.operator = (operator.id, operator.email)
    request.state.time_zone = operator.time_zone
    return operator


CurrentOperator = Annotated[Operator, Depends(current_operator)]


async def require_csrf_header(
    request: Request,
    state: StateDep,
    operator: CurrentOperator,
    token: Annotated[
        str | None,
        Header(
            alias=CSRF_HEADER,
            description="The session's CSRF token (the `csrf` field of any dashboard form)",
        ),
    ] = None,
) -> None:
    """A cookie-authenticated JSON call that changes state must prove it comes from our pages (a
    call with an API token proves it by the token: browsers do not send one on their own)."""
    if request.state.via_token:
        return
    check_csrf(state.settings, request.state.session_token, token)


# Declare it after the role dependency, so a missing role is reported before a missing token.
CsrfHeader = Annotated[None, Depends(require_csrf_header)]


class RoleCheck:
    """Dependency: the operator must have at least `minimum` (viewer < operator < admin).

    A class rather than a closure so that the role a route needs can be read off the route itself
    (tests/web/test_role_matrix.py checks every route of the app against every role)."""

    def __init__(self, minimum: OperatorRole) -> None:
        self.minimum = minimum

    async def __call__(self, operator: CurrentOperator) -> Operator:
        if ROLE_RANK[operator.role] < ROLE_RANK[self.minimum]:
            raise Forbidden(f"this needs the {self.minimum.value} role; you are {operator.role.value}")
        return operator


def require_role(minimum: OperatorRole) -> RoleCheck:
    return RoleCheck(minimum)


ViewerDep = Annotated[Operator, Depends(require_role(OperatorRole.VIEWER))]
OperatorDep = Annotated[Operator, Depends(require_role(OperatorRole.OPERATOR))]
AdminDep = Annotated[Operator, Depends(require_role(OperatorRole.ADMIN))]
