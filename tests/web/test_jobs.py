"""An operator's job shows its progress and outcome where it was started: the fragment a page polls
(htmx) and the JSON API read the queue itself, while a real worker deletes messages in the sandbox."""

from __future__ import annotations

import httpx

from tests.fixtures.dashboard import dashboard_server, log_in
from tests.worker.harness import World
from tgadmin.models.enums import OperatorRole
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port


async def test_a_bulk_delete_reports_its_progress_and_outcome_to_the_page_and_the_api(world: World) -> None:
    group = await world.add_group("Ofertas")
    ids = [(await world.tg.bot.send_message(group.telegram_id, f"post {n}")).message_id for n in range(5)]
    data = {"chatId": group.telegram_id, "messageIds": ids, "groupDbId": group.id}
    job_id = await world.enqueue(JobName.DELETE_MESSAGES_BULK, data)
    assert (await world.wait(JobName.DELETE_MESSAGES_BULK, job_id)).state == "completed"
    async with dashboard_server(world.settings, free_port()) as url:
        viewer = await log_in(world.sessions, world.settings, url, OperatorRole.VIEWER)
        anonymous = httpx.AsyncClient(base_url=url, trust_env=False)
        try:
            fragment = await viewer.http.get(f"/jobs/bot-tasks/{job_id}")
            assert fragment.status_code == 200
            assert 'data-state="completed"' in fragment.text and "hx-trigger" not in fragment.text
            assert '<progress max="5" value="5">' in fragment.text and "deleted: <b>5</b>" in fragment.text
            read = (await viewer.http.get(f"/api/v1/jobs/bot-tasks/{job_id}")).json()
            assert read["state"] == "completed" and read["name"] == "delete-messages-bulk"
            assert read["progress"] == {"done": 5, "total": 5, "deleted": 5}
            assert read["result"]["deleted"] == 5 and read["failed_reason"] is None
            assert (await viewer.http.get("/api/v1/jobs/bot-tasks/no-such-job")).status_code == 404
            assert (await viewer.http.get(f"/api/v1/jobs/no-such-queue/{job_id}")).status_code == 422
            assert (await viewer.http.get(f"/jobs/no-such-queue/{job_id}")).status_code == 404
            assert (await anonymous.get(f"/api/v1/jobs/bot-tasks/{job_id}")).status_code == 401
        finally:
            await viewer.http.aclose()
            await anonymous.aclose()


async def test_a_job_not_yet_run_keeps_its_fragment_polling(world: World) -> None:
    group = await world.add_group("Parado")
    data = {"chatId": group.telegram_id, "messageId": 1}
    job_id = await world.enqueue(JobName.DELETE_MESSAGE, data, delay_ms=600_000)
    async with dashboard_server(world.settings, free_port()) as url:
        operator = await log_in(world.sessions, world.settings, url, OperatorRole.OPERATOR)
        try:
            fragment = await operator.http.get(f"/jobs/bot-tasks/{job_id}")
            assert 'data-state="delayed"' in fragment.text and 'hx-trigger="every 1s"' in fragment.text
        finally:
            await operator.http.aclose()
