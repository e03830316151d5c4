"""`--polling` for machines without a public URL, and `tgadmin bot` as the real process it is in
production: serving the sandbox's webhooks and stopping cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.bot.conftest import BotWorld, eventually
from tests.factories import make_purchase
from tests.fixtures.sandbox import Sandbox
from tgadmin.bot.polling import poll_bot
from tgadmin.bot.run import poll
from tgadmin.bot.server import BotService
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Bot as BotRecord
from tgadmin.models import Group, TelegramUser, Transaction
from tgadmin.models.enums import TransactionStatus
from tgadmin.payment import bot as payment_bot
from tgadmin.payment import repository, stars
from tgadmin.redis import free_port


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


def spawn(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    """`tgadmin bot ...` from an empty folder, so no developer .env reaches the process."""
    return subprocess.Popen(
        [sys.executable, "-m", "tgadmin", "bot", *args],
        env={**os.environ, "LOG_LEVEL": "INFO", **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def bot_process(world: BotWorld, cwd: Path) -> subprocess.Popen[bytes]:
    env = {
        "DATABASE_URL": world.settings.database_url,
        "TELEGRAM_API_BASE_URL": world.sandbox.url,
        "PUBLIC_URL": world.base_url,
    }
    return spawn(env, cwd, "--port", str(world.port))


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


async def test_first_bot_is_seeded_from_telegram_bot_token_and_discovers_groups(
    sandbox: Sandbox, fresh_db_url: str, tmp_path: Path
) -> None:
    tg = await sandbox.create_bot("seeded_shop_bot")
    port = free_port()
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    env = {
        "DATABASE_URL": fresh_db_url,
        "TELEGRAM_API_BASE_URL": sandbox.url,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TELEGRAM_BOT_TOKEN": tg.token,
    }
    process = spawn(env, tmp_path, "--port", str(port))
    try:

        async def webhook_url() -> str:
            assert process.poll() is None
            return (await tg.bot.get_webhook_info()).url

        url = await eventually(webhook_url, within=30)
        async with sessions() as session:
            record = (await session.scalars(select(BotRecord))).one()
        assert (record.telegram_id, record.username, record.token) == (tg.id, "seeded_shop_bot", tg.token)
        assert url == f"http://127.0.0.1:{port}/telegram/webhook/{record.id}"

        chat = await sandbox.create_chat("supergroup", "Primeiro grupo")
        await sandbox.add_member(chat, bot_id=tg.id, status="member")

        async def group() -> Group | None:
            async with sessions() as session:
                return (await session.scalars(select(Group).where(Group.telegram_id == chat))).one_or_none()

        assert (await eventually(group)).bot_id == record.id
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        output = process.communicate()[0].decode()
        await engine.dispose()
    assert tg.token not in output


async def test_a_token_telegram_refuses_stops_start_up_with_one_line(
    sandbox: Sandbox, fresh_db_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": fresh_db_url,
        "TELEGRAM_API_BASE_URL": sandbox.url,
        "TELEGRAM_BOT_TOKEN": "123456789:AAThisTokenWasNeverIssuedByTheSandbox00",
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tgadmin", "bot", "--polling"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.decode().strip().splitlines()[-1] == (
        "error: Telegram refused this bot token (Unauthorized)"
    )
    assert "AAThisTokenWasNeverIssued" not in result.stderr.decode() + result.stdout.decode()


async def test_polling_asks_again_for_a_payment_update_it_failed_to_handle(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault: the real `payment.repository.insert_event` raises once (monkeypatched), so the
    first handling of `successful_payment` fails and is rolled back."""
    real = repository.insert_event
    failed: list[str] = []

    async def flaky(session: AsyncSession, provider: str, external_id: str, payload: Any) -> int | None:
        if not failed:
            failed.append(external_id)
            raise OperationalError("INSERT INTO payment_events", {}, ConnectionError("database is down"))
        return await real(session, provider, external_id, payload)

    monkeypatch.setattr(repository, "insert_event", flaky)
    await world.sandbox.configure(enforce_limits=False)
    stop = asyncio.Event()
    polling = asyncio.create_task(poll(world.settings, stop))
    try:
        ana = await world.sandbox.create_user("Ana")
        await world.sandbox.user_says(ana, "/start")
        buyer = await eventually(lambda: world.row(TelegramUser, TelegramUser.telegram_id == ana))
        async with session_scope(world.sessions) as session:
            purchase = await make_purchase(session, stars_price=150, buyer=await session.merge(buyer))
            invoice = await stars.create_stars_invoice(session, purchase.id)
        message = await payment_bot.send_stars_invoice(world.tg.bot, ana, invoice)
        result = await world.sandbox.pay(ana, message.message_id)
        assert result["status"] == "paid"
        charge_id = result["telegram_payment_charge_id"]

        async def paid() -> Transaction | None:
            tx = await world.row(Transaction, Transaction.telegram_payment_charge_id == charge_id)
            return tx if tx is not None and tx.status == TransactionStatus.PAID else None

        tx = await eventually(paid, within=20)
    finally:
        stop.set()
        await asyncio.wait_for(polling, 15)
    assert failed == [charge_id] and tx.purchase_id == purchase.id
    # Stopping confirmed what was handled: nothing is left for the next start.
    assert await world.tg.bot.get_updates(timeout=0) == []


async def test_polling_lets_go_of_a_payment_update_that_keeps_failing_after_a_few_attempts(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The fault: the real `payment.repository.insert_event` always raises (monkeypatched). The
    payment update is asked for again, then let go, and the bot's later updates are handled."""

    async def down(session: AsyncSession, provider: str, external_id: str, payload: Any) -> int | None:
        raise OperationalError("INSERT INTO payment_events", {}, ConnectionError("database is down"))

    monkeypatch.setattr(repository, "insert_event", down)
    await world.sandbox.configure(enforce_limits=False)
    service = BotService(world.settings)
    live = (await service.load_bots())[0]
    stop = asyncio.Event()
    polling = asyncio.create_task(poll_bot(service, live, stop, give_up_after=3))
    try:
        ana = await world.sandbox.create_user("Ana")
        await world.sandbox.user_says(ana, "/start")
        buyer = await eventually(lambda: world.row(TelegramUser, TelegramUser.telegram_id == ana))
        async with session_scope(world.sessions) as session:
            purchase = await make_purchase(session, stars_price=150, buyer=await session.merge(buyer))
            invoice = await stars.create_stars_invoice(session, purchase.id)
        message = await payment_bot.send_stars_invoice(world.tg.bot, ana, invoice)
        assert (await world.sandbox.pay(ana, message.message_id))["status"] == "paid"
        bob = await world.sandbox.create_user("Bob")
        await world.sandbox.user_says(bob, "/start")
        await eventually(lambda: world.row(TelegramUser, TelegramUser.telegram_id == bob), within=20)
    finally:
        stop.set()
        await asyncio.wait_for(polling, 15)
        await service.close()
    assert caplog.text.count("not handled: asking for it again") == 2
    assert "failed 3 times: let go" in caplog.text
    tx = await world.row(Transaction, Transaction.id == invoice.transaction_id)
    assert tx is not None and tx.status == TransactionStatus.PENDING  # left to stars-reconcile
