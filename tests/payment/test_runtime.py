"""The dashboard's payment runtime at shutdown: once closed it opens no queue, so a late delivery or
revocation leaves no Redis connection behind (the poll job and the subscription sweep catch up)."""

from __future__ import annotations

import logging

import pytest
from redis.asyncio import Redis

from tests.fixtures.redis import REDIS_URL
from tgadmin.config import load_settings
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.purchase.enqueue import delivery_job_id, revocation_job_id


async def test_a_closed_runtime_queues_nothing_more_and_leaves_no_connection_open(
    redis: Redis, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = PaymentRuntime(load_settings(redis_url=REDIS_URL, redis_prefix=redis_prefix))
    await runtime.deliver([1])
    await runtime.aclose()
    with caplog.at_level(logging.ERROR):
        await runtime.deliver([2])
        await runtime.revoke([3])
    opened = [c["name"] for c in await redis.client_list() if c["name"].startswith(redis_prefix)]
    assert opened == []
    assert await redis.exists(f"{redis_prefix}:bot-tasks:{delivery_job_id(1)}") == 1
    assert await redis.exists(f"{redis_prefix}:bot-tasks:{delivery_job_id(2)}") == 0
    assert await redis.exists(f"{redis_prefix}:subscriptions:{revocation_job_id(3)}") == 0
    assert "delivery of purchase 2" in caplog.text
    assert "refunded purchases [3] keep access until the sweep" in caplog.text
