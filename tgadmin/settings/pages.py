"""The Settings page (admin): bots, payment methods and PIX provider, Telegram limits (thin: the
rules are in bots.py, payments.py and service.py, shared with the JSON API). Every form posts with
the session's CSRF token and comes back with a one-time message saying what happened, or why not."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tgadmin.errors import BadRequest, TgadminError
from tgadmin.operator.auth import AdminDep, check_csrf
from tgadmin.settings import bots, payments, service
from tgadmin.settings.api import actor_of
from tgadmin.webkit.deps import SessionDep, StateDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.params import RowId
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)
PAGE = "/settings"
Csrf = Annotated[str, Form()]


def _back(message: Flash | str, *, ok: bool) -> RedirectResponse:
    return redirect_with(PAGE, message, ok=ok, path=PAGE)


def _number(form: FormData, name: str) -> int:
    text = str(form.get(name) or "").strip()
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"{name.replace('_', ' ')}: {text!r} is not a whole number") from None


@router.get(PAGE)
async def settings_page(
    request: Request, session: SessionDep, state: StateDep, admin: AdminDep
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "settings.html",
        {
            "operator": admin,
            "csrf": request.state.csrf,
            "flash": read_flash(request),
            "bots": await bots.listed(session, state.settings),
            "https": state.settings.public_url.startswith("https://"),
            "public_url": state.settings.public_url,
            "payments": await payments.current(session, state.settings),
            "providers": payments.FIELDS,
            "secrets": payments.SECRETS,
            "limits": await service.limits(session, state.settings),
            "private_per_second": state.settings.tg_private_per_second,
        },
    )
    drop_flash(request, response, path=PAGE)
    return response


@router.post(f"{PAGE}/bots")
async def add_bot(
    request: Request, session: SessionDep, state: StateDep, admin: AdminDep, csrf: Csrf = "", token: Csrf = ""
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        bot = await bots.add(session, state.settings, token, actor_of(admin, request))
    except TgadminError as error:
        return _back(error.message, ok=False)
    return _back(
        Flash("@%(bot)s is registered (%(token)s)", bot=bot.username, token=bots.mask_token(bot.token)),
        ok=True,
    )


@router.post(f"{PAGE}/bots/{{bot_id}}/webhook")
async def webhook(
    bot_id: RowId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    admin: AdminDep,
    csrf: Csrf = "",
    action: Csrf = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    actor = actor_of(admin, request)
    try:
        if action == "remove":
            await bots.remove_webhook(session, state.settings, bot_id, actor)
            return _back(
                Flash("webhook removed: the bot is in polling mode (run `tgadmin bot --polling`)"), ok=True
            )
        url = await bots.set_webhook(session, state.settings, bot_id, actor)
    except TgadminError as error:
        return _back(error.message, ok=False)
    return _back(Flash("webhook set to %(url)s: the bot is in webhook mode", url=url), ok=True)


@router.post(f"{PAGE}/payment-methods")
async def payment_methods(
    request: Request,
    session: SessionDep,
    state: StateDep,
    admin: AdminDep,
    csrf: Csrf = "",
    pix: Csrf = "",
    stars: Csrf = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        saved = await payments.save_methods(session, bool(pix), bool(stars), actor_of(admin, request))
    except TgadminError as error:
        return _back(error.message, ok=False)
    offered = [name.upper() if name == "pix" else "Stars" for name, on in saved.items() if on]
    if len(offered) > 1:
        return _back(
            Flash("the storefront offers %(one)s and %(other)s", one=offered[0], other=offered[1]), ok=True
        )
    return _back(Flash("the storefront offers %(one)s", one="".join(offered)), ok=True)


@router.post(f"{PAGE}/pix")
async def pix(request: Request, session: SessionDep, state: StateDep, admin: AdminDep) -> Response:
    form = await request.form()
    check_csrf(state.settings, request.state.session_token, str(form.get("csrf") or ""))
    try:
        provider = payments.provider_name(str(form.get("provider") or ""))
        # Each provider's fields carry its name as a prefix, so one page holds all their forms.
        submitted = {
            name: str(form.get(f"{provider.value}.{name}") or "") for name in payments.FIELDS[provider]
        }
        answer = await payments.save_pix(
            session,
            state.settings,
            provider,
            submitted,
            _number(form, "expires_minutes"),
            actor_of(admin, request),
        )
    except TgadminError as error:
        return _back(error.message, ok=False)
    return _back(
        Flash("PIX provider %(provider)s saved: %(answer)s", provider=provider.value, answer=answer), ok=True
    )


@router.post(f"{PAGE}/limits")
async def limits(request: Request, session: SessionDep, state: StateDep, admin: AdminDep) -> Response:
    form = await request.form()
    check_csrf(state.settings, request.state.session_token, str(form.get("csrf") or ""))
    try:
        values = {name: _number(form, name) for name in service.RANGES}
        await service.save_limits(session, values, actor_of(admin, request))
    except TgadminError as error:
        return _back(error.message, ok=False)
    return _back(Flash("Telegram limits saved"), ok=True)
