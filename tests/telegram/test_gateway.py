"""The gateway against the sandbox: a 429 on any method is honoured by every later call it covers.

Telegram answers 429 to deletes and reads too, not only to the sends it counts against a chat. After
one, nothing may reach Telegram for that chat (or, with no chat named, for that bot) before
`retry_after`: each call that did would earn another 429. Counted from the calls that reach the
sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram.methods import DeleteMessages, GetChat, GetMe, SendMessage, TelegramMethod
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox, SandboxBot
from tests.telegram.recorded_events import RecordedEvents, known_group
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Group
from tgadmin.telegram.bots import register_from_token
from tgadmin.telegram.client import BotClients
from tgadmin.telegram.errors import Reschedule, TelegramCallError
from tgadmin.telegram.gateway import Gateway
from tgadmin.telegram.limiter import Limiter, Target

RETRY_AFTER = 3  # longer than BOT_PAUSE_MAX_SECONDS: Telegram's answer for one chat, not the bot
GROUP_SLOT = 60 / 20 * 1.03 + 0.01  # 20 a minute, the limiter's 3 % margin


@dataclass
class Peer:
    sandbox: Sandbox
    tg: SandboxBot
    bot_id: int
    sessions: async_sessionmaker[AsyncSession]
    gateway: Gateway
    events: RecordedEvents

    async def group(self, title: str, type: str = "supergroup", **member: Any) -> int:
        chat = await self.sandbox.create_chat(type, title)
        await self.sandbox.add_member(chat, bot_id=self.tg.id, **({"status": "administrator"} | member))
        return chat

    async def call(self, method: TelegramMethod[Any], group: Group | None = None) -> Any:
        async with self.sessions() as session:
            return await self.gateway.call(session, method, bot_id=self.bot_id, group=group)

    async def reaching(self, since: int) -> list[dict[str, Any]]:
        """The calls of our bot that reached the sandbox after sequence number `since`."""
        return [c for c in await self.sandbox.calls(since=since) if c["bot_id"] == self.tg.id]

    async def last_seq(self) -> int:
        calls = await self.sandbox.calls()
        return int(calls[-1]["seq"]) if calls else 0


@pytest.fixture
async def peer(fresh_db_url: str, redis_prefix: str, redis: Redis, sandbox: Sandbox) -> AsyncIterator[Peer]:
    settings = load_settings(
        database_url=fresh_db_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        telegram_api_base_url=sandbox.url,
    )
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("gate_bot")
    async with session_scope(sessions) as session:
        bot_id = (await register_from_token(session, tg.token, settings)).bot.id
    clients = BotClients(settings, sessions)
    events = RecordedEvents()
    # Shorter than retry_after: a paused call is rescheduled at once instead of sleeping in-process.
    gateway = Gateway(settings, redis, clients, events, Limiter(redis, settings), 0.5)
    try:
        yield Peer(sandbox, tg, bot_id, sessions, gateway, events)
    finally:
        await clients.close()
        await engine.dispose()


async def rescheduled(peer: Peer, method: TelegramMethod[Any]) -> float:
    with pytest.raises(Reschedule) as later:
        await peer.call(method)
    return later.value.delay


@pytest.mark.parametrize("flooded", ["deleteMessages", "sendMessage"])
async def test_after_a_429_naming_a_chat_no_call_for_that_chat_reaches_telegram_before_retry_after(
    peer: Peer, flooded: str
) -> None:
    group, other = await peer.group("Ofertas"), await peer.group("Outra")
    # Posted around the gateway, so that no send slot of the group is taken before the test.
    posted = await peer.tg.bot.send_message(group, "apagar depois")
    await peer.sandbox.flood(flooded, RETRY_AFTER, count=5, chat_id=group)
    since = await peer.last_seq()
    first = (
        DeleteMessages(chat_id=group, message_ids=[posted.message_id])
        if flooded == "deleteMessages"
        else SendMessage(chat_id=group, text="promo")
    )
    assert await rescheduled(peer, first) == RETRY_AFTER
    # Three deletes in a row, a send and a read of the same chat: each waits for the pause.
    for method in (
        DeleteMessages(chat_id=group, message_ids=[posted.message_id]),
        DeleteMessages(chat_id=group, message_ids=[posted.message_id]),
        DeleteMessages(chat_id=group, message_ids=[posted.message_id]),
        SendMessage(chat_id=group, text="promo"),
        GetChat(chat_id=group),
    ):
        # The pause, or (a send after a send) the group's next 20/min slot, ~3.09 s away.
        assert 0 < await rescheduled(peer, method) <= GROUP_SLOT
    # The pause is the chat's, not the bot's: another group goes on meanwhile.
    await peer.call(SendMessage(chat_id=other, text="outra"))
    reached = await peer.reaching(since)
    assert [(c["method"], c["chat_id"], c.get("error_code")) for c in reached] == [
        (flooded, group, 429),
        ("sendMessage", other, None),
    ]
    # Once retry_after has passed, the chat is served again (getChat is not flooded).
    await asyncio.sleep(RETRY_AFTER)
    await peer.call(GetChat(chat_id=group))
    after = (await peer.reaching(since))[-1]
    assert after["method"] == "getChat" and after["ok"]
    assert after["time"] - reached[0]["time"] >= RETRY_AFTER


async def test_a_429_naming_no_chat_pauses_the_whole_bot(peer: Peer) -> None:
    group = await peer.group("Ofertas")
    await peer.sandbox.flood("getMe", RETRY_AFTER)
    since = await peer.last_seq()
    assert await rescheduled(peer, GetMe()) == RETRY_AFTER
    assert await peer.gateway.limiter.paused_for(Target(peer.bot_id)) > RETRY_AFTER - 1
    for method in (
        GetMe(),
        SendMessage(chat_id=group, text="promo"),
        DeleteMessages(chat_id=group, message_ids=[1]),
        GetChat(chat_id=group),
    ):
        assert 0 < await rescheduled(peer, method) <= RETRY_AFTER
    reached = await peer.reaching(since)
    assert [(c["method"], c.get("error_code")) for c in reached] == [("getMe", 429)]


async def test_a_short_429_in_one_private_chat_does_not_delay_a_send_to_another(peer: Peer) -> None:
    # Telegram's 1 message a second per private chat: a 429 there is that chat's, not the bot's.
    ana, bia = await peer.sandbox.create_user("Ana"), await peer.sandbox.create_user("Bia")
    for user in (ana, bia):
        await peer.sandbox.user_says(user, "/start", bot_id=peer.tg.id)
    await peer.sandbox.flood("sendMessage", 1, count=5, chat_id=ana)
    since = await peer.last_seq()
    assert await rescheduled(peer, SendMessage(chat_id=ana, text="qr")) == 1
    assert await peer.gateway.limiter.paused_for(Target(peer.bot_id)) == 0
    started = asyncio.get_running_loop().time()
    await peer.call(SendMessage(chat_id=bia, text="seu pedido"))
    assert asyncio.get_running_loop().time() - started < 0.5
    assert 0 < await rescheduled(peer, SendMessage(chat_id=ana, text="código")) <= 1
    reached = await peer.reaching(since)
    assert [(c["method"], c["chat_id"], c.get("error_code")) for c in reached] == [
        ("sendMessage", ana, 429),
        ("sendMessage", bia, None),
    ]


async def test_a_short_429_in_a_group_still_pauses_the_whole_bot_briefly(peer: Peer) -> None:
    group, ana = await peer.group("Ofertas"), await peer.sandbox.create_user("Ana")
    await peer.sandbox.user_says(ana, "/start", bot_id=peer.tg.id)
    await peer.sandbox.flood("sendMessage", 1, chat_id=group)
    since = await peer.last_seq()
    assert await rescheduled(peer, SendMessage(chat_id=group, text="promo")) == 1
    assert 0 < await rescheduled(peer, SendMessage(chat_id=ana, text="oi")) <= 1
    assert [c.get("error_code") for c in await peer.reaching(since)] == [429]


class Recorder:
    """A CallGuard that remembers what it was told."""

    def __init__(self) -> None:
        self.told: list[str] = []

    async def before(self) -> None:
        self.told.append("before")

    async def succeeded(self, result: Any) -> None:
        self.told.append("succeeded")

    async def not_done(self) -> None:
        self.told.append("not_done")


class RedisGoneAtCommit(Limiter):
    """The limiter whose last step (the commit log, in Redis) fails: Redis restarting."""

    async def commit(self, target: Target) -> None:
        raise ConnectionError("Connection refused")


async def test_a_limiter_failure_before_the_request_leaves_no_pending_send_behind(peer: Peer) -> None:
    group = await peer.group("Ofertas")
    gateway = peer.gateway
    broken = Gateway(
        gateway.settings,
        gateway.redis,
        gateway.clients,
        gateway.events,
        RedisGoneAtCommit(gateway.redis, gateway.settings),
        gateway.max_inline_wait,
    )
    guard = Recorder()
    since = await peer.last_seq()
    async with peer.sessions() as session:
        with pytest.raises(ConnectionError):
            await broken.call(
                session, SendMessage(chat_id=group, text="promo"), bot_id=peer.bot_id, guard=guard
            )
    # Nothing was sent, and the guard was never told a request might be on its way: a retry of
    # the job sends (instead of failing with "outcome unknown" and losing the message).
    assert await peer.reaching(since) == []
    assert guard.told == []


async def test_the_gateway_reports_what_telegram_answers_through_its_events(peer: Peer) -> None:
    """Each report goes to `GatewayEvents` (the domains' side); the gateway writes no row itself."""
    ok = await peer.group("Ofertas")
    await peer.call(SendMessage(chat_id=ok, text="promo"), known_group(peer.bot_id, ok))
    await peer.call(GetChat(chat_id=ok))  # no Group row named: nothing to report
    assert peer.events.reported == [("call_succeeded", ok)]

    # A migration is reported, then the call follows to the supergroup with the group it answered.
    basic = await peer.group("Antigo", type="group")
    supergroup = await peer.sandbox.migrate(basic)
    peer.events.moved_to[supergroup] = known_group(peer.bot_id, supergroup)
    await peer.call(SendMessage(chat_id=basic, text="promo"), known_group(peer.bot_id, basic))
    assert peer.events.reported[1:] == [
        ("chat_migrated", peer.bot_id, basic, supergroup),
        ("call_succeeded", supergroup),
    ]

    muted = await peer.group("Mudo", status="restricted", rights={"can_send_messages": False})
    kicked = await peer.group("Fora", status="kicked")
    buyer = await peer.sandbox.create_user("Ana")
    await peer.sandbox.user_says(buyer, "/start", bot_id=peer.tg.id)
    await peer.sandbox.block(buyer, bot_id=peer.tg.id)
    for chat, group in ((muted, known_group(peer.bot_id, muted)), (kicked, None), (buyer, None)):
        with pytest.raises(TelegramCallError):
            await peer.call(SendMessage(chat_id=chat, text="promo"), group)
    assert [r[:3] for r in peer.events.reported[3:]] == [
        ("rights_missing", muted, "Bad Request: not enough rights to send text messages to the chat"),
        ("chat_gone", peer.bot_id, kicked),
        ("user_blocked", buyer),
    ]
