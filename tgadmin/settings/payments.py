"""Payment settings: which methods the storefront offers, the PIX provider with its credentials
(encrypted at rest in `PaymentProviderConfig`), and the charge lifetime.

The environment is the default; a value saved here is stored in the database and shown as such.
New credentials are tried against the PSP before anything is saved (API Pix: the OAuth token call;
Mercado Pago: `/users/me`; static: the code builds): credentials that fail are refused, clearly.

Where it is read: the storefront reads `payment_methods` at each checkout. The PIX provider, its
credentials and the charge lifetime are put over the environment when a process starts
(settings/effective.py, through `effective_settings`): the processes started after a change use it.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.config import PixProviderName, Settings
from tgadmin.errors import BadRequest, ConfigError, TgadminError
from tgadmin.pix.providers import get_provider
from tgadmin.settings import repository

METHODS = "payment_methods"  # read by payment/checkout.py (METHODS_SETTING): same key, same shape
DEFAULT_METHODS = {"pix": True, "stars": True}
PIX = "pix"  # {"provider": name, "expires_minutes": n}
EXPIRES_RANGE = (1, 1440)

# Per provider, the settings its credentials fill in, and which of them are secrets.
FIELDS: dict[PixProviderName, tuple[str, ...]] = {
    PixProviderName.APIPIX: (
        "pix_api_url",
        "pix_token_url",
        "pix_client_id",
        "pix_client_secret",
        "pix_key",
        "pix_webhook_secret",
    ),
    PixProviderName.MERCADOPAGO: (
        "mercadopago_access_token",
        "mercadopago_webhook_secret",
        "mercadopago_payer_email",
    ),
    PixProviderName.STATIC: ("pix_key", "pix_merchant_name", "pix_merchant_city"),
    PixProviderName.SANDBOX: (),
}
SECRETS = frozenset(
    {"pix_client_secret", "pix_webhook_secret", "mercadopago_access_token", "mercadopago_webhook_secret"}
)


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, never enough to use it."""
    return f"{secret[:2]}…{secret[-2:]}" if len(secret) >= 12 else "••••"


@dataclass(frozen=True)
class Value:
    value: Any
    source: str  # "database" or "environment"


@dataclass(frozen=True)
class PaymentSettings:
    methods: dict[str, bool]
    methods_source: str
    provider: Value
    expires_minutes: Value
    # Saved credentials per provider, secrets masked.
    credentials: dict[str, dict[str, str]]


def provider_name(text: str) -> PixProviderName:
    try:
        return PixProviderName(text)
    except ValueError:
        names = ", ".join(p.value for p in PixProviderName)
        raise BadRequest(f"{text!r} is not a PIX provider: choose one of {names}") from None


async def saved_credentials(session: AsyncSession, provider: PixProviderName) -> dict[str, str]:
    row = await repository.provider_config(session, provider.value)
    if row is None:
        return {}
    loaded = json.loads(row.credentials)
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def shown(credentials: dict[str, str]) -> dict[str, str]:
    return {k: mask(v) if k in SECRETS else v for k, v in credentials.items()}


async def current(session: AsyncSession, settings: Settings) -> PaymentSettings:
    methods = await repository.value(session, METHODS)
    pix = await repository.value(session, PIX) or {}
    saved = {
        row.provider: shown({str(k): str(v) for k, v in json.loads(row.credentials).items()})
        for row in await repository.provider_configs(session)
    }
    return PaymentSettings(
        methods={**DEFAULT_METHODS, **(methods or {})},
        methods_source="database" if methods is not None else "default",
        provider=Value(pix["provider"], "database")
        if "provider" in pix
        else Value(settings.pix_provider.value, "environment"),
        expires_minutes=Value(pix["expires_minutes"], "database")
        if "expires_minutes" in pix
        else Value(settings.pix_expires_minutes, "environment"),
        credentials=saved,
    )


async def save_methods(session: AsyncSession, pix: bool, stars: bool, actor: Actor) -> dict[str, bool]:
    if not pix and not stars:
        raise BadRequest("offer at least one payment method: with none, buyers could not pay at all")
    before = await repository.value(session, METHODS)
    after = {"pix": pix, "stars": stars}
    await repository.store(session, METHODS, after)
    await record(
        session, actor, "settings.payment_methods", "app_setting", METHODS, before=before, after=after
    )
    return after


def effective_settings(env: Settings, provider: PixProviderName, credentials: dict[str, str]) -> Settings:
    """The environment's settings with the provider and its credentials from the database on top."""
    try:
        return Settings.model_validate({**env.model_dump(), "pix_provider": provider, **credentials})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        raise BadRequest(problems) from None


async def try_provider(settings: Settings) -> str:
    """One test call to the PSP with these settings; a refusal or no answer is a clear BadRequest."""
    try:
        provider = get_provider(settings)
    except ConfigError as error:
        raise BadRequest(f"incomplete credentials: {error.message}") from None
    try:
        return await provider.check()
    except TgadminError as error:
        raise BadRequest(
            f"the test call to {provider.name} failed, nothing was saved: {error.message}"
        ) from None
    finally:
        await provider.aclose()


def _filled(provider: PixProviderName, submitted: dict[str, str], saved: dict[str, str]) -> dict[str, str]:
    """The provider's fields as submitted; a secret left blank keeps the saved one."""
    unknown = set(submitted) - set(FIELDS[provider])
    if unknown:
        raise BadRequest(f"{provider.value} takes no {', '.join(sorted(unknown))}")
    filled: dict[str, str] = {}
    for name in FIELDS[provider]:
        text = submitted.get(name, "").strip()
        if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
            raise BadRequest(f"{name.upper()}: control characters are not allowed")
        if not text and name in SECRETS:
            text = saved.get(name, "")
        if text:
            filled[name] = text
    return filled


def _minutes(value: int) -> int:
    low, high = EXPIRES_RANGE
    if not low <= value <= high:
        raise BadRequest(f"a PIX charge lives between {low} and {high} minutes (got {value})")
    return value


async def save_pix(
    session: AsyncSession,
    env: Settings,
    provider: PixProviderName,
    submitted: dict[str, str],
    expires_minutes: int,
    actor: Actor,
) -> str:
    """Try the credentials, then store them (encrypted) and the choice; returns the PSP's answer."""
    minutes = _minutes(expires_minutes)
    credentials = _filled(provider, submitted, await saved_credentials(session, provider))
    answer = await try_provider(effective_settings(env, provider, credentials))
    before = await repository.value(session, PIX)
    if FIELDS[provider]:
        await repository.store_provider_config(session, provider.value, json.dumps(credentials))
    after = {"provider": provider.value, "expires_minutes": minutes}
    await repository.store(session, PIX, after)
    await record(
        session,
        actor,
        "settings.pix",
        "app_setting",
        PIX,
        before=before,
        after={**after, "credentials": shown(credentials)},
    )
    return answer
