"""`--polling` for machines without a public URL, and `tgadmin bot` as the real process it is in
production: serving the sandbox's webhooks and stopping cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.bot.conftest import BotWorld, eventually
from tgadmin.bot.run import poll
from tgadmin.models import Bot as BotRecord
from tgadmin.models import TelegramUser


async def test_polling_drops_the_webhook_and_receives_updates_until_stopped(world: BotWorld) -> None:
    await world.tg.bot.set_webhook("http://127.0.0.1:9/nowhere", secret_token="old")
    stop = asyncio.Event()
    polling = asyncio.create_task(poll(world.settings, stop))
    ana = await world.sandbox.create_user("Ana", language_code="en")

    async def webhook_gone() -> bool:
        return (await world.tg.bot.get_webhook_info()).url == ""

    await eventually(webhook_gone)
    await world.sandbox.user_says(ana, "/start")

    async def stored() -> TelegramUser | None:
        return await world.row(TelegramUser, TelegramUser.telegram_id == ana)

    assert (await eventually(stored)).language_code == "en"
    stop.set()
    await asyncio.wait_for(polling, 15)


def bot_process(world: BotWorld, cwd: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": world.settings.database_url,
        "TELEGRAM_API_BASE_URL": world.sandbox.url,
        "PUBLIC_URL": world.base_url,
        "LOG_LEVEL": "INFO",
        **extra,
    }
    # Run from an empty folder so no developer .env reaches the process.
    return subprocess.Popen(
        [sys.executable, "-m", "tgadmin", "bot", "--port", str(world.port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def test_bot_process_serves_the_webhook_and_stops_on_sigterm(world: BotWorld, tmp_path: Path) -> None:
    process = bot_process(world, tmp_path)
    try:

        async def webhook_set() -> bool:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            return (await world.tg.bot.get_webhook_info()).url.startswith(world.base_url)

        await eventually(webhook_set, within=30)
        ana = await world.sandbox.create_user("Ana")
        await world.sandbox.user_says(ana, "oi")

        async def stored() -> TelegramUser | None:
            return await world.row(TelegramUser, TelegramUser.telegram_id == ana)

        await eventually(stored)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = process.communicate()[0].decode()
    assert code == 0, output
    assert world.webhook_secret not in output
    assert world.tg.token not in output
    assert await world.count(BotRecord) == 1
