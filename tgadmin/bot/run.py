"""Run the bot process: the webhook server under uvicorn, or long polling; both stop gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvicorn

from tgadmin.bot.polling import poll_bot
from tgadmin.bot.server import BotService, create_app
from tgadmin.config import Settings
from tgadmin.errors import ConfigError
from tgadmin.heap import freeze_start_up_heap
from tgadmin.settings import effective

log = logging.getLogger(__name__)


async def serve_webhook(settings: Settings, host: str, port: int) -> None:
    """uvicorn handles SIGTERM/Ctrl-C; the app's shutdown waits for updates in flight."""
    settings = await effective.at_start(settings)
    service = BotService(settings)
    # Before uvicorn, so a bad TELEGRAM_BOT_TOKEN or an unreachable database ends in one clear line.
    try:
        await service.load_bots()
    except BaseException:
        await service.close()
        raise
    await service.warm_up()
    freeze_start_up_heap()
    config = uvicorn.Config(create_app(service), host=host, port=port, log_config=None, access_log=False)
    await uvicorn.Server(config).serve()


async def poll(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """deleteWebhook, then getUpdates for every active bot until SIGTERM/Ctrl-C (or `stop`)."""
    settings = await effective.at_start(settings)
    service = BotService(settings)
    stop = stop or _stop_on_signals()
    try:
        bots = await service.load_bots()
        if not bots:
            raise ConfigError("TELEGRAM_BOT_TOKEN: no active bot to poll for; set it or add a bot")
        await service.delete_webhooks()
        await service.dispatcher.emit_startup(**service.hook_data())
        await service.warm_up()
        freeze_start_up_heap()
        try:
            # A payment update is confirmed to Telegram only once handled (tgadmin.bot.polling).
            await asyncio.gather(*(poll_bot(service, live, stop) for live in bots))
        finally:
            await service.dispatcher.emit_shutdown(**service.hook_data())
    finally:
        await service.close()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
