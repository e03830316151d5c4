"""Settings in the JSON API (admin): bots, payment methods and PIX provider, Telegram limits.

Calls that change something carry `X-CSRF-Token` (or an API token). Refused input changes nothing:
a token getMe refuses, a webhook without an https PUBLIC_URL, PSP credentials that fail a test call.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor
from tgadmin.config import Settings
from tgadmin.errors import ErrorRead
from tgadmin.models import Operator
from tgadmin.operator.auth import AdminDep, CsrfHeader
from tgadmin.settings import bots, payments, service
from tgadmin.settings.schemas import (
    BotAdd,
    BotRead,
    LimitsRead,
    LimitsUpdate,
    PaymentMethods,
    PaymentsRead,
    PixSaved,
    PixUpdate,
    SettingsRead,
    Sourced,
    WebhookRead,
)
from tgadmin.webkit.deps import SessionDep, StateDep
from tgadmin.webkit.params import RowId

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in, or the API token is unknown or revoked"},
    403: {"model": ErrorRead, "description": "admins only, or the CSRF token is wrong"},
}
_CHANGE: dict[int | str, dict[str, Any]] = {
    **_REFUSALS,
    400: {"model": ErrorRead, "description": "refused: the reason says what to fix; nothing was saved"},
}
_TELEGRAM: dict[int | str, dict[str, Any]] = {
    **_CHANGE,
    404: {"model": ErrorRead, "description": "no such bot"},
    503: {"model": ErrorRead, "description": "Telegram did not answer; nothing was saved"},
}


def actor_of(admin: Operator, request: Request) -> Actor:
    return Actor.operator(admin.id, admin.email, request.client.host if request.client else None)


def webhook_read(hook: bots.Webhook) -> WebhookRead:
    return WebhookRead(
        mode=hook.mode,
        url=hook.url,
        pending_updates=hook.pending,
        last_error=hook.last_error,
        last_error_at=hook.last_error_at,
        problem=hook.problem,
    )


def bot_read(view: bots.BotView) -> BotRead:
    return BotRead(
        id=view.id,
        username=view.username,
        telegram_id=view.telegram_id,
        token=view.token_masked,
        webhook=webhook_read(view.webhook),
    )


def payments_read(current: payments.PaymentSettings) -> PaymentsRead:
    return PaymentsRead(
        methods=PaymentMethods(**current.methods),
        methods_source=current.methods_source,
        provider=Sourced(value=current.provider.value, source=current.provider.source),
        expires_minutes=Sourced(value=current.expires_minutes.value, source=current.expires_minutes.source),
        credentials=current.credentials,
    )


async def limits_read(session: AsyncSession, settings: Settings) -> LimitsRead:
    found = await service.limits(session, settings)
    return LimitsRead(
        **found.values,
        private_per_second=settings.tg_private_per_second,
        source=found.source,
        read_by_gateway=True,
    )


@router.get("", responses=_REFUSALS)
async def read_settings(session: SessionDep, state: StateDep, admin: AdminDep) -> SettingsRead:
    """Everything on the Settings page; each bot's webhook state is asked of Telegram now."""
    return SettingsRead(
        bots=[bot_read(view) for view in await bots.listed(session, state.settings)],
        payments=payments_read(await payments.current(session, state.settings)),
        limits=await limits_read(session, state.settings),
    )


@router.post("/bots", status_code=status.HTTP_201_CREATED, responses=_TELEGRAM)
async def add_bot(
    body: BotAdd, request: Request, session: SessionDep, state: StateDep, admin: AdminDep, _csrf: CsrfHeader
) -> BotRead:
    """Add a bot by its token (or give a known bot its new token); getMe must accept it."""
    bot = await bots.add(session, state.settings, body.token, actor_of(admin, request))
    return BotRead(
        id=bot.id, username=bot.username, telegram_id=bot.telegram_id, token=bots.mask_token(bot.token)
    )


@router.put("/bots/{bot_id}/webhook", responses=_TELEGRAM)
async def set_webhook(
    bot_id: RowId, request: Request, session: SessionDep, state: StateDep, admin: AdminDep, _csrf: CsrfHeader
) -> WebhookRead:
    """Webhook mode: Telegram delivers to PUBLIC_URL/telegram/webhook/{bot_id} (https only)."""
    url = await bots.set_webhook(session, state.settings, bot_id, actor_of(admin, request))
    return WebhookRead(
        mode="webhook", url=url, pending_updates=0, last_error=None, last_error_at=None, problem=None
    )


@router.delete("/bots/{bot_id}/webhook", responses=_TELEGRAM)
async def remove_webhook(
    bot_id: RowId, request: Request, session: SessionDep, state: StateDep, admin: AdminDep, _csrf: CsrfHeader
) -> WebhookRead:
    """Polling mode: no webhook; `tgadmin bot --polling` fetches the updates."""
    await bots.remove_webhook(session, state.settings, bot_id, actor_of(admin, request))
    return WebhookRead(
        mode="polling", url=None, pending_updates=0, last_error=None, last_error_at=None, problem=None
    )


@router.put("/payment-methods", responses=_CHANGE)
async def save_methods(
    body: PaymentMethods, request: Request, session: SessionDep, admin: AdminDep, _csrf: CsrfHeader
) -> PaymentMethods:
    """Which methods the storefront offers at checkout (at least one)."""
    saved = await payments.save_methods(session, body.pix, body.stars, actor_of(admin, request))
    return PaymentMethods(**saved)


@router.put("/pix", responses=_CHANGE)
async def save_pix(
    body: PixUpdate,
    request: Request,
    session: SessionDep,
    state: StateDep,
    admin: AdminDep,
    _csrf: CsrfHeader,
) -> PixSaved:
    """The PIX provider, its credentials (tried against the PSP first) and the charge lifetime."""
    answer = await payments.save_pix(
        session,
        state.settings,
        body.provider,
        body.credentials.submitted(),
        body.expires_minutes,
        actor_of(admin, request),
    )
    return PixSaved(message=answer, payments=payments_read(await payments.current(session, state.settings)))


@router.put("/limits", responses=_CHANGE)
async def save_limits(
    body: LimitsUpdate,
    request: Request,
    session: SessionDep,
    state: StateDep,
    admin: AdminDep,
    _csrf: CsrfHeader,
) -> LimitsRead:
    """Telegram rates and the default group cooldown (stored; the gateway reads the environment's)."""
    await service.save_limits(session, body.model_dump(), actor_of(admin, request))
    return await limits_read(session, state.settings)
