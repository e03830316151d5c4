"""A delivery step whose outcome is unknown (the request to Telegram left, no answer came) is never
sent again by itself: the job stops, naming the step, until an operator says "it arrived" or "send
again" through the JSON API; each decision ends with the step in the buyer's chat exactly once. The
database, not Redis, knows which steps arrived. Real worker, the sandbox behind a proxy that loses
one call's request or answer, the dashboard over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import audit_actions, make_operator
from tests.fixtures.dashboard import dashboard_server
from tests.fixtures.lossy import LossyProxy
from tests.fixtures.sandbox import Sandbox
from tests.purchase.conftest import Shop
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole, PurchaseStatus
from tgadmin.operator import service as operators
from tgadmin.operator.auth import SESSION_COOKIE, csrf_for_session
from tgadmin.queue.monitor import QueueMonitor
from tgadmin.queue.names import JobName, QueueName
from tgadmin.redis import free_port


@pytest.fixture
async def lossy(sandbox: Sandbox) -> AsyncIterator[LossyProxy]:
    proxy = LossyProxy(sandbox.url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture
def world_overrides(tmp_path: Path, lossy: LossyProxy) -> dict[str, Any]:
    return {"media_dir": tmp_path / "media", "telegram_api_base_url": lossy.url}


@pytest.fixture
async def dashboard(shop: Shop) -> AsyncIterator[str]:
    async with dashboard_server(shop.world.settings, free_port()) as url:
        yield url


async def person(shop: Shop, url: str, role: OperatorRole) -> tuple[httpx.AsyncClient, str]:
    """A logged-in dashboard client and its CSRF token."""
    async with session_scope(shop.world.sessions) as session:
        operator = await make_operator(session, role)
        link = await operators.issue_magic_link(session, operator)
        login = await operators.consume_magic_link(session, link.token)
    http = httpx.AsyncClient(base_url=url, trust_env=False, timeout=30)
    http.cookies.set(SESSION_COOKIE, login.token)
    return http, csrf_for_session(shop.world.settings, login.token)


async def decide(http: httpx.AsyncClient, csrf: str, job_id: str, decision: str) -> httpx.Response:
    return await http.post(
        f"/api/v1/queues/bot-tasks/jobs/{job_id}/delivery-step",
        json={"decision": decision},
        headers={"X-CSRF-Token": csrf} if csrf else {},
    )


def texts(chat: list[dict[str, Any]]) -> list[str]:
    """What the buyer reads: texts, and captions (the confirmation is the first album's)."""
    return [m["text"] or m["caption"] for m in chat if m["text"] or m.get("caption")]


def photos(chat: list[dict[str, Any]]) -> list[int]:
    return [m["media"]["width"] for m in chat if m["media"] is not None]


async def test_a_lost_answer_stops_the_delivery_and_it_arrived_goes_on_without_sending_it_again(
    shop: Shop, lossy: LossyProxy, dashboard: str
) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=2)
    purchase_id = await shop.paid(product, buyer)
    lossy.lose("sendMediaGroup", "answer")  # the album (and its confirmation) arrives; its answer is lost

    failed = await shop.deliver(purchase_id, job_id="deliver-lost-answer")

    assert failed.state == "failed" and failed.attempts_made == 1, failed.reason
    assert failed.reason is not None and failed.reason.startswith(
        f"delivery step album-0 of purchase {purchase_id}: outcome unknown"
    )
    assert len(await shop.chat(buyer)) == 2
    unknown = await shop.purchase(purchase_id)
    assert unknown.status is PurchaseStatus.PAID and unknown.delivery_step_unknown == "album-0"

    # Retried without a decision (the queue monitor's plain retry): it stops again, sends nothing.
    await QueueMonitor(shop.world.queues).retry(QueueName.BOT_TASKS, "deliver-lost-answer")
    again = await shop.world.wait(JobName.DELIVER_PURCHASE, "deliver-lost-answer")
    assert again.state == "failed" and "delivery step album-0" in (again.reason or "")
    assert len(await shop.chat(buyer)) == 2

    http, csrf = await person(shop, dashboard, OperatorRole.OPERATOR)
    async with http:
        answer = await decide(http, csrf, "deliver-lost-answer", "arrived")
    assert answer.status_code == 200, answer.text
    assert answer.json()["step"] == "album-0" and answer.json()["decision"] == "arrived"
    done = await shop.world.wait(JobName.DELIVER_PURCHASE, "deliver-lost-answer")

    assert done.state == "completed", done.reason
    chat = await shop.chat(buyer)
    assert len(texts(chat)) == 1 and photos(chat) == [32, 33]
    purchase = await shop.purchase(purchase_id)
    assert purchase.status is PurchaseStatus.COMPLETED and purchase.delivery_step_unknown is None
    assert purchase.delivered_steps["album-0"] == []
    async with shop.world.sessions() as session:
        assert await audit_actions(session, "purchase", purchase_id) == [
            "purchase.delivery_step_unknown",
            "purchase.delivery_step_resolved",
            "purchase.delivered",
        ]


