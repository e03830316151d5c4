"""Start-up pays what the first updates would otherwise pay while buyers wait: the pool's database
connections and the PSP client; a PSP that does not answer never stops the bot from starting."""

from __future__ import annotations

import logging
import time

import pytest

from tests.bot.conftest import BotWorld
from tgadmin.bot.server import POOL_SIZE, WARM_UP_SECONDS, BotService
from tgadmin.redis import free_port


async def test_start_up_opens_the_pools_connections_and_reaches_the_psp(
    world: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    service = BotService(world.settings)
    caplog.set_level(logging.INFO, logger="tgadmin.bot.server")
    try:
        await service.load_bots()
        await service.warm_up()
        if service.engine.dialect.name == "postgresql":
            # Kept by the pool, not opened by the first burst of updates.
            assert service.engine.pool.checkedin() == POOL_SIZE  # type: ignore[attr-defined]
        assert any(
            "PSP at start-up" in r.getMessage() and "access token" in r.getMessage() for r in caplog.records
        )
    finally:
        await service.close()


async def test_a_psp_that_does_not_answer_is_logged_and_start_up_goes_on(
    world: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    service = BotService(world.settings.model_copy(update={"pix_api_url": nowhere}))
    try:
        await service.load_bots()
        started = time.monotonic()
        await service.warm_up()
        assert time.monotonic() - started < WARM_UP_SECONDS + 1
        assert service.bots  # the bot is there to serve
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("PSP not reached at start-up" in message for message in warned)
    finally:
        await service.close()
