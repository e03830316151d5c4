"""Webhook delivery: one task per bot posts its pending updates to the webhook URL.

Like Telegram, it sends up to `max_connections` updates at once, each as a JSON POST with the
`X-Telegram-Bot-Api-Secret-Token` header when a secret was set; an update leaves the queue only
after a 2xx answer, otherwise (any other status, no answer within the configured
`webhook_timeout_seconds`, no connection) it is retried after a growing pause and the failure is reported by
getWebhookInfo (`last_error_date`, `last_error_message`). A JSON answer that names a `method` is
executed as a Bot API call, as Telegram executes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from itertools import islice
from typing import Any

import httpx

from tgadmin.sandbox.state.bots import Bot, Webhook
from tgadmin.sandbox.state.world import World

log = logging.getLogger(__name__)

IDLE_WAIT_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 5.0
POST_TIMEOUT_SECONDS = 30.0

Executor = Callable[[Bot, str, dict[str, Any]], Awaitable[None]]


class WebhookDelivery:
    def __init__(self, world: World, execute: Executor) -> None:
        self.world = world
        self.execute = execute
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None

    def start(self, bot: Bot) -> None:
        task = self.tasks.get(bot.id)
        if task is not None and not task.done():
            return
        self.tasks[bot.id] = asyncio.get_running_loop().create_task(self._run(bot), name=f"webhook-{bot.id}")

    async def stop(self) -> None:
        tasks, self.tasks = list(self.tasks.values()), {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=POST_TIMEOUT_SECONDS, trust_env=False)
        return self._client

    def _next_batch(
        self, bot: Bot
    ) -> tuple[Webhook | None, list[dict[str, Any]], asyncio.Future[None] | None]:
        with self.world.lock:
            hook = bot.webhook
            if hook is None or self.world.bots.get(bot.id) is not bot:
                return None, [], None
            batch = list(islice(bot.updates, hook.max_connections))
            return hook, batch, (None if batch else bot.notifier.register())

    async def _run(self, bot: Bot) -> None:
        backoff = 0.0
        while True:
            hook, batch, waiter = self._next_batch(bot)
            if hook is None:
                return
            if waiter is not None:
                try:
                    await asyncio.wait_for(waiter, IDLE_WAIT_SECONDS)
                except TimeoutError:
                    pass
                finally:
                    bot.notifier.forget(waiter)
                continue
            results = await asyncio.gather(*(self._post(bot, hook, update) for update in batch))
            failures = [error for error in results if error is not None]
            self._settle(bot, hook, batch, results)
            if failures:
                backoff = min(MAX_BACKOFF_SECONDS, backoff * 2 or 0.1)
                await asyncio.sleep(backoff)
            else:
                backoff = 0.0

    def _settle(
        self, bot: Bot, hook: Webhook, batch: list[dict[str, Any]], results: list[str | None]
    ) -> None:
        delivered = {
            update["update_id"] for update, error in zip(batch, results, strict=True) if error is None
        }
        with self.world.lock:
            bot.updates = deque(u for u in bot.updates if u["update_id"] not in delivered)
            error = next((e for e in results if e is not None), None)
            if error is not None:
                hook.last_error_date = self.world.now()
                hook.last_error_message = error

    async def _post(self, bot: Bot, hook: Webhook, update: dict[str, Any]) -> str | None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        with self.world.lock:
            timeout = self.world.config.webhook_timeout_seconds
        try:
            response = await self._http().post(hook.url, json=update, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            return "Read timeout expired"
        except httpx.HTTPError as error:
            return f"Connection failed: {type(error).__name__}"
        if not response.is_success:
            return f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
        await self._answer_in_response(bot, response)
        return None

    async def _answer_in_response(self, bot: Bot, response: httpx.Response) -> None:
        if not response.headers.get("content-type", "").startswith("application/json"):
            return
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            params = {k: v for k, v in body.items() if k != "method"}
            await self.execute(bot, body["method"], params)
