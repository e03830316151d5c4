"""The post pages with a real worker behind them: "Delete selected" deletes the messages in the
sandbox chat and marks them deleted; clearing a group by date range deletes only the messages sent
in that range."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import update

from tests.fixtures.dashboard import Person, dashboard_server, log_in
from tests.post.test_jobs import history, shown
from tests.worker.harness import World
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.i18n import BRASILIA
from tgadmin.models import Group, PostHistory
from tgadmin.models.enums import OperatorRole, PostStatus
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port


@asynccontextmanager
async def operator_at(world: World) -> AsyncIterator[Person]:
    async with dashboard_server(world.settings, free_port()) as url:
        person = await log_in(world.sessions, world.settings, url, OperatorRole.OPERATOR)
        try:
            yield person
        finally:
            await person.http.aclose()


async def send(world: World, group: Group, *texts: str) -> list[int]:
    ids = []
    for text in texts:
        out = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": text})
        assert out.state == "completed", out.reason
        ids.append(int(out.value["messageId"]))
    return ids


def job_in(location: str) -> str:
    found = re.search(r"[?&]job=([\w-]+)", location)
    assert found, location
    return found.group(1)


async def test_delete_selected_deletes_in_the_chat_and_the_page_shows_the_outcome(world: World) -> None:
    group = await world.add_group("Ofertas")
    first, second, third = await send(world, group, "um", "dois", "três")
    rows = await history(world, group.id)
    async with operator_at(world) as operator:
        chosen = [rows[first].id, rows[third].id]
        answer = await operator.submit("/posts/delete", post=chosen)
        job_id = job_in(answer.headers["location"])
        done = await world.wait(JobName.DELETE_MESSAGES_BULK, job_id)
        assert done.state == "completed" and done.value["deleted"] == 2 and done.value["failed"] == 0
        fragment = (await operator.http.get(f"/jobs/bot-tasks/{job_id}")).text
        assert 'data-state="completed"' in fragment and "deleted: <b>2</b>" in fragment
        listing = (await operator.http.get("/posts", params={"status": "deleted"})).text
        assert set(map(int, re.findall(r'<tr id="post-(\d+)"', listing))) == set(chosen)
    assert shown(await world.sandbox.messages(group.telegram_id)) == ["dois"]
    after = await history(world, group.id)
    assert [after[m].status for m in (first, second, third)] == [
        PostStatus.DELETED,
        PostStatus.SENT,
        PostStatus.DELETED,
    ]
    assert after[first].deleted_at is not None


async def test_clear_by_date_range_deletes_only_the_messages_sent_in_it(world: World) -> None:
    group = await world.add_group("Limpeza")
    early = await send(world, group, "ontem 1", "ontem 2")
    late = await send(world, group, "hoje 1", "hoje 2")
    # The first two went out yesterday, as far as our history knows (Telegram still lets them go).
    async with session_scope(world.sessions) as session:
        await session.execute(
            update(PostHistory)
            .where(PostHistory.group_id == group.id, PostHistory.message_id.in_(early))
            .values(sent_at=utcnow() - timedelta(hours=30))
        )
    until = (utcnow() - timedelta(hours=12)).astimezone(BRASILIA).strftime("%Y-%m-%dT%H:%M")
    since = (utcnow() - timedelta(hours=40)).astimezone(BRASILIA).strftime("%Y-%m-%dT%H:%M")
    async with operator_at(world) as operator:
        path = f"/groups/{group.id}/clear"
        count = await operator.http.get(f"{path}/count", params={"from_date": since, "to_date": until})
        assert 'data-matched="2" data-old="0"' in count.text
        answer = await operator.submit(path, from_date=since, to_date=until)
        job_id = job_in(answer.headers["location"])
        done = await world.wait(JobName.CLEAR_ALL_MESSAGES, job_id)
        assert done.state == "completed" and done.value["matched"] == 2 and done.value["deleted"] == 2
    assert shown(await world.sandbox.messages(group.telegram_id)) == ["hoje 1", "hoje 2"]
    after = await history(world, group.id)
    assert {m: after[m].status for m in early + late} == {
        **dict.fromkeys(early, PostStatus.DELETED),
        **dict.fromkeys(late, PostStatus.SENT),
    }
