"""The bot process: `POST /telegram/webhook/{bot_id}` (secret-token checked), or long polling.

Every active Bot row gets an aiogram Bot; updates of all of them go through one Dispatcher.
Most updates are answered 200 at once and handled in the background. Payment updates
(`pre_checkout_query`, `successful_payment`) are handled and committed before the answer, and a
failure answers 500: Telegram never sends a 2xx-confirmed update again, and the Stars are taken.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any

from aiogram import Bot, Router
from aiogram.client.session.base import DEFAULT_TIMEOUT
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tgadmin import metrics
from tgadmin.bot.dispatcher import ALLOWED_UPDATES, build_dispatcher
from tgadmin.bot.middlewares import UpdateNotHandled, is_payment_update
from tgadmin.bot.seeding import seed_first_bot
from tgadmin.config import Settings
from tgadmin.connections import readiness
from tgadmin.db import create_engine, session_factory
from tgadmin.errors import TgadminError
from tgadmin.logs import redact
from tgadmin.models import Bot as BotRecord
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.purchase.enqueue import QueueDeliveries
from tgadmin.queue.client import Queues
from tgadmin.redis import client as redis_client
from tgadmin.storage import get_storage
from tgadmin.telegram import bots
from tgadmin.telegram.limiter import Limiter
from tgadmin.telegram.paced import pace
from tgadmin.webkit.params import INT64_MAX
from tgadmin.webkit.probes import metrics_response, readiness_response

log = logging.getLogger(__name__)

# The bot handles updates concurrently (Telegram posts up to 40 at once to a webhook). SQLAlchemy's
# default pool keeps 5 connections and closes every one opened past them when it is returned, so
# each burst of more than 5 updates paid new connections (a connect, and every statement prepared
# again on it): 40 were opened in one run of bench/updates.py storefront on a loaded machine.
POOL_SIZE = 10
MAX_OVERFLOW = 30
# Start-up's warm-up waits no longer than this for the PSP (it is best effort; see warm_up).
WARM_UP_SECONDS = 5.0

WEBHOOK_PATH = "/telegram/webhook/{bot_id}"
AUTH_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates still being handled at shutdown get this long to finish.
DRAIN_SECONDS = 25.0


class LiveBot:
    """An active Bot row with its aiogram client; the secret never leaves this object."""

    def __init__(self, record: BotRecord, settings: Settings, limiter: Limiter | None = None) -> None:
        self.db_id = record.id
        self.telegram_id = record.telegram_id
        self.username = record.username
        self._secret = record.webhook_secret.encode()
        # aiogram's default, as before: long polling adds its own wait to this request timeout.
        self.client = bots.client(record.token, settings, timeout=DEFAULT_TIMEOUT)
        if limiter is not None:
            # Replies keep Telegram's limits with the workers' sends (shared limiter in Redis).
            pace(self.client, limiter, record.id)

    def secret_matches(self, given: str | None) -> bool:
        # Header values arrive decoded as latin-1: encoding them back gives the bytes on the wire,
        # so any header (non-ASCII too) is compared, never a reason for an error.
        return given is not None and hmac.compare_digest(given.encode("latin-1"), self._secret)

    @property
    def webhook_secret(self) -> str:
        return self._secret.decode()


class BotService:
    """Engine, dispatcher and the live bots of one bot process."""

    def __init__(
        self, settings: Settings, *, engine: AsyncEngine | None = None, routers: list[Router] | None = None
    ) -> None:
        self.settings = settings
        self._own_engine = engine is None
        self.engine = engine or create_engine(settings.database_url, **_pool(settings.database_url))
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.wiring = build_dispatcher(self.sessions, routers=routers)
        self.dispatcher = self.wiring.dispatcher
        # Handlers that send files from storage (the creators' previews) find it under `storage`.
        self.dispatcher["storage"] = get_storage(settings)
        # A paid Stars purchase goes to the `deliver-purchase` job after its update's commit. Without
        # Redis (a bot process run alone) the worker's pix-poll job enqueues undelivered purchases.
        self.queues = Queues(settings) if settings.effective_redis_url else None
        self.redis = redis_client(settings.effective_redis_url) if settings.effective_redis_url else None
        self.limiter = Limiter(self.redis, settings) if self.redis is not None else None
        deliveries = QueueDeliveries(self.queues) if self.queues is not None else None
        if deliveries is not None:
            self.dispatcher["payment_deliveries"] = deliveries
        # Checkout's PIX provider, from the same settings as the dashboard's (opened on first use).
        self.payments = PaymentRuntime(settings, deliveries=deliveries)
        self.dispatcher["payments"] = self.payments
        # For what a handler learns after its commit (checkout: the buyer blocked the bot).
        self.dispatcher["sessions"] = self.sessions
        self.bots: dict[int, LiveBot] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self.loaded = False

    async def load_bots(self) -> list[LiveBot]:
        """Every active Bot row, seeding the first one from TELEGRAM_BOT_TOKEN when there is none."""
        if not self.loaded:
            await seed_first_bot(self.settings, self.sessions)
            async with self.sessions() as session:
                records = await bots.active_bots(session)
            for record in records:
                self._add(record)
            self.loaded = True
        return list(self.bots.values())

    async def warm_up(self) -> None:
        """Pay before the first update what its handler would otherwise pay while buyers wait: the
        pool's connections, and the PSP client (its HTTP stack is imported and built on first use:
        0.1-0.4 s with the event loop stopped, as the first "buy" presses came in). Best effort: a
        PSP that does not answer is logged, and the first checkout tries again."""
        await asyncio.gather(self._warm_database(), self._warm_psp())

    async def _warm_database(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        try:
            async with AsyncExitStack() as stack:
                for _ in range(POOL_SIZE):
                    conn = await stack.enter_async_context(self.engine.connect())
                    await conn.execute(text("select 1"))
        except (SQLAlchemyError, OSError) as error:
            log.warning("database connections not opened ahead: %s", redact(str(error)))

    async def _warm_psp(self) -> None:
        try:
            provider = self.payments.provider(self.settings.pix_provider.value)
            async with asyncio.timeout(WARM_UP_SECONDS):
                log.info("PSP at start-up: %s", await provider.check())
        except (TgadminError, TimeoutError, OSError) as error:
            reason = error.message if isinstance(error, TgadminError) else repr(error)
            log.warning("PSP not reached at start-up (the first checkout will try): %s", redact(reason))

    def _add(self, record: BotRecord) -> LiveBot:
        live = self.bots[record.id] = LiveBot(record, self.settings, self.limiter)
        self.wiring.bots.remember(record.telegram_id, record.id)
        return live

    async def bot(self, bot_id: int) -> LiveBot | None:
        """The live bot, or a bot activated since start-up; None when unknown or inactive."""
        live = self.bots.get(bot_id)
        if live is not None:
            return live
        async with self._lock:
            if bot_id in self.bots:
                return self.bots[bot_id]
            async with self.sessions() as session:
                record = await bots.find(session, bot_id)
            return self._add(record) if record is not None and record.is_active else None

    def webhook_url(self, live: LiveBot) -> str:
        return self.settings.public_url + WEBHOOK_PATH.format(bot_id=live.db_id)

    async def set_webhooks(self) -> None:
        for live in self.bots.values():
            try:
                await live.client.set_webhook(
                    url=self.webhook_url(live),
                    secret_token=live.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                log.info("webhook of @%s set to %s", live.username, self.webhook_url(live))
            except (TelegramAPIError, OSError, TimeoutError) as error:
                log.error("setWebhook for @%s failed: %s", live.username, redact(str(error)))

    async def delete_webhooks(self) -> None:
        for live in self.bots.values():
            await live.client.delete_webhook(drop_pending_updates=False)

    def hook_data(self) -> dict[str, Any]:
        """What routers' startup/shutdown hooks receive, as under aiogram's own polling."""
        clients = [live.client for live in self.bots.values()]
        return {"dispatcher": self.dispatcher, "bots": clients, **({"bot": clients[-1]} if clients else {})}

    def dispatch(self, live: LiveBot, update: Update) -> None:
        """Handle in the background so Telegram gets its 200 at once; shutdown waits for these."""
        task = asyncio.create_task(self._handle(live, update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, live: LiveBot, update: Update) -> None:
        await self.handle_now(live, update)

    async def handle_now(self, live: LiveBot, update: Update) -> bool:
        """Handle the update to the end (its unit of work committed); False when it failed, so the
        caller leaves it unconfirmed and Telegram gives it again."""
        try:
            result = await self.dispatcher.feed_update(live.client, update)
            if isinstance(result, TelegramMethod):
                await live.client(result)
        except UpdateNotHandled:
            metrics.BOT_UPDATES.labels("failed").inc()
            return False  # the error middleware logged why
        except Exception as error:
            # The error middleware answers handler failures; this is only what happens outside it.
            log.error("update %s of @%s failed: %s", update.update_id, live.username, redact(repr(error)))
            metrics.BOT_UPDATES.labels("failed").inc()
            return False
        metrics.BOT_UPDATES.labels("handled").inc()
        return True

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=DRAIN_SECONDS)
        await self.wiring.in_flight.drained(DRAIN_SECONDS)
        # Each closed even when an earlier one failed to (the first failure is raised at the end).
        async with AsyncExitStack() as closing:
            if self._own_engine:
                closing.push_async_callback(self.engine.dispose)
            if self.redis is not None:
                closing.push_async_callback(self.redis.aclose)
            if self.queues is not None:
                closing.push_async_callback(self.queues.close)
            closing.push_async_callback(self.payments.aclose)
            for live in self.bots.values():
                closing.push_async_callback(live.client.session.close)


def _pool(database_url: str) -> dict[str, int]:
    if make_url(database_url).get_backend_name() != "postgresql":
        return {}  # SQLite: one writer at a time (SessionMiddleware), its own pool
    return {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW}


def parse_update(body: bytes, bot: Bot) -> Update | None:
    try:
        data: Any = json.loads(body)
        return Update.model_validate(data, context={"bot": bot})
    except (ValueError, ValidationError):
        return None


def create_app(service: BotService) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.load_bots()
        if not service.bots:
            log.warning("no active bot: set TELEGRAM_BOT_TOKEN or add a bot on the Settings page")
        await service.set_webhooks()
        await service.dispatcher.emit_startup(**service.hook_data())
        try:
            yield
        finally:
            await service.dispatcher.emit_shutdown(**service.hook_data())
            await service.close()

    app = FastAPI(title="tgadmin bot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.post(WEBHOOK_PATH)
    async def webhook(
        bot_id: int,
        request: Request,
        secret: Annotated[str | None, Header(alias=AUTH_HEADER)] = None,
    ) -> Response:
        # An id no row can have (past a signed 64-bit integer) is an unknown bot, not a driver overflow.
        live = await service.bot(bot_id) if 1 <= bot_id <= INT64_MAX else None
        if live is None:
            return _error(404, "unknown bot")
        if not live.secret_matches(secret):
            client = request.client.host if request.client else "?"
            reason = "missing" if secret is None else "wrong"
            log.warning("webhook for bot %s refused: %s secret token (from %s)", bot_id, reason, client)
            return _error(401, "bad secret token")
        body = await request.body()
        update = parse_update(body, live.client)
        if update is None:
            # Logged so it can be replayed; Telegram also keeps a refused update and retries it.
            excerpt = redact(body[:500].decode(errors="replace"))
            log.warning("webhook for bot %s: body is not a Telegram update, refused: %s", bot_id, excerpt)
            return _error(400, "body is not a Telegram update")
        if not is_payment_update(update):
            service.dispatch(live, update)
        elif not await service.handle_now(live, update):
            # Telegram keeps the update and sends it again; its handling is idempotent (charge id).
            return _error(500, "update not handled, send it again")
        return JSONResponse({"ok": True})

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "bots": len(service.bots)}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        return readiness_response(await readiness(service.settings, service.engine, service.redis))

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return metrics_response(service.settings, request)

    return app


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)
