"""`tgadmin dev`: prepare ./var, migrate, start embedded Redis and the sandbox when nothing is
configured, then the dashboard, bot and worker; Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from dataclasses import dataclass
from types import FrameType

import httpx

from tgadmin import migrate
from tgadmin.config import SECRETS_FILE, VAR_DIR, PixProviderName, Settings, get_settings
from tgadmin.crypto import generate_key, random_token
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.dev.demo import DemoCast, create_demo_cast
from tgadmin.dev.supervisor import Supervisor
from tgadmin.errors import ServiceUnavailable
from tgadmin.pix.providers.apipix import webhook_url
from tgadmin.redis import EmbeddedRedis

log = logging.getLogger("tgadmin.dev")

DEV_BOT_USERNAME = "tgadmin_dev_bot"
DEV_ADMIN_EMAIL = "admin@localhost.localdomain"


def ensure_secrets() -> bool:
    """Generate the three secrets once into var/secrets.env (read before .env); True if written now."""
    if SECRETS_FILE.exists():
        return False
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    SECRETS_FILE.write_text(
        f"DATA_ENCRYPTION_KEY={generate_key()}\nSESSION_SECRET={random_token()}\n"
        f"MAGIC_LINK_SECRET={random_token()}\n"
    )
    SECRETS_FILE.chmod(0o600)
    return True


def wait_http(url: str, timeout: float = 90.0) -> None:
    # Generous: on a busy 2-core machine the first start (migrations, imports) can take a while.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise ServiceUnavailable(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class DevBot:
    username: str
    token: str

    @property
    def id(self) -> int:
        return int(self.token.split(":", 1)[0])


async def _stored_bot(settings: Settings) -> DevBot | None:
    from tgadmin.telegram import bots

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            bot = await bots.first(session)
            return None if bot is None else DevBot(bot.username, bot.token)
    finally:
        await engine.dispose()


async def _register(settings: Settings, token: str) -> None:
    from tgadmin.bot.seeding import register_bot

    engine = create_engine(settings.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await register_bot(session, token, settings)
    finally:
        await engine.dispose()


def connect_sandbox_bot(settings: Settings, sandbox_url: str) -> DevBot:
    """The sandbox keeps nothing across restarts: recreate the stored dev bot (same token), or a new one."""
    stored = asyncio.run(_stored_bot(settings))
    body: dict[str, str] = {"username": stored.username if stored else DEV_BOT_USERNAME}
    if stored:
        body["token"] = stored.token
    response = httpx.post(f"{sandbox_url}/sandbox/bots", json=body, timeout=5)
    response.raise_for_status()
    token = str(response.json()["token"])
    asyncio.run(_register(settings, token))
    return DevBot(body["username"], token)


async def _first_admin_link(settings: Settings) -> str | None:
    from tgadmin.audit.service import Actor
    from tgadmin.models.enums import OperatorRole
    from tgadmin.operator import repository, service

    engine = create_engine(settings.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            if await repository.count(session) > 0:
                return None
            operator = await service.create_operator(
                session, DEV_ADMIN_EMAIL, OperatorRole.ADMIN, Actor.system("tgadmin dev")
            )
            link = await service.issue_magic_link(session, operator)
            return service.login_url(settings.public_url, link.token)
    finally:
        await engine.dispose()


class _Stop(Exception):
    pass


def ensure_pix_webhook_secret(settings: Settings, env: dict[str, str]) -> Settings:
    """The dashboard refuses to start without PIX_WEBHOOK_SECRET when the sandbox PSP is the
    provider: unless it is set, each `tgadmin dev` run makes one of its own."""
    if settings.pix_provider != PixProviderName.SANDBOX or settings.pix_webhook_secret is not None:
        return settings
    env["PIX_WEBHOOK_SECRET"] = os.environ["PIX_WEBHOOK_SECRET"] = random_token()
    get_settings.cache_clear()
    return get_settings()


def use_sandbox_psp_webhook(settings: Settings, env: dict[str, str]) -> Settings:
    """When the sandbox also plays the PSP, have it notify our webhook (with a secret of this run
    unless PIX_WEBHOOK_SECRET is set), so a payment is confirmed at once, not by the next poll."""
    if settings.pix_provider != PixProviderName.SANDBOX:
        return settings
    settings = ensure_pix_webhook_secret(settings, env)
    assert settings.pix_webhook_secret is not None
    secret = settings.pix_webhook_secret.get_secret_value()
    url = webhook_url(settings.public_url, PixProviderName.SANDBOX.value, secret)
    asyncio.run(_register_pix_webhook(settings, url))
    print(f"pix       | sandbox PSP notifies {settings.public_url}/webhooks/pix/sandbox/***", flush=True)
    return settings


async def _register_pix_webhook(settings: Settings, url: str) -> None:
    from tgadmin.pix.providers.sandbox import sandbox_provider

    provider = sandbox_provider(settings)
    try:
        await provider.register_webhook(url)
    finally:
        await provider.aclose()


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run_dev() -> None:
    ensure_secrets()
    get_settings.cache_clear()
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    env = dict(os.environ)
    redis: EmbeddedRedis | None = None
    supervisor = Supervisor(env)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        if settings.effective_redis_url is None:
            redis = EmbeddedRedis.start(VAR_DIR / "redis")
            env["REDIS_URL"] = redis.url
            print(f"redis     | embedded Valkey on {redis.url}", flush=True)
        bot: DevBot | None = None
        cast: DemoCast | None = None
        if settings.telegram_bot_token is None and not settings.uses_sandbox_telegram:
            sandbox_url = f"http://127.0.0.1:{settings.sandbox_port}"
            supervisor.start("sandbox", "sandbox", "--port", str(settings.sandbox_port))
            wait_http(f"{sandbox_url}/sandbox/clock")
            env["TELEGRAM_API_BASE_URL"] = sandbox_url
            os.environ["TELEGRAM_API_BASE_URL"] = sandbox_url
            get_settings.cache_clear()
            settings = get_settings()
            bot = connect_sandbox_bot(settings, sandbox_url)
            # Before the bot service starts: it finds the group's my_chat_member waiting for it.
            cast = create_demo_cast(sandbox_url, bot.id)
            settings = use_sandbox_psp_webhook(settings, env)
        settings = ensure_pix_webhook_secret(settings, env)
        supervisor.start("dashboard", "dashboard", "--port", str(settings.dashboard_port))
        supervisor.start("bot", "bot", "--polling")
        supervisor.start("worker", "worker")
        wait_http(f"http://127.0.0.1:{settings.dashboard_port}/healthz")
        _announce(settings, bot, asyncio.run(_first_admin_link(settings)), cast)
        while (name := supervisor.exited()) is None:
            time.sleep(0.5)
        print(f"dev       | {name} stopped; stopping everything", flush=True)
    except (KeyboardInterrupt, _Stop):
        print("\ndev       | stopping", flush=True)
    finally:
        supervisor.stop_all()
        if redis is not None:
            redis.stop()
        print("dev       | stopped", flush=True)


def _announce(
    settings: Settings, bot: DevBot | None, login_link: str | None, cast: DemoCast | None = None
) -> None:
    lines = [f"dashboard: http://127.0.0.1:{settings.dashboard_port}"]
    if bot is not None:
        lines += [
            f"sandbox:   {settings.telegram_api_base_url}/  (chat page: act as any user, click through)",
            f"bot:       @{bot.username}  token {bot.token}  (sandbox only)",
        ]
    if cast is not None:
        lines.append(
            f'demo:      buyer Ana (user {cast.buyer_id}, pt-br) and supergroup "Grupo Demo"'
            f" (chat {cast.group_id}) with the bot as admin"
        )
    if login_link:
        lines.append(f"first admin {DEV_ADMIN_EMAIL}, login link (single use, 15 min): {login_link}")
    elif not settings.smtp_host:
        lines.append(
            f"log in: ask at http://127.0.0.1:{settings.dashboard_port}/login and the link appears here"
            " (SMTP unset), or run `tgadmin operators login-link --email E`"
        )
    lines.append("Ctrl-C stops everything.")
    for line in lines:
        print(f"dev       | {line}", flush=True)
