"""The control API's errors and look-ups: the bot, user, chat or message a request names, or 404."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from tgadmin.sandbox.events import EventError
from tgadmin.sandbox.state.bots import Bot, User
from tgadmin.sandbox.state.chats import Chat, Message
from tgadmin.sandbox.state.world import World
from tgadmin.sandbox.telegram_api import Services


class ControlError(Exception):
    """A control action refused: the API answers `{"error": reason}` with `status`."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def control_error_response(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ControlError | EventError)
    if isinstance(error, EventError):
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse({"error": error.reason}, status_code=error.status)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.sandbox
    return services


def known_user(world: World, user_id: int) -> User:
    user = world.users.get(user_id)
    if user is None:
        raise ControlError(404, f"unknown user {user_id}")
    return user


def known_bot(world: World, bot_id: int | None) -> Bot:
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


def known_chat(world: World, chat_id: int, bot_id: int | None = None, start: bool = False) -> Chat:
    """A group/channel by id, or (positive id) the user's private chat with the bot.

    Only what the user does (`start`: writing, paying) opens a private chat; looking does not.
    """
    if chat_id < 0:
        chat = world.chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"unknown chat {chat_id}")
        return chat
    bot, user = known_bot(world, bot_id), known_user(world, chat_id)
    if start:
        return world.private_chat(bot, user)
    chat = world.private.get((bot.id, user.id))
    if chat is None:
        raise ControlError(404, f"user {user.id} has no private chat with bot {bot.id}")
    return chat


def known_message(chat: Chat, message_id: int) -> Message:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise ControlError(404, f"no message {message_id} in chat {chat.id}")
    return message