async def test_a_lost_request_is_sent_again_once_on_the_operators_word_and_only_operators_decide(
    shop: Shop, lossy: LossyProxy, dashboard: str
) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=2)
    purchase_id = await shop.paid(product, buyer)
    lossy.lose("sendMediaGroup", "request")  # the album never reaches Telegram

    failed = await shop.deliver(purchase_id, job_id="deliver-lost-request")

    assert failed.state == "failed" and failed.attempts_made == 1
    assert "delivery step album-0" in (failed.reason or "") and "outcome unknown" in (failed.reason or "")
    assert photos(await shop.chat(buyer)) == []

    viewer, viewer_csrf = await person(shop, dashboard, OperatorRole.VIEWER)
    operator, csrf = await person(shop, dashboard, OperatorRole.OPERATOR)
    async with viewer, operator:
        assert (await decide(viewer, viewer_csrf, "deliver-lost-request", "send_again")).status_code == 403
        assert (await decide(operator, "", "deliver-lost-request", "send_again")).status_code == 403
        listed = await viewer.get("/api/v1/deliveries/unknown-steps")
        assert [(i["purchase_id"], i["step"]) for i in listed.json()] == [(purchase_id, "album-0")]
        answer = await decide(operator, csrf, "deliver-lost-request", "send_again")
        assert answer.status_code == 200, answer.text
        done = await shop.world.wait(JobName.DELIVER_PURCHASE, "deliver-lost-request")
        # Decided already: a second decision on the (now completed) job is refused.
        assert (await decide(operator, csrf, "deliver-lost-request", "arrived")).status_code == 409

    assert done.state == "completed", done.reason
    chat = await shop.chat(buyer)
    assert len(texts(chat)) == 1 and photos(chat) == [32, 33]
    assert (await shop.purchase(purchase_id)).sent_messages[0]["message_ids"] == [
        m["message_id"] for m in chat
    ]
    assert lossy.lost == ["sendMediaGroup:request"]


async def test_steps_the_database_knows_arrived_are_not_sent_again_when_redis_lost_the_ledger(
    shop: Shop,
) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=12)
    purchase_id = await shop.paid(product, buyer)
    key = f"products/{product.id}/10.png"
    kept = await shop.storage.get(key)
    await shop.storage.delete(key)  # the second album cannot be sent: the job fails after the first
    assert (await shop.deliver(purchase_id)).state == "failed"
    assert len(await shop.chat(buyer)) == 10

    redis, prefix = shop.world.redis, shop.world.settings.redis_prefix
    ledger = [k async for k in redis.scan_iter(match=f"{prefix}:send:*")]
    assert len(ledger) == 1
    await redis.delete(*ledger)  # Redis restarted without persistence
    await shop.storage.put(key, kept, "image/png")
    outcome = await shop.deliver(purchase_id)

    assert outcome.state == "completed", outcome.reason
    chat = await shop.chat(buyer)
    assert len(texts(chat)) == 1 and photos(chat) == [32 + i for i in range(12)]
