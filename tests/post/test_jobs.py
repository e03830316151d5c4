"""Post jobs against the sandbox: what each chat shows, and PostHistory, after every job type."""

from __future__ import annotations

from sqlalchemy import select

from tests.worker.harness import World
from tgadmin.models import PostHistory
from tgadmin.models.enums import PostStatus
from tgadmin.queue.names import JobName


async def history(world: World, group_id: int) -> dict[int, PostHistory]:
    async with world.sessions() as session:
        rows = (await session.execute(select(PostHistory).where(PostHistory.group_id == group_id))).scalars()
        return {row.message_id: row for row in rows}


def shown(messages: list[dict[str, object]]) -> list[object]:
    return [m.get("text") for m in messages if not m.get("deleted") and m.get("text")]


async def test_send_message_posts_once_records_history_and_last_message_id(world: World) -> None:
    group = await world.add_group()
    out = await world.run(
        JobName.SEND_MESSAGE,
        {"chatId": group.telegram_id, "text": "Promoção <b>hoje</b>", "parseMode": "HTML"},
    )
    assert out.state == "completed", out.reason
    message_id = out.value["messageId"]
    assert shown(await world.sandbox.messages(group.telegram_id)) == ["Promoção hoje"]
    rows = await history(world, group.id)
    assert rows[message_id].status == PostStatus.SENT and rows[message_id].excerpt == "Promoção <b>hoje</b>"
    assert (await world.group(group.id)).last_message_id == message_id


async def test_a_redelivered_send_job_does_not_post_twice(world: World) -> None:
    group = await world.add_group()
    data = {"chatId": group.telegram_id, "text": "uma vez"}
    first = await world.run(JobName.SEND_MESSAGE, data, job_id="campaign-1-group-1")
    assert first.state == "completed"
    # The same job delivered again (as after a crash): retried by id, it finds its send record.
    await first.job.retry("completed")
    again = await world.wait(JobName.SEND_MESSAGE, "campaign-1-group-1")
    assert again.state == "completed" and again.value["messageId"] == first.value["messageId"]
    assert shown(await world.sandbox.messages(group.telegram_id)) == ["uma vez"]
    assert len(await world.sandbox.calls(method="sendMessage")) == 1


async def test_a_send_whose_outcome_is_unknown_fails_visibly_instead_of_duplicating(world: World) -> None:
    group = await world.add_group()
    job_id = "crashed-mid-call"
    # What a worker killed during the HTTP call leaves behind.
    await world.redis.set(f"{world.settings.redis_prefix}:send:bot-tasks:{job_id}", "pending")
    out = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "x"}, job_id=job_id)
    assert out.state == "failed" and "outcome unknown" in (out.reason or "")
    assert out.attempts_made == 1
    assert shown(await world.sandbox.messages(group.telegram_id)) == []


async def test_delete_message_marks_deleted_and_a_too_old_one_undeletable(world: World) -> None:
    group = await world.add_group()
    old = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "velha"})
    await world.sandbox.advance(49 * 3600)
    fresh = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "nova"})
    for out in (old, fresh):
        done = await world.run(
            JobName.DELETE_MESSAGE, {"chatId": group.telegram_id, "messageId": out.value["messageId"]}
        )
        assert done.state == "completed", done.reason
    rows = await history(world, group.id)
    assert rows[fresh.value["messageId"]].status == PostStatus.DELETED
    assert rows[fresh.value["messageId"]].deleted_at is not None
    assert rows[old.value["messageId"]].status == PostStatus.UNDELETABLE
    assert shown(await world.sandbox.messages(group.telegram_id)) == ["velha"]
    # Already gone counts as done.
    again = await world.run(
        JobName.DELETE_MESSAGE, {"chatId": group.telegram_id, "messageId": fresh.value["messageId"]}
    )
    assert again.state == "completed"


async def test_bulk_delete_uses_batches_of_100_and_falls_back_per_message_when_one_is_refused(
    world: World,
) -> None:
    await world.sandbox.configure(enforce_limits=False)
    group = await world.add_group()
    ids = [
        (await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": f"m{i}"})).value[
            "messageId"
        ]
        for i in range(3)
    ]
    await world.sandbox.advance(49 * 3600)  # the first three are now too old
    client = world.tg.bot
    for i in range(150):
        sent = await client.send_message(group.telegram_id, f"n{i}")
        ids.append(sent.message_id)
    before = len(await world.sandbox.calls())
    out = await world.run(
        JobName.DELETE_MESSAGES_BULK, {"chatId": group.telegram_id, "messageIds": ids, "groupDbId": group.id}
    )
    assert out.state == "completed", out.reason
    calls = (await world.sandbox.calls())[before:]
    batches = [c for c in calls if c["method"] == "deleteMessages"]
    singles = [c for c in calls if c["method"] == "deleteMessage"]
    # 153 ids: batch of 100 (has the 3 old ones: refused) -> 100 singles; batch of 53 passes.
    assert len(batches) == 2 and len(singles) == 100
    assert out.value["deleted"] == 150 and out.value["undeletable"] == 3
    assert shown(await world.sandbox.messages(group.telegram_id)) == ["m0", "m1", "m2"]
    rows = await history(world, group.id)
    assert {m: rows[m].status for m in ids[:3]} == dict.fromkeys(ids[:3], PostStatus.UNDELETABLE)


async def test_clear_all_messages_deletes_only_what_the_filters_select(world: World) -> None:
    await world.sandbox.configure(enforce_limits=False)
    group = await world.add_group()
    ids = [
        (await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": f"p{i}"})).value[
            "messageId"
        ]
        for i in range(6)
    ]
    out = await world.run(
        JobName.CLEAR_ALL_MESSAGES,
        {"chatId": group.telegram_id, "groupDbId": group.id, "fromMessageId": ids[1], "toMessageId": ids[3]},
    )
    assert out.state == "completed", out.reason
    assert out.value["matched"] == 3 and out.value["apiCalls"] == 1
    assert shown(await world.sandbox.messages(group.telegram_id)) == ["p0", "p4", "p5"]
    # olderThanDays=0 takes the rest; nothing already deleted is touched again.
    rest = await world.run(
        JobName.CLEAR_ALL_MESSAGES, {"chatId": group.telegram_id, "groupDbId": group.id, "olderThanDays": 0}
    )
    assert rest.value["matched"] == 3
    statuses = {row.status for row in (await history(world, group.id)).values()}
    assert statuses == {PostStatus.DELETED}
    none_left = await world.run(
        JobName.CLEAR_ALL_MESSAGES,
        {"chatId": group.telegram_id, "groupDbId": group.id, "fromDate": "2000-01-01T00:00:00Z"},
    )
    assert none_left.value["matched"] == 0 and none_left.value["apiCalls"] == 0
