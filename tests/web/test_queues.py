"""The queue monitor: counts per state per queue, failed jobs with their error, retry / retry all /
remove (operator, CSRF, audited), 429 reschedules shown as delayed; a real worker runs the jobs and
the Telegram sandbox answers them."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from tests.fixtures.dashboard import Person, dashboard_server, log_in
from tests.worker.harness import World
from tgadmin.models import AuditLog
from tgadmin.models.enums import OperatorRole
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port

Staff = dict[OperatorRole | None, Person]


@pytest.fixture
async def people(world: World) -> AsyncIterator[Staff]:
    async with dashboard_server(world.settings, free_port()) as url:
        found: Staff = {None: Person(httpx.AsyncClient(base_url=url, trust_env=False, timeout=30), "")}
        for role in OperatorRole:
            found[role] = await log_in(world.sessions, world.settings, url, role)
        try:
            yield found
        finally:
            for person in found.values():
                await person.http.aclose()


async def failed_send(world: World, text: str = "hello") -> tuple[int, str]:
    """A send-message to a chat the bot is not in: Telegram refuses it and the job fails for good."""
    chat = await world.sandbox.create_chat("supergroup", "Saiu")
    job_id = await world.enqueue(JobName.SEND_MESSAGE, {"chatId": chat, "text": text})
    outcome = await world.wait(JobName.SEND_MESSAGE, job_id)
    assert outcome.state == "failed", outcome
    return chat, job_id


async def audited(world: World, action: str) -> list[AuditLog]:
    async with world.sessions() as session:
        rows = await session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))
        return list(rows.all())


async def test_a_failed_job_is_shown_and_retry_after_the_bot_is_back_completes_it(
    world: World, people: Staff
) -> None:
    chat, job_id = await failed_send(world, "volta logo")
    viewer, operator = people[OperatorRole.VIEWER], people[OperatorRole.OPERATOR]
    page = await viewer.http.get("/queues")
    assert page.status_code == 200
    assert f'id="job-bot-tasks-{job_id}"' in page.text and "send-message" in page.text
    assert "volta logo" in page.text and "/retry" not in page.text  # a viewer sees no buttons
    counts = {q["queue"]: q["counts"] for q in (await viewer.http.get("/api/v1/queues")).json()}
    assert counts["bot-tasks"]["failed"] == 1 and counts["subscriptions"]["failed"] == 0
    listed = (await viewer.http.get("/api/v1/queues/bot-tasks/jobs", params={"state": "failed"})).json()
    assert [j["id"] for j in listed["items"]] == [job_id] and listed["total"] == 1
    assert listed["items"][0]["failed_reason"] and listed["items"][0]["attempts_made"] == 1

    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="administrator")
    retried = await operator.submit(f"/queues/bot-tasks/jobs/{job_id}/retry")
    assert retried.status_code == 303 and retried.headers["location"] == "/queues"
    assert (await world.wait(JobName.SEND_MESSAGE, job_id)).state == "completed"
    assert "volta logo" in [m["text"] for m in await world.sandbox.messages(chat)]
    shown = await operator.http.get("/queues")
    assert "queued again with fresh attempts" in shown.text and f"job-bot-tasks-{job_id}" not in shown.text
    [entry] = await audited(world, "job.retried")
    assert entry.entity_id == f"bot-tasks/{job_id}" and entry.before and entry.before["state"] == "failed"

    again = await operator.api("POST", f"/api/v1/queues/bot-tasks/jobs/{job_id}/retry")
    assert again.status_code == 409 and "only failed jobs can be retried" in again.json()["message"]


async def test_retry_all_and_remove_are_for_operators_with_the_csrf_token(
    world: World, people: Staff
) -> None:
    _, first = await failed_send(world)
    _, second = await failed_send(world)
    viewer, operator, admin = (people[r] for r in OperatorRole)
    assert (await viewer.submit("/queues/bot-tasks/retry-all")).status_code == 403
    assert (await viewer.api("POST", f"/api/v1/queues/bot-tasks/jobs/{first}/remove")).status_code == 403
    forged = await operator.submit("/queues/bot-tasks/retry-all", csrf="forged")
    assert forged.status_code == 403
    no_header = await operator.http.post(f"/api/v1/queues/bot-tasks/jobs/{first}/remove")
    assert no_header.status_code == 403
    assert (await people[None].api("POST", "/api/v1/queues/bot-tasks/retry-all")).status_code == 401

    removed = await admin.api("POST", f"/api/v1/queues/bot-tasks/jobs/{first}/remove")
    assert removed.status_code == 200 and "removed" in removed.json()["message"]
    assert (await admin.api("POST", f"/api/v1/queues/bot-tasks/jobs/{first}/remove")).status_code == 404
    everything = await operator.api("POST", "/api/v1/queues/bot-tasks/retry-all")
    assert everything.status_code == 200 and everything.json()["count"] == 1
    assert (await world.wait(JobName.SEND_MESSAGE, second)).state == "failed"  # the bot is still out
    assert [e.action for e in await audited(world, "job.removed")] == ["job.removed"]
    assert (await audited(world, "queue.failed_retried"))[0].after == {"retried": 1}


async def test_every_route_answers_each_role_and_refuses_bad_input_clearly(
    world: World, people: Staff
) -> None:
    anonymous = people[None]
    page = await anonymous.http.get("/queues")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert (await anonymous.http.get("/api/v1/queues")).status_code == 401
    assert (await anonymous.http.get("/queues/counts")).status_code in (303, 401)
    for role in OperatorRole:
        person = people[role]
        assert (await person.http.get("/queues")).status_code == 200
        fragment = await person.http.get("/queues/counts")
        assert fragment.status_code == 200 and 'hx-trigger="every 3s"' in fragment.text
        assert (await person.http.get("/api/v1/queues")).status_code == 200
    viewer, operator = people[OperatorRole.VIEWER], people[OperatorRole.OPERATOR]
    one = (await viewer.http.get("/api/v1/queues", params={"queue": "system"})).json()
    assert [q["queue"] for q in one] == ["system"]
    assert (await viewer.http.get("/api/v1/queues", params={"queue": "nope"})).status_code == 422
    unknown_queue = await viewer.http.get("/api/v1/queues/nope/jobs")
    assert unknown_queue.status_code == 404 and "no queue 'nope'" in unknown_queue.json()["message"]
    unknown_state = await viewer.http.get("/api/v1/queues/system/jobs", params={"state": "lost"})
    assert unknown_state.status_code == 400 and "no job state 'lost'" in unknown_state.json()["message"]
    missing = await operator.api("POST", "/api/v1/queues/system/jobs/123456/retry")
    assert missing.status_code == 404
    flashed = await operator.submit("/queues/nope/retry-all")
    assert flashed.status_code == 303
    assert "no queue 'nope'" in html.unescape((await operator.http.get("/queues")).text)
    decided = await operator.submit("/queues/bot-tasks/jobs/1/delivery-step", decision="maybe")
    assert decided.status_code == 303
    assert "no decision 'maybe'" in html.unescape((await operator.http.get("/queues")).text)


async def test_a_job_telegram_answered_429_is_delayed_not_failed(world: World, people: Staff) -> None:
    group = await world.add_group("Cheio")
    await world.sandbox.flood("sendMessage", retry_after=120, chat_id=group.telegram_id)
    job_id = await world.enqueue(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "depois"})
    queue = world.queues.queue(JobName.SEND_MESSAGE.queue)
    for _ in range(300):
        if await queue.getJobState(job_id) == "delayed":
            break
        await asyncio.sleep(0.05)
    counts = {
        q["queue"]: q["counts"] for q in (await people[OperatorRole.VIEWER].http.get("/api/v1/queues")).json()
    }
    assert counts["bot-tasks"]["delayed"] == 1 and counts["bot-tasks"]["failed"] == 0
    page = await people[OperatorRole.VIEWER].http.get("/queues")
    assert "is not failed" in page.text and f"job-bot-tasks-{job_id}" not in page.text
