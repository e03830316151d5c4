"""Login, magic-link and logout pages (thin: the rules live in operator/service.py)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tgadmin.config import Settings
from tgadmin.errors import ServiceUnavailable, TgadminError, Unauthorized
from tgadmin.mail import send_login_link
from tgadmin.operator import service
from tgadmin.operator.auth import (
    SESSION_COOKIE,
    CurrentOperator,
    check_csrf,
    check_login_csrf,
    login_csrf_token,
    remember_login_csrf,
    set_session_cookie,
)
from tgadmin.webkit.deps import SessionDep, StateDep
from tgadmin.webkit.templating import templates

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """Pages before login carry a double-submit CSRF token (cookie + hidden field)."""
    token = login_csrf_token(request)
    response = templates.TemplateResponse(
        request, name, {"operator": None, "csrf": token, **context}, status_code=status_code
    )
    remember_login_csrf(request, response, token)
    return response


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html")


@router.post("/login")
async def login_submit(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    state: StateDep,
    email: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_login_csrf(request, csrf)
    try:
        address = service.normalize_email(email)
    except TgadminError as error:
        return _render(request, "login.html", status_code=400, error=error.message)
    link = await service.request_magic_link(
        session, state.windows, state.settings, address, request.client.host if request.client else None
    )
    # The same answer whether the address is an operator's, unknown, or over its limit (no account
    # enumeration); the link goes out after the answer, so neither how long sending takes nor
    # whether it fails tells anything either.
    if link is not None:
        background.add_task(
            _deliver, state.settings, address, service.login_url(state.settings.public_url, link.token)
        )
    return _render(request, "login.html", sent=True, email=address)


async def _deliver(settings: Settings, address: str, url: str) -> None:
    try:
        await send_login_link(settings, address, url)
    except ServiceUnavailable as error:
        log.error("login link for %s not delivered: %s", address, error.message)


@router.get("/auth/magic")
async def magic_page(request: Request, token: str = "") -> HTMLResponse:
    if not token:
        return _render(request, "magic.html", status_code=400, error="This login link is incomplete.")
    return _render(request, "magic.html", token=token)


@router.post("/auth/magic")
async def magic_submit(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_login_csrf(request, csrf)
    try:
        login = await service.consume_magic_link(
            session,
            token,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
    except Unauthorized as error:
        return _render(request, "magic.html", status_code=401, error=error.message)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, login.token)
    return response


@router.post("/logout")
async def logout(
    request: Request,
    session: SessionDep,
    state: StateDep,
    operator: CurrentOperator,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    token: str = request.state.session_token
    check_csrf(state.settings, token, csrf)
    await service.end_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
