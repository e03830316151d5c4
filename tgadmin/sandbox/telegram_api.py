"""The Bot API endpoint `/bot{token}/{method}`: authentication, limits, dispatch, the call log.

A malformed token or an unknown method answers 404 `Not Found` and an unknown token 401
`Unauthorized`, as api.telegram.org answers; method names are case-insensitive.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tgadmin.sandbox import errors
from tgadmin.sandbox.args import Args, _as_text, read_args, to_integer_safe
from tgadmin.sandbox.delivery import WebhookDelivery
from tgadmin.sandbox.errors import TelegramError
from tgadmin.sandbox.limits import Rule
from tgadmin.sandbox.methods import chats, messages, payments, updates  # noqa: F401 - registers the methods
from tgadmin.sandbox.methods.common import METHODS, Call, Method
from tgadmin.sandbox.state.bots import Bot
from tgadmin.sandbox.state.world import World

log = logging.getLogger(__name__)

TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
UNLOGGED_RESULTS = frozenset({"getupdates"})


@dataclass
class Services:
    """What the routes share: the world and the webhook delivery."""

    world: World
    delivery: WebhookDelivery


def limit_rules(world: World, bot: Bot, args: Args) -> list[Rule]:
    """The bot (per second) and the chat (private: per second; others: per minute), see the package doc."""
    config = world.config
    rules = [Rule(("bot", bot.id), config.per_bot_per_sec, 1.0)]
    chat_id = to_integer_safe(args.get("chat_id"))
    if chat_id:
        if chat_id > 0:
            rules.append(Rule(("chat", bot.id, chat_id), config.per_chat_per_sec, 1.0))
        else:
            rules.append(Rule(("chat", bot.id, chat_id), config.per_group_per_min, 60.0))
    return rules


def _check_limits(world: World, bot: Bot, args: Args) -> None:
    if not world.config.enforce_limits:
        return
    retry_after = world.limiter.acquire(limit_rules(world, bot, args), world.clock.now())
    if retry_after:
        raise errors.too_many_requests(retry_after)


def _check_forced_flood(world: World, bot: Bot, method_name: str, args: Args) -> None:
    """A 429 the harness asked for (`POST /sandbox/floods`): spends one of the flood's answers."""
    chat_id = to_integer_safe(args.get("chat_id")) if args.get("chat_id") else None
    for flood in world.floods:
        if flood.matches(method_name.lower(), bot.id, chat_id):
            flood.count -= 1
            raise errors.too_many_requests(flood.retry_after)


def _authorise(world: World, token: str, method_name: str) -> tuple[Bot, Method]:
    if not TOKEN.fullmatch(token):
        raise errors.not_found()
    bot = world.tokens.get(token)
    if bot is None:
        raise errors.unauthorized()
    entry = METHODS.get(method_name.lower())
    if entry is None:
        raise errors.not_found()
    return bot, entry


async def _run(services: Services, token: str, method_name: str, args: Args) -> tuple[Bot | None, Any]:
    world = services.world
    bot: Bot | None = None
    with world.lock:
        bot, entry = _authorise(world, token, method_name)
        _check_forced_flood(world, bot, method_name, args)
        if entry.sending:
            _check_limits(world, bot, args)
        call = Call(world, bot, args, services)
        if not entry.is_async:
            return bot, entry.handler(call)
    return bot, await entry.handler(call)


async def execute(services: Services, token: str, method_name: str, args: Args) -> tuple[int, dict[str, Any]]:
    """Run one Bot API call; returns (HTTP status, Telegram's response body), and logs the call."""
    world = services.world
    started = world.clock.now()
    try:
        _, result = await _run(services, token, method_name, args)
        status, body = 200, {"ok": True, "result": result}
    except TelegramError as error:
        status, body = error.code, error.body()
    except Exception:
        log.exception("sandbox: %s failed", method_name)
        status, body = 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    _log_call(world, token, method_name, args, started, body)
    return status, body


def _log_call(
    world: World, token: str, method_name: str, args: Args, started: float, body: dict[str, Any]
) -> None:
    entry = METHODS.get(method_name.lower())
    with world.lock:
        bot = world.tokens.get(token)
        record: dict[str, Any] = {
            "time": started,
            "method": entry.name if entry else method_name,
            "bot_id": bot.id if bot else None,
            "chat_id": to_integer_safe(args.get("chat_id")) if args.get("chat_id") else None,
            "ok": body["ok"],
        }
        if args.get("callback_query_id"):
            # Which press this call answers (a benchmark times update -> first Bot API call).
            record["callback_query_id"] = str(args.get("callback_query_id"))
        if body["ok"]:
            if method_name.lower() not in UNLOGGED_RESULTS:
                record["result"] = body["result"]
        else:
            record.update(error_code=body["error_code"], description=body["description"])
            if "parameters" in body:
                record["parameters"] = body["parameters"]
        world.record_call(record)


async def execute_for_bot(services: Services, bot: Bot, method_name: str, params: dict[str, Any]) -> None:
    """A method named in a webhook's answer."""
    values = {k: text for k, v in params.items() if (text := _as_text(v)) is not None}
    await execute(services, bot.token, method_name, Args(values))


router = APIRouter()


@router.api_route("/bot{token}/{method_name}", methods=["GET", "POST"], include_in_schema=False)
async def bot_api(token: str, method_name: str, request: Request) -> JSONResponse:
    services: Services = request.app.state.sandbox
    try:
        args = await read_args(request)
    except (TelegramError, ValueError) as error:
        # A body that is not the multipart/form it claims to be: Telegram answers 400, never 500.
        refusal = (
            error if isinstance(error, TelegramError) else errors.bad_request("can't parse request body")
        )
        return JSONResponse(refusal.body(), status_code=refusal.code)
    status, body = await execute(services, token, method_name, args)
    return JSONResponse(body, status_code=status)


@router.get("/file/bot{token}/{kind}/{file_id}", include_in_schema=False)
async def download(token: str, kind: str, file_id: str, request: Request) -> Response:
    world = request.app.state.sandbox.world
    with world.lock:
        stored = world.files.get(file_id) if token in world.tokens else None
    if stored is None or stored.data is None:
        return JSONResponse(errors.not_found().body(), status_code=404)
    return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")
