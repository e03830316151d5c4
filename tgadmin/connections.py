"""`tgadmin check`: test every configured connection, one line each, never hanging on a dead host;
and `/readyz` of the dashboard and the bot: do the database, Redis and storage answer now."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosmtplib
import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tgadmin.config import Settings
from tgadmin.db import create_engine, ping, session_factory
from tgadmin.errors import ServiceUnavailable, TgadminError
from tgadmin.redis import ping as redis_ping
from tgadmin.storage import get_storage
from tgadmin.telegram import bots

TIMEOUT = 6.0
# A load balancer asks often and gives up quickly: a readiness probe answers within this.
READY_TIMEOUT = 3.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False

    def line(self) -> str:
        state = "SKIP" if self.skipped else ("OK" if self.ok else "FAIL")
        return f"{self.name:<10} {state:<4}  {self.detail}"


async def _guard(name: str, probe: Callable[[], Awaitable[str]], within: float = TIMEOUT) -> CheckResult:
    try:
        detail = await asyncio.wait_for(probe(), within)
    except TimeoutError:
        return CheckResult(name, False, f"no answer within {within:.0f} s")
    except TgadminError as error:
        return CheckResult(
            name, False, error.message.split(": ", 1)[-1] if ": " in error.message else error.message
        )
    except (OSError, httpx.HTTPError, aiosmtplib.SMTPException) as error:
        return CheckResult(name, False, str(error) or type(error).__name__)
    return CheckResult(name, True, detail)


async def _database(settings: Settings) -> str:
    engine = create_engine(settings.database_url)
    try:
        return await ping(engine)
    finally:
        await engine.dispose()


async def _smtp(settings: Settings) -> str:
    assert settings.smtp_host
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        timeout=5,
        start_tls=False,
        use_tls=settings.smtp_port == 465,
    )
    await smtp.connect()
    try:
        if settings.smtp_starttls and smtp.supports_extension("starttls") and settings.smtp_port != 465:
            await smtp.starttls()
        if settings.smtp_user and settings.smtp_password:
            await smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        return f"{settings.smtp_host}:{settings.smtp_port} accepts mail"
    finally:
        await smtp.quit()


async def _bot_tokens(settings: Settings) -> list[str]:
    tokens: list[str] = []
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            tokens = [bot.token for bot in await bots.active_bots(session)]
    except (SQLAlchemyError, OSError):
        tokens = []  # the database line reports why
    finally:
        await engine.dispose()
    if not tokens and settings.telegram_bot_token:
        tokens = [settings.telegram_bot_token.get_secret_value()]
    return tokens


async def _telegram(settings: Settings, tokens: list[str]) -> str:
    names = []
    async with httpx.AsyncClient(timeout=5) as http:
        for token in tokens:
            response = await http.get(f"{settings.telegram_api_base_url}/bot{token}/getMe")
            body = (
                response.json()
                if response.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            if not body.get("ok"):
                description = body.get("description") or f"HTTP {response.status_code}"
                raise TgadminError(f"telegram: a bot token was refused: {description}")
            names.append("@" + str(body["result"].get("username")))
    return f"{', '.join(names)} via {settings.telegram_api_base_url}"


async def run_checks(settings: Settings) -> list[CheckResult]:
    storage = get_storage(settings)
    redis_url = settings.effective_redis_url
    probes: list[Awaitable[CheckResult]] = [
        _guard("database", lambda: _database(settings)),
        _guard("redis", lambda: redis_ping(redis_url))
        if redis_url
        else _skip("redis", "REDIS_URL unset: `tgadmin dev` starts an embedded server"),
        _guard("storage", storage.ping),
        _guard("smtp", lambda: _smtp(settings))
        if settings.smtp_host
        else _skip("smtp", "SMTP_HOST unset: magic links are printed to the log"),
    ]
    probes += [_telegram_line(settings), _pix(settings)]
    return list(await asyncio.gather(*probes))


async def _telegram_line(settings: Settings) -> CheckResult:
    tokens = await _bot_tokens(settings)
    if not tokens:
        return CheckResult("telegram", True, "no bot configured: `tgadmin dev` uses the sandbox", True)
    return await _guard("telegram", lambda: _telegram(settings, tokens))


async def _pix(settings: Settings) -> CheckResult:
    from tgadmin.pix.providers import get_provider

    try:
        provider = get_provider(settings)
    except TgadminError as error:
        return CheckResult("pix", False, error.message)
    try:
        return await _guard("pix", provider.check)
    finally:
        await provider.aclose()


async def _skip(name: str, why: str) -> CheckResult:
    return CheckResult(name, True, why, skipped=True)


async def _redis_answers(redis: Redis) -> str:
    try:
        await redis.info("server")
    except RedisError as error:
        raise ServiceUnavailable(f"redis: {error or type(error).__name__}") from None
    return "answers"


async def readiness(settings: Settings, engine: AsyncEngine, redis: Redis | None) -> list[CheckResult]:
    """What a process needs to serve requests, probed through its own engine and Redis client."""
    storage = get_storage(settings)
    probes: list[Awaitable[CheckResult]] = [
        _guard("database", lambda: ping(engine), READY_TIMEOUT),
        _guard("redis", lambda: _redis_answers(redis), READY_TIMEOUT)
        if redis is not None
        else _skip("redis", "REDIS_URL unset"),
        _guard("storage", storage.ping, READY_TIMEOUT),
    ]
    return list(await asyncio.gather(*probes))
