"""The Operators page (admin) and the API tokens page (everyone: their own; an admin: all) — thin:
the rules live in service.py and tokens.py, shared with the JSON API.

Forms post with the session's CSRF token and come back with a one-time message; a new API token is
the exception: the answer to its form is the page itself, showing the secret this once (a redirect
would have to carry the secret in a cookie or a URL).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tgadmin.clock import time_zones, utcnow
from tgadmin.errors import BadRequest, TgadminError
from tgadmin.models import Operator
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service, tokens
from tgadmin.operator.api import actor_of, invite_and_mail
from tgadmin.operator.auth import AdminDep, ViewerDep, check_csrf
from tgadmin.webkit.deps import SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.params import RowId
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

OPERATORS, ACCOUNT, TOKENS = "/operators", "/account", "/account/tokens"


def _role(text: str) -> OperatorRole:
    try:
        return OperatorRole(text)
    except ValueError:
        raise BadRequest(f"{text!r} is not a role: choose viewer, operator or admin") from None


def _back(url: str, message: Flash | str, *, ok: bool) -> RedirectResponse:
    return redirect_with(url, message, ok=ok, path=url)


@router.get(OPERATORS)
async def operators_page(request: Request, session: SessionDep, admin: AdminDep) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "operators.html",
        {
            "operator": admin,
            "csrf": request.state.csrf,
            "people": await service.list_operators(session),
            "roles": list(OperatorRole),
            "flash": read_flash(request),
        },
    )
    drop_flash(request, response, path=OPERATORS)
    return response


@router.post(f"{OPERATORS}/invite")
async def invite(
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    admin: AdminDep,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        _, mailed, message = await invite_and_mail(
            work, state.settings, email, _role(role), actor_of(admin, request)
        )
    except TgadminError as error:
        return _back(OPERATORS, error.message, ok=False)
    return _back(OPERATORS, message, ok=mailed)


@router.post(f"{OPERATORS}/{{operator_id}}/role")
async def change_role(
    operator_id: RowId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    admin: AdminDep,
    csrf: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        changed = await service.change_role(session, operator_id, _role(role), actor_of(admin, request))
    except TgadminError as error:
        return _back(OPERATORS, error.message, ok=False)
    return _back(
        OPERATORS, Flash("%(email)s is now %(role)s", email=changed.email, role=changed.role.value), ok=True
    )


@router.post(f"{OPERATORS}/{{operator_id}}/deactivate")
async def deactivate(
    operator_id: RowId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    admin: AdminDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        gone = await service.deactivate(session, operator_id, actor_of(admin, request))
    except TgadminError as error:
        return _back(OPERATORS, error.message, ok=False)
    message = Flash(
        "%(email)s is deactivated; their sessions and API tokens no longer work", email=gone.email
    )
    return _back(OPERATORS, message, ok=True)


@router.post(f"{OPERATORS}/{{operator_id}}/reactivate")
async def reactivate(
    operator_id: RowId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    admin: AdminDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        back = await service.reactivate(session, operator_id, actor_of(admin, request))
    except TgadminError as error:
        return _back(OPERATORS, error.message, ok=False)
    return _back(
        OPERATORS, Flash("%(email)s may log in again (with a new login link)", email=back.email), ok=True
    )


@router.get(ACCOUNT)
async def account_page(request: Request, who: ViewerDep) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "account.html",
        {
            "operator": who,
            "csrf": request.state.csrf,
            "zones": time_zones(),
            "now": utcnow(),
            "flash": read_flash(request),
        },
    )
    drop_flash(request, response, path=ACCOUNT)
    return response


@router.post(f"{ACCOUNT}/time-zone")
async def set_time_zone(
    request: Request,
    session: SessionDep,
    state: StateDep,
    who: ViewerDep,
    csrf: Annotated[str, Form()] = "",
    time_zone: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        await service.set_time_zone(session, who, time_zone, actor_of(who, request))
    except TgadminError as error:
        return _back(ACCOUNT, error.message, ok=False)
    return _back(ACCOUNT, Flash("Times are now shown in %(zone)s.", zone=who.time_zone), ok=True)


async def _tokens_page(
    request: Request, session: SessionDep, who: Operator, new: tokens.NewToken | None = None
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "tokens.html",
        {
            "operator": who,
            "csrf": request.state.csrf,
            "rows": await tokens.listed(session, who),
            "new": new,
            "flash": read_flash(request),
        },
        headers={"Cache-Control": "no-store"},
    )
    drop_flash(request, response, path=TOKENS)
    return response


@router.get(TOKENS)
async def tokens_page(request: Request, session: SessionDep, who: ViewerDep) -> HTMLResponse:
    return await _tokens_page(request, session, who)


@router.post(TOKENS)
async def create_token(
    request: Request,
    session: SessionDep,
    state: StateDep,
    who: ViewerDep,
    csrf: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        new = await tokens.create(session, who, name, actor_of(who, request))
    except TgadminError as error:
        return _back(TOKENS, error.message, ok=False)
    return await _tokens_page(request, session, who, new)


@router.post(f"{TOKENS}/{{token_id}}/revoke")
async def revoke_token(
    token_id: RowId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    who: ViewerDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        row = await tokens.revoke(session, token_id, who, actor_of(who, request))
    except TgadminError as error:
        return _back(TOKENS, error.message, ok=False)
    return _back(TOKENS, Flash("the token “%(name)s” is revoked", name=row.name), ok=True)
