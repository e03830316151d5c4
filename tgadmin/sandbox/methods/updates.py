"""The bot itself and its updates: getMe, getUpdates (long polling), webhooks, commands, files."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from tgadmin.sandbox import errors
from tgadmin.sandbox.errors import bad_request, conflict
from tgadmin.sandbox.methods.common import Call, method, resolve_chat
from tgadmin.sandbox.render import me_json
from tgadmin.sandbox.state.bots import Bot, Webhook

LONG_POLL_MAX_TIMEOUT = 50
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]*")


@method("getMe")
def get_me(call: Call) -> dict[str, Any]:
    return me_json(call.bot)


def _allowed_updates(call: Call) -> None:
    value = call.args.json("allowed_updates", "can't parse allowed_updates JSON object")
    if isinstance(value, list):
        call.bot.allowed_updates = frozenset(str(kind) for kind in value) or None


def _confirm(bot: Bot, offset: int) -> None:
    """Updates before `offset` are confirmed and forgotten; a negative offset keeps the last -offset."""
    if offset > 0:
        while bot.updates and bot.updates[0]["update_id"] < offset:
            bot.updates.popleft()
    elif offset < 0:
        while len(bot.updates) > -offset:
            bot.updates.popleft()


@method("getUpdates", is_async=True)
async def get_updates(call: Call) -> list[dict[str, Any]]:
    world, bot = call.world, call.bot
    with world.lock:
        if bot.webhook is not None:
            raise conflict(errors.WEBHOOK_ACTIVE)
        limit = call.args.clamped("limit", 100, 1, 100)
        timeout = call.args.clamped("timeout", 0, 0, LONG_POLL_MAX_TIMEOUT)
        _allowed_updates(call)
        _confirm(bot, call.args.integer("offset"))
        bot.poll_generation += 1
        generation = bot.poll_generation
        # A newer poll ends an older one, which then answers 409 as Telegram does.
        bot.notifier.notify()
        if bot.updates or timeout == 0:
            return list(bot.updates)[:limit]
        waiter = bot.notifier.register()
    try:
        await asyncio.wait_for(waiter, timeout)
    except TimeoutError:
        pass
    finally:
        bot.notifier.forget(waiter)
    with world.lock:
        if bot.poll_generation != generation:
            raise conflict(errors.OTHER_GET_UPDATES)
        if world.bots.get(bot.id) is not bot:
            return []
        return list(bot.updates)[:limit]


def _webhook(call: Call, url: str) -> Webhook:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request(errors.INVALID_WEBHOOK_URL)
    secret = call.args.get("secret_token")
    if len(secret) > 256:
        raise bad_request(errors.SECRET_TOKEN_TOO_LONG)
    if not SECRET_TOKEN.fullmatch(secret):
        raise bad_request(errors.SECRET_TOKEN_CHARACTERS)
    return Webhook(url, secret or None, call.args.clamped("max_connections", 40, 1, 100))


@method("setWebhook")
def set_webhook(call: Call) -> bool:
    url = call.args.get("url")
    if not url:
        return delete_webhook(call)
    call.bot.webhook = _webhook(call, url)
    _allowed_updates(call)
    if call.args.flag("drop_pending_updates"):
        call.bot.updates.clear()
    call.bot.poll_generation += 1  # a waiting getUpdates now ends with 409
    call.bot.notifier.notify()
    call.services.delivery.start(call.bot)
    return True


@method("deleteWebhook")
def delete_webhook(call: Call) -> bool:
    call.bot.webhook = None
    if call.args.flag("drop_pending_updates"):
        call.bot.updates.clear()
    call.bot.notifier.notify()
    return True


@method("getWebhookInfo")
def get_webhook_info(call: Call) -> dict[str, Any]:
    hook = call.bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(call.bot.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    if call.bot.allowed_updates:
        info["allowed_updates"] = sorted(call.bot.allowed_updates)
    return info


@method("setMyCommands")
def set_my_commands(call: Call) -> bool:
    commands = call.args.json("commands", "can't parse commands JSON object")
    if not isinstance(commands, list):
        raise bad_request('field "commands" must be an Array')
    call.bot.commands = [c for c in commands if isinstance(c, dict)]
    return True


@method("getMyCommands")
def get_my_commands(call: Call) -> list[dict[str, Any]]:
    return call.bot.commands


@method("deleteMyCommands")
def delete_my_commands(call: Call) -> bool:
    call.bot.commands = []
    return True


@method("sendChatAction")
def send_chat_action(call: Call) -> bool:
    if not call.args.get("action"):
        raise errors.required("action")
    resolve_chat(call, write=True)
    return True


@method("getFile")
def get_file(call: Call) -> dict[str, Any]:
    stored = call.world.files.get(call.args.required("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    data: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
    if stored.data is not None:
        data.update({"file_size": stored.size, "file_path": f"{stored.kind}s/{stored.file_id}"})
    return data


@method("close")
def close(call: Call) -> bool:
    return True


@method("logOut")
def log_out(call: Call) -> bool:
    return True
