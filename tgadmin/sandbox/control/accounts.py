"""Bots and users: create them (a bot with a chosen token, if asked) and list them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tgadmin.sandbox.control.lookup import ControlError, services_of
from tgadmin.sandbox.render import user_json
from tgadmin.sandbox.state.bots import Bot, User, new_token_secret
from tgadmin.sandbox.telegram_api import TOKEN

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


class BotIn(BaseModel):
    username: str = Field(min_length=5, max_length=32, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    token: str | None = None
    first_name: str | None = None


@router.post("/bots")
def create_bot(body: BotIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
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
    world = services_of(request).world
    with world.lock:
        return [user_json(bot.user) for bot in world.bots.values()]


class UserIn(BaseModel):
    first_name: str = Field(min_length=1, max_length=64)
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@router.post("/users")
def create_user(body: UserIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        user_id = world.next_user_id
        world.next_user_id += 1
        world.users[user_id] = User(
            user_id, body.first_name, body.username, body.last_name, body.language_code
        )
        return {"id": user_id}


@router.get("/users")
def list_users(request: Request) -> list[dict[str, Any]]:
    world = services_of(request).world
    with world.lock:
        return [user_json(user) for user in world.users.values()]
