"""The overview an operator opens first: charts of the hourly analytics, and everything they must
act on — a failed job, a deactivated group, a refund to make, undeletable messages, a PSP that stopped
answering — seen on the page (and its 30-second refresh) from real data: the database, the queues
run by a real worker, a PIX provider on a closed local port."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Route, expect

from tests.factories import make_bot, make_group, make_post, make_purchase, make_transaction
from tests.fixtures.dashboard import Desk, browser_log_in, dashboard_server, log_in
from tests.worker.harness import World
from tgadmin.analytics.service import Metric, previous_hour
from tgadmin.clock import utcnow
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import AnalyticsHourly
from tgadmin.models.enums import OperatorRole, PostStatus
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port


@pytest.fixture
def world_overrides() -> dict[str, Any]:
    # The PIX provider (API Pix, as the sandbox PSP speaks it) on a port nobody listens on.
    return {"pix_api_url": f"http://127.0.0.1:{free_port()}"}


async def _a_troubled_business(world: World) -> None:
    now = utcnow()
    async with session_scope(world.sessions) as session:
        hour = previous_hour(now)
        session.add_all(
            [
                AnalyticsHourly(metric=Metric.REVENUE_CENTS, dimension="currency=BRL", hour=hour, value=2990),
                AnalyticsHourly(metric=Metric.PURCHASES_PAID, dimension="", hour=hour, value=1),
                AnalyticsHourly(metric=Metric.POSTS, dimension="", hour=hour, value=7),
            ]
        )
        bot = await make_bot(session)
        await make_group(session, bot, is_active=False, title="Saiu")
        await make_post(
            session, await make_group(session, bot), now - timedelta(days=3), PostStatus.UNDELETABLE
        )
        flagged = await make_purchase(session)
        await make_transaction(session, flagged, needs_refund=True, provider="static")
        waiting = await make_purchase(session)
        await make_transaction(
            session,
            waiting,
            provider="sandbox",
            provider_txid="tx" + "0" * 30,
            next_poll_at=now - timedelta(minutes=1),
            pix_expires_at=now + timedelta(minutes=30),
        )
    failed = await world.run(JobName.SEND_MESSAGE, {"chatId": "not a chat"})
    assert failed.state == "failed"
    # The scheduled poll may have asked first (the charge then backs off and this one finds nothing due).
    assert (await world.run(JobName.PIX_POLL, {})).state == "completed"


async def test_the_overview_shows_what_to_act_on_and_the_charts_data(world: World) -> None:
    await _a_troubled_business(world)
    async with dashboard_server(world.settings, free_port()) as url:
        viewer = await log_in(world.sessions, world.settings, url, OperatorRole.VIEWER)
        anonymous = httpx.AsyncClient(base_url=url, trust_env=False)
        try:
            page = (await viewer.http.get("/")).text
            alerts = dict(
                (text.strip(), int(count))
                for count, text in re.findall(r'<span class="count">(\d+)</span> ([^<]+)</a>', page)
            )
            assert alerts == {
                "failed jobs": 1,
                "deactivated groups": 1,
                "refunds to make": 1,
                "undeletable messages in the last 7 days": 1,
                "PIX provider not answering": 1,
            }
            found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page)
            assert found
            charts = json.loads(found.group(1))
            assert sum(charts["revenue"]["values"]) == 29.9 and len(charts["revenue"]["labels"]) == 30
            assert sum(charts["purchases"]["values"]) == 1 and charts["posts"]["values"][-1] == 7
            fragment = await viewer.http.get("/overview/attention")
            assert 'data-alerts="5"' in fragment.text and "<html" not in fragment.text
            refused = await anonymous.get("/overview/attention")
            assert refused.status_code in (303, 307) and "/login" in refused.headers["location"]
        finally:
            await viewer.http.aclose()
            await anonymous.aclose()


async def test_the_charts_draw_in_chromium_with_the_internet_blocked(desk: Desk, chromium: Browser) -> None:
    async with session_scope(desk.sessions) as session:
        session.add(
            AnalyticsHourly(metric=Metric.POSTS, dimension="", hour=previous_hour(utcnow()), value=12)
        )
    await desk.operator(OperatorRole.VIEWER, email="vera@example.com")
    page = await browser_log_in(chromium, desk, "vera@example.com")
    outside: list[str] = []

    async def only_loopback(route: Route) -> None:
        if route.request.url.startswith(desk.base_url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await page.context.route("**/*", only_loopback)
    await page.reload()
    await expect(page.get_by_text("All clear")).to_be_visible()
    await page.wait_for_function("window.tgCharts && Object.keys(window.tgCharts).length === 4")
    posts = await page.evaluate("window.tgCharts['chart-posts'].data.datasets[0].data")
    assert posts[-1] == 12 and sum(posts) == 12
    assert outside == []
    await page.context.close()


async def test_without_redis_the_overview_still_opens_and_says_the_queues_are_unreachable(
    fresh_db_url: str,
) -> None:
    settings = load_settings(database_url=fresh_db_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with dashboard_server(settings, free_port()) as url:
        engine = create_engine(fresh_db_url)
        admin = await log_in(session_factory(engine), settings, url, OperatorRole.ADMIN)
        try:
            page = await admin.http.get("/")
            assert page.status_code == 200
            assert '<span class="count">1</span> queues unreachable' in page.text
        finally:
            await admin.http.aclose()
            await engine.dispose()
