"""The Analytics page and its JSON twins, served by the real app on PostgreSQL and SQLite with a real
worker: figures of the chosen range, the tables and their CSV export, and a backfill started from the
page whose progress the page follows until the worker finished it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from tests.analytics.test_jobs import figures, seed
from tests.fixtures.dashboard import dashboard_server, log_in
from tests.worker.harness import World
from tgadmin.analytics import service
from tgadmin.clock import utcnow
from tgadmin.i18n import BRASILIA
from tgadmin.models.enums import OperatorRole
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port


async def test_a_backfill_from_the_page_runs_with_progress_and_the_page_shows_its_figures(
    world: World,
) -> None:
    hour = service.hour_start(utcnow()) - timedelta(days=2)
    expected = await seed(world, hour)
    async with dashboard_server(world.settings, free_port()) as url:
        operator = await log_in(world.sessions, world.settings, url, OperatorRole.OPERATOR)
        viewer = await log_in(world.sessions, world.settings, url, OperatorRole.VIEWER)
        try:
            empty = await viewer.http.get("/api/v1/analytics", params={"range": "week"})
            assert empty.status_code == 200 and empty.json()["totals"]["paid"] == 0  # never aggregated

            # From the operator's form: local (Brasília) times, an hour before and after the seeded one.
            local = hour.astimezone(BRASILIA).replace(tzinfo=None)
            fields = {
                "from": (local - timedelta(hours=1)).isoformat(),
                "to": (local + timedelta(hours=2)).isoformat(),
            }
            answer = await operator.submit("/analytics/backfill", range="week", **fields)
            assert answer.status_code == 303
            [job_id] = parse_qs(urlsplit(answer.headers["location"]).query)["job"]
            outcome = await world.wait(JobName.ANALYTICS_BACKFILL, job_id)
            assert outcome.state == "completed", outcome.reason
            assert outcome.value["hours"] == 3
            assert await figures(world, hour) == expected

            page = await operator.http.get(answer.headers["location"])
            assert "Recomputing 3 hours" in page.text
            fragment = await operator.http.get(f"/jobs/system/{job_id}")
            assert (
                '<progress max="3" value="3">' in fragment.text and 'data-state="completed"' in fragment.text
            )

            read = (await viewer.http.get("/api/v1/analytics", params={"range": "week"})).json()
            assert read["totals"]["paid"] == 1 and read["totals"]["revenue_brl_cents"] == 2000
            assert sum(read["charts"]["purchases_paid"]) == 1 and len(read["charts"]["labels"]) == 7
            [creator] = read["tables"]["creators"]["rows"]
            assert (creator["revenue"], creator["checkouts"], creator["paid"]) == (2000, 2, 1)

            shown = await viewer.http.get("/analytics?range=week")
            assert shown.status_code == 200
            assert 'id="total-revenue">R$ 20,00<' in shown.text or 'id="total-revenue">R$20.00<' in shown.text
            assert "/analytics/tables/creators.csv?range=week" in shown.text
            assert "Recompute a range" not in shown.text  # a viewer reads, an operator recomputes

            exported = await viewer.http.get("/analytics/tables/revenue.csv", params={"range": "month"})
            assert exported.headers["content-type"].startswith("text/csv")
            rows = list(csv.DictReader(io.StringIO(exported.text)))
            assert rows == [
                {"currency": "BRL", "method": "pix", "cents": "2000", "refunds": "0", "refunded_cents": "0"}
            ]
            twin = await viewer.http.get("/api/v1/analytics/tables/creators", params={"format": "csv"})
            assert twin.text.splitlines()[0].startswith("creator_id,creator,revenue_brl,stars_xtr")
            assert "20.00" in twin.text
            assert (await viewer.http.get("/api/v1/analytics/tables/nothing")).status_code == 404

            refused = await viewer.api(
                "POST", "/api/v1/analytics/backfill", json={"from": fields["from"], "to": fields["to"]}
            )
            assert refused.status_code == 403
            backwards = await operator.submit(
                "/analytics/backfill", **{"from": fields["to"], "to": fields["from"]}
            )
            assert backwards.status_code == 303 and "job=" not in backwards.headers["location"]
        finally:
            await operator.http.aclose()
            await viewer.http.aclose()


async def test_the_api_backfill_queues_the_range_it_was_given(world: World) -> None:
    hour = service.hour_start(utcnow()) - timedelta(days=1)
    expected = await seed(world, hour)
    async with dashboard_server(world.settings, free_port()) as url:
        operator = await log_in(world.sessions, world.settings, url, OperatorRole.OPERATOR)
        try:
            body = {"from": hour.isoformat(), "to": (hour + timedelta(minutes=1)).isoformat()}
            answer = await operator.api("POST", "/api/v1/analytics/backfill", json=body)
            assert answer.status_code == 202, answer.text
            queued = answer.json()
            assert queued["hours"] == 1 and queued["queue"] == "system"
            outcome = await world.wait(JobName.ANALYTICS_BACKFILL, queued["job_id"])
            assert outcome.state == "completed" and outcome.value["hours"] == 1
            assert await figures(world, hour) == expected
        finally:
            await operator.http.aclose()
