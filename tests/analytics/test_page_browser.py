"""The Analytics page in headless Chromium with the internet blocked: Chart.js (from npm, served by
us) draws the range's series, the range picker switches to the last 24 hours, and the page reads in
Portuguese once chosen."""

from __future__ import annotations

from playwright.async_api import Browser, Route, expect

from tests.fixtures.dashboard import Desk, browser_log_in
from tgadmin.analytics.service import Metric, previous_hour
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models import AnalyticsHourly
from tgadmin.models.enums import OperatorRole


async def test_the_charts_draw_and_the_range_picker_switches_with_the_internet_blocked(
    desk: Desk, chromium: Browser
) -> None:
    last = previous_hour(utcnow())
    async with session_scope(desk.sessions) as session:
        for metric, dimension, value in (
            (Metric.PURCHASES_PAID, "", 3),
            (Metric.STARTS, "", 9),
            (Metric.REVENUE_CENTS, "currency=BRL", 8970),
        ):
            session.add(AnalyticsHourly(metric=metric, dimension=dimension, hour=last, value=value))
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
    await page.goto(f"{desk.base_url}/analytics")
    await page.wait_for_function("window.tgCharts && Object.keys(window.tgCharts).length === 4")
    revenue = await page.evaluate("window.tgCharts['chart-revenue'].data.datasets[0].data")
    assert len(revenue) == 7 and revenue[-1] == 89.7
    funnel = await page.evaluate("window.tgCharts['chart-funnel'].data.datasets.map(d => d.data.at(-1))")
    assert funnel[:3] == [9, 0, 3]

    await page.get_by_role("tab", name="Last 24 hours").click()
    await page.wait_for_url("**/analytics?range=day")
    await page.wait_for_function(
        "window.tgCharts && window.tgCharts['chart-funnel'].data.labels.length === 24"
    )
    # The language switch goes back to the page's path (its query is not kept): the default range.
    await page.get_by_role("link", name="Português").click()
    await expect(page.get_by_role("tab", name="Últimos 7 dias")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_role("heading", name="Funil de conversão").first).to_be_visible()
    assert outside == []
    await page.context.close()
