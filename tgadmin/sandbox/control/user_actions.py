"""What users do: write, press buttons, block or unblock a bot, pay invoices, join by invite link."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tgadmin.sandbox import events
from tgadmin.sandbox.control.lookup import (
    ControlError,
    known_bot,
    known_chat,
    known_message,
    known_user,
    services_of,
)
from tgadmin.sandbox.methods.payments import pay
from tgadmin.sandbox.state.bots import Bot, User
from tgadmin.sandbox.state.chats import Chat, ChatType, Message
from tgadmin.sandbox.state.members import MemberStatus
from tgadmin.sandbox.state.world import World

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


class SayIn(BaseModel):
    text: str = Field(min_length=1, max_length=4096)
    chat_id: int | None = None
    bot_id: int | None = None


@router.post("/users/{user_id}/messages")
def user_says(user_id: int, body: SayIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        user = known_user(world, user_id)
        if body.chat_id is not None and body.chat_id > 0 and body.chat_id != user_id:
            raise ControlError(400, "a user writes only in their own private chat")
        chat = known_chat(
            world, body.chat_id if body.chat_id is not None else user_id, body.bot_id, start=True
        )
        if chat.type == ChatType.PRIVATE:
            if chat.id != user_id:
                raise ControlError(400, "a user writes only in their own private chat")
            events.set_blocked(world, world.bots[chat.bot_id or 0], user, False)
        elif chat.member(user_id).status not in (
            MemberStatus.CREATOR,
            MemberStatus.ADMINISTRATOR,
            MemberStatus.MEMBER,
        ):
            raise ControlError(400, f"user {user_id} is not a member of chat {chat.id}")
        message = events.user_message(world, chat, user, body.text)
        return {"message_id": message.message_id, "chat_id": chat.id}


class PressIn(BaseModel):
    message_id: int
    data: str
    chat_id: int | None = None
    bot_id: int | None = None


@router.post("/users/{user_id}/press")
def press(user_id: int, body: PressIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        user = known_user(world, user_id)
        chat = known_chat(world, body.chat_id if body.chat_id is not None else user_id, body.bot_id)
        message = known_message(chat, body.message_id)
        bot = world.bots.get(message.sender_id or 0)
        if bot is None:
            raise ControlError(400, "only a bot's message has buttons to press")
        query_id = events.press_button(world, bot, user, message, body.data)
        return {"callback_query_id": query_id}


@router.get("/callback_queries/{query_id}")
def callback_answer(query_id: str, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        for bot in world.bots.values():
            query = bot.callback_queries.get(query_id)
            if query is not None:
                return {"id": query.id, "answered": query.answered, "answer": query.answer}
    raise ControlError(404, f"unknown callback query {query_id}")


class BotRef(BaseModel):
    bot_id: int | None = None


def _set_blocked(user_id: int, body: BotRef | None, request: Request, blocked: bool) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        user = known_user(world, user_id)
        bot = known_bot(world, body.bot_id if body else None)
        events.set_blocked(world, bot, user, blocked)
        return {"blocked": blocked}


@router.post("/users/{user_id}/block")
def block(user_id: int, request: Request, body: BotRef | None = None) -> dict[str, Any]:
    return _set_blocked(user_id, body, request, True)


@router.post("/users/{user_id}/unblock")
def unblock(user_id: int, request: Request, body: BotRef | None = None) -> dict[str, Any]:
    return _set_blocked(user_id, body, request, False)


class PayIn(BaseModel):
    chat_id: int | None = None
    message_id: int | None = None
    invoice_link: str | None = None
    bot_id: int | None = None
    timeout: float = Field(default=10.0, gt=0, le=60)


def _invoice_target(
    world: World, user: User, body: PayIn
) -> tuple[Bot, Chat, dict[str, Any], Message | None]:
    if body.invoice_link:
        slug = body.invoice_link.rsplit("$", 1)[-1]
        for candidate in world.bots.values():
            if slug in candidate.invoice_links:
                return candidate, world.private_chat(candidate, user), candidate.invoice_links[slug], None
        raise ControlError(404, "unknown invoice link")
    if body.message_id is None:
        raise ControlError(400, "give message_id (and chat_id) or invoice_link")
    chat = known_chat(world, body.chat_id if body.chat_id is not None else user.id, body.bot_id)
    message = known_message(chat, body.message_id)
    bot = world.bots.get(message.sender_id or 0)
    if message.invoice is None or bot is None:
        raise ControlError(400, "the message is not an invoice")
    if user.id in message.paid_by:
        raise ControlError(400, "this invoice is already paid")
    return bot, chat, message.invoice, message


@router.post("/users/{user_id}/pay")
async def pay_invoice(user_id: int, body: PayIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        user = known_user(world, user_id)
        bot, chat, invoice, message = _invoice_target(world, user, body)
    result = await pay(world, bot, user, chat, invoice, body.timeout)
    if message is not None and result["status"] == "paid":
        with world.lock:
            message.paid_by.append(user.id)
    return result


class JoinIn(BaseModel):
    invite_link: str


@router.post("/users/{user_id}/join")
def join(user_id: int, body: JoinIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        known_user(world, user_id)
        chat = next((c for c in world.chats.values() if body.invite_link in c.invite_links), None)
        if chat is None:
            raise ControlError(400, "INVITE_HASH_INVALID")
        link = chat.invite_links[body.invite_link]
        expired = link.expire_date is not None and world.now() >= link.expire_date
        if link.is_revoked or expired or (link.member_limit is not None and link.joined >= link.member_limit):
            raise ControlError(400, "INVITE_HASH_EXPIRED")
        if link.creates_join_request:
            raise ControlError(400, "join requests are not modelled by the sandbox")
        events.lift_expired_ban(world, chat, user_id)
        status = chat.member(user_id).status
        if status == MemberStatus.KICKED:
            raise ControlError(400, "USER_BANNED_IN_CHANNEL")
        if status in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR, MemberStatus.MEMBER):
            raise ControlError(400, "USER_ALREADY_PARTICIPANT")
        link.joined += 1
        events.change_member(world, chat, user_id, MemberStatus.MEMBER, user_id)
        return {"chat_id": chat.id}
