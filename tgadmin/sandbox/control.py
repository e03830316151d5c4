"""The control API under `/sandbox/`: what users, chat owners and the test harness do to the world.

Errors are JSON `{"error": reason}` with 400 (refused action, bad input) or 404 (unknown bot, user,
chat or message). Private chats are addressed by the user's id plus, when several bots exist, the
bot's id (`bot_id`), since every bot has its own private chat with the same user.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from tgadmin.sandbox import events
from tgadmin.sandbox.brcode_scan import find_pix_codes
from tgadmin.sandbox.events import EventError
from tgadmin.sandbox.methods.common import METHODS
from tgadmin.sandbox.methods.payments import pay
from tgadmin.sandbox.render import user_json
from tgadmin.sandbox.state import (
    ADMIN_RIGHTS,
    CHANNEL_ADMIN_RIGHTS,
    Bot,
    Chat,
    ChatType,
    ForcedFlood,
    Member,
    MemberStatus,
    Message,
    User,
    World,
    new_token_secret,
)
from tgadmin.sandbox.telegram_api import TOKEN, Services

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


class ControlError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def control_error_response(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ControlError | EventError)
    if isinstance(error, EventError):
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse({"error": error.reason}, status_code=error.status)


def _services(request: Request) -> Services:
    services: Services = request.app.state.sandbox
    return services


# ---- look-ups ----------------------------------------------------------------------------------


def _user(world: World, user_id: int) -> User:
    user = world.users.get(user_id)
    if user is None:
        raise ControlError(404, f"unknown user {user_id}")
    return user


def _bot(world: World, bot_id: int | None) -> Bot:
    if bot_id is not None:
        bot = world.bots.get(bot_id)
        if bot is None:
            raise ControlError(404, f"unknown bot {bot_id}")
        return bot
    if len(world.bots) != 1:
        raise ControlError(
            400, "give bot_id: the private chat depends on the bot" if world.bots else "no bot yet"
        )
    return next(iter(world.bots.values()))


def _chat(world: World, chat_id: int, bot_id: int | None = None, start: bool = False) -> Chat:
    """A group/channel by id, or (positive id) the user's private chat with the bot.

    Only what the user does (`start`: writing, paying) opens a private chat; looking does not.
    """
    if chat_id < 0:
        chat = world.chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"unknown chat {chat_id}")
        return chat
    bot, user = _bot(world, bot_id), _user(world, chat_id)
    if start:
        return world.private_chat(bot, user)
    chat = world.private.get((bot.id, user.id))
    if chat is None:
        raise ControlError(404, f"user {user.id} has no private chat with bot {bot.id}")
    return chat


def _message(chat: Chat, message_id: int) -> Message:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise ControlError(404, f"no message {message_id} in chat {chat.id}")
    return message


# ---- bots, users, chats ------------------------------------------------------------------------


class BotIn(BaseModel):
    username: str = Field(min_length=5, max_length=32, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    token: str | None = None
    first_name: str | None = None


@router.post("/bots")
def create_bot(body: BotIn, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        if body.token is not None:
            if not TOKEN.fullmatch(body.token):
                raise ControlError(400, "token must look like <bot id>:<secret>")
            existing = world.tokens.get(body.token)
            if existing is not None:
                return {"id": existing.id, "token": existing.token, "username": existing.user.username}
        if any((b.user.username or "").lower() == body.username.lower() for b in world.bots.values()):
            raise ControlError(400, f"username @{body.username} is taken")
        if body.token is not None:
            bot_id = int(body.token.split(":", 1)[0])
            if bot_id in world.bots or bot_id in world.users:
                raise ControlError(400, f"id {bot_id} is taken")
            token = body.token
        else:
            bot_id = world.next_bot_id
            world.next_bot_id += 1
            token = f"{bot_id}:{new_token_secret()}"
        user = User(bot_id, body.first_name or body.username, username=body.username, is_bot=True)
        bot = Bot(user, token)
        world.bots[bot_id] = bot
        world.tokens[token] = bot
        return {"id": bot_id, "token": token, "username": body.username}


@router.get("/bots")
def list_bots(request: Request) -> list[dict[str, Any]]:
    world = _services(request).world
    with world.lock:
        return [user_json(bot.user) for bot in world.bots.values()]


class UserIn(BaseModel):
    first_name: str = Field(min_length=1, max_length=64)
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@router.post("/users")
def create_user(body: UserIn, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        user_id = world.next_user_id
        world.next_user_id += 1
        world.users[user_id] = User(
            user_id, body.first_name, body.username, body.last_name, body.language_code
        )
        return {"id": user_id}


@router.get("/users")
def list_users(request: Request) -> list[dict[str, Any]]:
    world = _services(request).world
    with world.lock:
        return [user_json(user) for user in world.users.values()]


class ChatIn(BaseModel):
    type: Literal["group", "supergroup", "channel"]
    title: str = Field(min_length=1, max_length=128)
    username: str | None = None
    owner_id: int | None = None


@router.post("/chats")
def create_chat(body: ChatIn, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        if body.owner_id is not None:
            owner = _user(world, body.owner_id)
        else:
            owner = User(world.next_user_id, f"Owner of {body.title}"[:64])
            world.next_user_id += 1
            world.users[owner.id] = owner
        if body.type == "group":
            chat_id = -world.next_group_id
            world.next_group_id += 1
        else:
            chat_id = -world.next_supergroup_id
            world.next_supergroup_id += 1
        chat = Chat(chat_id, ChatType(body.type), title=body.title, username=body.username, owner_id=owner.id)
        chat.members[owner.id] = Member(owner.id, MemberStatus.CREATOR)
        world.chats[chat_id] = chat
        return {"id": chat_id, "owner_id": owner.id}


def _chat_summary(world: World, chat: Chat) -> dict[str, Any]:
    live = [m for m in chat.messages.values() if not m.deleted]
    data: dict[str, Any] = {"id": chat.id, "type": str(chat.type), "messages": len(live)}
    if chat.type == ChatType.PRIVATE:
        user, bot = world.users.get(chat.id), world.bots.get(chat.bot_id or 0)
        data.update(
            bot_id=chat.bot_id,
            title=f"{user.first_name if user else chat.id} · @{bot.user.username if bot else '?'}",
            blocked=chat.blocked,
        )
    else:
        data.update(title=chat.title, username=chat.username, migrated_to=chat.migrated_to)
    data["last_date"] = max((m.date for m in live), default=0)
    return data


@router.get("/chats")
def list_chats(request: Request) -> list[dict[str, Any]]:
    world = _services(request).world
    with world.lock:
        chats = [*world.chats.values(), *world.private.values()]
        return sorted((_chat_summary(world, c) for c in chats), key=lambda c: -c["last_date"])


@router.get("/chats/{chat_id}")
def chat_detail(chat_id: int, request: Request, bot_id: int | None = None) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        chat = _chat(world, chat_id, bot_id)
        members = []
        for member in chat.members.values():
            user = world.user(member.user_id)
            members.append(
                {"user": user_json(user) if user else None, "status": str(member.status), **member.rights}
            )
        return {**_chat_summary(world, chat), "members": members}


class MemberIn(BaseModel):
    user_id: int | None = None
    bot_id: int | None = None
    status: Literal["member", "administrator", "restricted", "left", "kicked"]
    rights: dict[str, bool] | None = None
    actor_id: int | None = None
    until_date: int = 0


def _default_rights(chat: Chat, status: MemberStatus, rights: dict[str, bool] | None) -> dict[str, bool]:
    if status != MemberStatus.ADMINISTRATOR:
        return dict(rights or {})
    names = ADMIN_RIGHTS + (CHANNEL_ADMIN_RIGHTS if chat.type == ChatType.CHANNEL else ())
    defaults = {name: name != "can_promote_members" for name in names}
    return defaults | (rights or {})


@router.post("/chats/{chat_id}/members")
def set_member(chat_id: int, body: MemberIn, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        chat = _chat(world, chat_id) if chat_id < 0 else None
        if chat is None:
            raise ControlError(400, "members are set in groups, supergroups and channels")
        subject_id = body.bot_id if body.bot_id is not None else body.user_id
        if subject_id is None or world.user(subject_id) is None:
            raise ControlError(404, "give a known user_id or bot_id")
        if chat.member(subject_id).status == MemberStatus.CREATOR:
            raise ControlError(400, "the chat owner's status cannot change")
        status = MemberStatus(body.status)
        actor_id = body.actor_id if body.actor_id is not None else (chat.owner_id or subject_id)
        old = events.change_member(
            world,
            chat,
            subject_id,
            status,
            actor_id,
            _default_rights(chat, status, body.rights),
            body.until_date,
        )
        return {"old_status": str(old.status), "status": str(status)}


@router.post("/chats/{chat_id}/migrate")
def migrate_chat(chat_id: int, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        chat = _chat(world, chat_id) if chat_id < 0 else None
        if chat is None:
            raise ControlError(400, "only groups can be migrated")
        new = events.migrate(world, chat, chat.owner_id or 0)
        return {"id": new.id}


# ---- what users do -----------------------------------------------------------------------------


class SayIn(BaseModel):
    text: str = Field(min_length=1, max_length=4096)
    chat_id: int | None = None
    bot_id: int | None = None


@router.post("/users/{user_id}/messages")
def user_says(user_id: int, body: SayIn, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        user = _user(world, user_id)
        if body.chat_id is not None and body.chat_id > 0 and body.chat_id != user_id:
            raise ControlError(400, "a user writes only in their own private chat")
        chat = _chat(world, body.chat_id if body.chat_id is not None else user_id, body.bot_id, start=True)
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
    world = _services(request).world
    with world.lock:
        user = _user(world, user_id)
        chat = _chat(world, body.chat_id if body.chat_id is not None else user_id, body.bot_id)
        message = _message(chat, body.message_id)
        bot = world.bots.get(message.sender_id or 0)
        if bot is None:
            raise ControlError(400, "only a bot's message has buttons to press")
        query_id = events.press_button(world, bot, user, message, body.data)
        return {"callback_query_id": query_id}


@router.get("/callback_queries/{query_id}")
def callback_answer(query_id: str, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        for bot in world.bots.values():
            query = bot.callback_queries.get(query_id)
            if query is not None:
                return {"id": query.id, "answered": query.answered, "answer": query.answer}
    raise ControlError(404, f"unknown callback query {query_id}")


class BotRef(BaseModel):
    bot_id: int | None = None


def _set_blocked(user_id: int, body: BotRef | None, request: Request, blocked: bool) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        user = _user(world, user_id)
        bot = _bot(world, body.bot_id if body else None)
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
    chat = _chat(world, body.chat_id if body.chat_id is not None else user.id, body.bot_id)
    message = _message(chat, body.message_id)
    bot = world.bots.get(message.sender_id or 0)
    if message.invoice is None or bot is None:
        raise ControlError(400, "the message is not an invoice")
    if user.id in message.paid_by:
        raise ControlError(400, "this invoice is already paid")
    return bot, chat, message.invoice, message


@router.post("/users/{user_id}/pay")
async def pay_invoice(user_id: int, body: PayIn, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        user = _user(world, user_id)
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
    world = _services(request).world
    with world.lock:
        _user(world, user_id)
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


# ---- what chats show ---------------------------------------------------------------------------


def message_view(world: World, message: Message) -> dict[str, Any]:
    sender = world.user(message.sender_id) if message.sender_id else None
    media = None
    if message.media is not None:
        stored = message.media
        media = {
            "kind": stored.kind,
            "file_id": stored.file_id,
            "url": stored.url,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "width": stored.width,
            "height": stored.height,
            "size": stored.size,
            "has_bytes": stored.data is not None,
        }
    markup = message.reply_markup or {}
    invoice = None
    if message.invoice is not None:
        invoice = {
            k: message.invoice[k] for k in ("title", "description", "currency", "total_amount", "payload")
        }
        invoice["paid_by"] = list(message.paid_by)
    return {
        "message_id": message.message_id,
        "date": message.date,
        "sender": user_json(sender) if sender else None,
        "text": message.text,
        "entities": message.entities,
        "caption": message.caption,
        "media": media,
        "media_group_id": message.media_group_id,
        "buttons": markup.get("inline_keyboard", []),
        "keyboard": markup.get("keyboard", []),
        "protect_content": message.protect_content,
        "deleted": message.deleted,
        "deleted_at": message.deleted_at,
        "edit_date": message.edit_date,
        "invoice": invoice,
        "service": {k: v for k, v in message.service.items() if not k.startswith("_")},
        "pix_codes": find_pix_codes(message.text) + find_pix_codes(message.caption),
    }


@router.get("/chats/{chat_id}/messages")
def chat_messages(chat_id: int, request: Request, bot_id: int | None = None) -> list[dict[str, Any]]:
    world = _services(request).world
    with world.lock:
        chat = _chat(world, chat_id, bot_id)
        return [message_view(world, m) for m in chat.messages.values()]


@router.get("/files/{file_id}")
def file_bytes(file_id: str, request: Request) -> Response:
    world = _services(request).world
    with world.lock:
        stored = world.files.get(file_id)
    if stored is None or stored.data is None:
        raise ControlError(404, "no stored bytes for this file")
    media_type = "image/jpeg" if stored.kind == "photo" else stored.mime_type or "application/octet-stream"
    if stored.kind == "photo" and stored.data[:8] == b"\x89PNG\r\n\x1a\n":
        media_type = "image/png"
    return Response(stored.data, media_type=media_type)


# ---- the harness -------------------------------------------------------------------------------


@router.get("/calls")
def calls(
    request: Request, since: int = 0, method: str | None = None, bot_id: int | None = None
) -> list[dict[str, Any]]:
    """Every Bot API call after sequence number `since`, oldest first."""
    world = _services(request).world
    with world.lock:
        return [
            c
            for c in world.calls
            if c["seq"] > since
            and (method is None or c["method"] == method)
            and (bot_id is None or c["bot_id"] == bot_id)
        ]


def _clock_view(world: World) -> dict[str, Any]:
    now = world.clock.now()
    return {
        "now": now,
        "iso": datetime.fromtimestamp(now, UTC).isoformat(),
        "offset_seconds": world.clock.offset,
        "frozen": world.clock.frozen_at is not None,
    }


@router.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        return _clock_view(world)


class ClockIn(BaseModel):
    advance_seconds: float = Field(default=0, ge=0)
    frozen: bool | None = None  # true: the clock stands still (until advanced); false: it runs again


@router.post("/clock")
def advance_clock(body: ClockIn, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        if body.frozen is not None:
            world.clock.freeze(body.frozen)
        world.clock.advance(body.advance_seconds)
        return _clock_view(world)


class ConfigIn(BaseModel):
    per_chat_per_sec: int | None = Field(default=None, gt=0)
    per_group_per_min: int | None = Field(default=None, gt=0)
    per_bot_per_sec: int | None = Field(default=None, gt=0)
    enforce_limits: bool | None = None
    webhook_timeout_seconds: float | None = Field(default=None, gt=0, le=60)


@router.get("/config")
def get_config(request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        return world.config.as_dict()


@router.post("/config")
def set_config(body: ConfigIn, request: Request) -> dict[str, Any]:
    world = _services(request).world
    with world.lock:
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(world.config, name, value)
        world.limiter.clear()
        return world.config.as_dict()


class FloodIn(BaseModel):
    method: str = Field(min_length=1)
    retry_after: int = Field(gt=0)
    count: int = Field(default=1, gt=0)
    bot_id: int | None = None
    chat_id: int | None = None


@router.post("/floods")
def force_flood(body: FloodIn, request: Request) -> list[dict[str, Any]]:
    """The next `count` calls of `method` (of one bot, naming one chat, if given) answer 429 with
    `retry_after`, whatever the limits say: any method, as Telegram can. Returns the floods left."""
    world = _services(request).world
    with world.lock:
        if body.method.lower() not in METHODS:
            raise ControlError(400, f"unknown method {body.method}")
        world.floods = [f for f in world.floods if f.count > 0]
        world.floods.append(
            ForcedFlood(body.method.lower(), body.retry_after, body.count, body.bot_id, body.chat_id)
        )
        return [f.as_dict() for f in world.floods]


@router.get("/floods")
def floods(request: Request) -> list[dict[str, Any]]:
    """The forced 429s not yet answered."""
    world = _services(request).world
    with world.lock:
        return [f.as_dict() for f in world.floods if f.count > 0]


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    services = _services(request)
    await services.delivery.stop()
    services.world.reset()
    return {"ok": True}
