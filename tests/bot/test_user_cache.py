"""A buyer whose profile did not change costs no database write; a change is always written, and a
write that was rolled back is never taken for done. Updates go through the real webhook endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from aiogram import F, Router
from aiogram.types import ChatMemberUpdated, Message, Update
from sqlalchemy import event

from tests.bot.conftest import BotWorld, Running, eventually, start_service
from tgadmin.bot.routers import domain_routers
from tgadmin.buyer.service import mark_blocked
from tgadmin.models import TelegramUser

BUYER = 5_550_001


ANA = {"id": BUYER, "is_bot": False, "first_name": "Ana", "username": "ana_s", "language_code": "pt-br"}


def message(update_id: int, text: str = "oi", username: str | None = "ana_s") -> dict[str, Any]:
    user = {"id": BUYER, "is_bot": False, "first_name": "Ana", "language_code": "pt-br"}
    if username is not None:
        user["username"] = username
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_760_000_000,
            "chat": {"id": BUYER, "type": "private", "first_name": "Ana"},
            "from": user,
            "text": text,
        },
    }


def membership(update_id: int, status: str) -> dict[str, Any]:
    """The buyer blocking ("kicked") or restarting ("member") the bot in their private chat."""
    me = {"id": 1, "is_bot": True, "first_name": "Shop"}
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": BUYER, "type": "private", "first_name": "Ana"},
            "from": ANA,
            "date": 1_760_000_000,
            "old_chat_member": {"status": "member", "user": me},
            "new_chat_member": {
                "status": status,
                "user": me,
                **({"until_date": 0} if status == "kicked" else {}),
            },
        },
    }


failing = Router(name="fails-after-the-buyer-is-touched")
seen_ids: list[int] = []  # `telegram_user_id` as each handler got it
handled: list[int] = []  # update ids that reached a handler


@failing.message(F.text == "boom")
async def _boom(_: Message, event_update: Update) -> None:
    handled.append(event_update.update_id)
    raise RuntimeError("handler failed: the unit of work rolls back")


@failing.message()
async def _record_id(_: Message, telegram_user_id: int, event_update: Update) -> None:
    seen_ids.append(telegram_user_id)
    handled.append(event_update.update_id)


@failing.my_chat_member()
async def _membership(_: ChatMemberUpdated, event_update: Update) -> None:
    handled.append(event_update.update_id)


@pytest.fixture
async def running(world: BotWorld) -> AsyncIterator[Running]:
    seen_ids.clear()
    handled.clear()
    # First: the storefront's catch-all answers every private message a later router would see.
    service = await start_service(world, routers=[failing, *domain_routers()])
    yield service
    await service.stop()


@contextmanager
def buyer_writes(service: Running) -> Iterator[list[str]]:
    """Statements that write `telegram_users`, as the bot's own engine sends them."""
    writes: list[str] = []

    def capture(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
        words = statement.split(None, 3)
        if words[0].upper() in {"INSERT", "UPDATE"} and "telegram_users" in statement.split("(")[0]:
            writes.append(statement)

    engine = service.service.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", capture)


async def deliver(world: BotWorld, service: Running, update: dict[str, Any]) -> None:
    """POST the update as Telegram would, then wait until the bot has handled it."""
    async with httpx.AsyncClient(base_url=world.base_url) as client:
        answer = await client.post(
            f"/telegram/webhook/{world.record_id}",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": world.webhook_secret},
        )
    assert answer.status_code == 200
    await eventually(lambda: _reached(update["update_id"]))
    assert await service.service.wiring.in_flight.drained(10)  # and committed or rolled back


async def _reached(update_id: int) -> bool:
    return update_id in handled


async def buyer(world: BotWorld) -> TelegramUser:
    row = await world.row(TelegramUser, TelegramUser.telegram_id == BUYER)
    assert row is not None
    return row


async def test_second_message_of_an_unchanged_buyer_writes_nothing(world: BotWorld, running: Running) -> None:
    with buyer_writes(running) as writes:
        await deliver(world, running, message(1))
        assert len(writes) == 1  # first contact: the row is created
        await deliver(world, running, message(2, "hello again"))
        assert len(writes) == 1
    row = await buyer(world)
    assert seen_ids == [row.id, row.id]  # the handler still knows who wrote


async def test_changed_username_is_written_at_once(world: BotWorld, running: Running) -> None:
    await deliver(world, running, message(1))
    with buyer_writes(running) as writes:
        await deliver(world, running, message(2, username="ana_new"))
        await deliver(world, running, message(3, username=None))
    assert len(writes) == 2
    assert (await buyer(world)).username is None


async def test_block_and_unblock_are_written_even_with_an_unchanged_profile(
    world: BotWorld, running: Running
) -> None:
    await deliver(world, running, message(1))
    await deliver(world, running, membership(2, "kicked"))
    assert (await buyer(world)).blocked_bot is True
    await deliver(world, running, membership(3, "member"))
    assert (await buyer(world)).blocked_bot is False
    # Already flagged unblocked by the restart: the buyer's next message needs no write.
    with buyer_writes(running) as writes:
        await deliver(world, running, message(4))
    assert writes == []


async def test_rolled_back_update_does_not_poison_the_cache(world: BotWorld, running: Running) -> None:
    await deliver(world, running, message(1))
    await deliver(world, running, message(2, "boom", username="ana_new"))
    assert (await buyer(world)).username == "ana_s"  # the failed update's write was rolled back
    with buyer_writes(running) as writes:
        await deliver(world, running, message(3, username="ana_new"))
    assert len(writes) == 1
    assert (await buyer(world)).username == "ana_new"


async def test_restart_clears_a_block_the_worker_flagged_behind_the_cache(
    world: BotWorld, running: Running
) -> None:
    await deliver(world, running, message(1))
    async with world.sessions() as session:  # a send failed in the worker: "blocked by the user"
        await mark_blocked(session, BUYER)
        await session.commit()
    await deliver(world, running, membership(2, "member"))
    assert (await buyer(world)).blocked_bot is False
