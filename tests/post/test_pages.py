"""The Posts page and "Delete selected" over real HTTP (dashboard on uvicorn, PostgreSQL and
SQLite, Redis): who may read and act, the filters and pages, what Telegram refused and why, and that
a refused form enqueues nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.fixtures.dashboard import Desk, Person
from tests.post.posts_kit import add_post, audit_trail, bot_left, notice_after, row_ids, shelf, waiting
from tgadmin.clock import utcnow
from tgadmin.models.enums import OperatorRole, PostStatus

Staff = dict[OperatorRole | None, Person]


async def test_every_role_reads_post_history_and_only_operators_get_the_delete_button(
    desk: Desk, staff: Staff
) -> None:
    found = await shelf(desk, utcnow())
    anonymous = await staff[None].http.get("/posts")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    for role in (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN):
        page = await staff[role].http.get("/posts")
        assert page.status_code == 200
        # Newest first, across both groups.
        assert row_ids(page.text) == [
            found.posts[name].id for name in ("photo", "fresh", "deleted", "old", "undeletable", "failed")
        ]
        acting = role is not OperatorRole.VIEWER
        assert ("Delete selected" in page.text) is acting
        # Only messages still shown can be selected.
        boxes = re.findall(r'name="post" value="(\d+)"', page.text)
        expected = {found.posts[name].id for name in ("photo", "fresh", "old")} if acting else set()
        assert set(map(int, boxes)) == expected


async def test_the_page_says_what_telegram_refused_and_the_48_hour_rule(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    page = (await staff[OperatorRole.VIEWER].http.get("/posts")).text
    failed = page.split(f'id="post-{found.posts["failed"].id}"')[1].split("</tr>")[0]
    assert "Telegram refused:" in failed and "Bad Request: not enough rights" in failed
    undeletable = page.split(f'id="post-{found.posts["undeletable"].id}"')[1].split("</tr>")[0]
    assert "Sent more than 48 hours before the delete" in undeletable
    old = page.split(f'id="post-{found.posts["old"].id}"')[1].split("</tr>")[0]
    assert "past 48 hours: Telegram will refuse to delete it" in old
    assert "Fotos VIP" in page and "Oferta de hoje" in page


async def test_filters_narrow_the_list_and_bad_filters_are_refused_in_words(desk: Desk, staff: Staff) -> None:
    now = utcnow()
    found = await shelf(desk, now)
    viewer = staff[OperatorRole.VIEWER].http
    by_group = await viewer.get("/posts", params={"group_id": found.promo.id})
    assert set(row_ids(by_group.text)) == {found.posts[n].id for n in ("failed", "undeletable", "photo")}
    by_status = await viewer.get("/posts", params={"status": "sent", "group_id": found.fotos.id})
    assert row_ids(by_status.text) == [found.posts["fresh"].id, found.posts["old"].id]
    by_kind = await viewer.get("/posts", params={"kind": "photo"})
    assert row_ids(by_kind.text) == [found.posts["photo"].id]
    day = (now.date()).isoformat()
    # Brasília days: a post of an hour ago may fall on yesterday there; three days ago never today.
    recent = await viewer.get("/posts", params={"sent_from": "2000-01-01", "sent_to": "2999-12-31"})
    assert len(row_ids(recent.text)) == 6
    future = await viewer.get("/posts", params={"sent_from": "2999-01-01"})
    assert row_ids(future.text) == [] and "No posts match these filters." in future.text
    for params, said in (
        ({"status": "gone"}, "status: 'gone' is not one of sent, deleted, failed, undeletable"),
        ({"sent_from": "30/11/2026"}, "is not a date like 2026-11-30"),
        ({"sent_from": day, "sent_to": "2001-01-01"}, "the date range is reversed"),
        ({"group_id": "abc"}, "group: 'abc' is not a whole number"),
    ):
        refused = await viewer.get("/posts", params=params)
        assert refused.status_code == 200 and said in refused.text.replace("&#39;", "'"), params
        assert row_ids(refused.text) == []


async def test_pages_of_fifty_newest_first(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    start = utcnow() - timedelta(days=10)
    for n in range(60):
        await add_post(desk, found.fotos, start + timedelta(minutes=n))
    viewer = staff[OperatorRole.VIEWER].http
    first = await viewer.get("/posts", params={"group_id": found.fotos.id})
    second = await viewer.get("/posts", params={"group_id": found.fotos.id, "page": 2})
    assert len(row_ids(first.text)) == 50 and len(row_ids(second.text)) == 13
    assert "page 1 of 2" in first.text and "page 2 of 2" in second.text
    assert not set(row_ids(first.text)) & set(row_ids(second.text))


async def test_delete_selected_starts_one_job_per_group_audited_and_the_page_follows_them(
    desk: Desk, staff: Staff
) -> None:
    found = await shelf(desk, utcnow())
    operator = staff[OperatorRole.OPERATOR]
    chosen = [found.posts[name].id for name in ("fresh", "old", "photo")]
    answer = await operator.submit("/posts/delete", post=chosen, back="status=sent&evil=1")
    location = answer.headers["location"]
    assert location.startswith("/posts?status=sent&job=delete-") and "evil" not in location
    page, said = await notice_after(operator, answer)
    assert said == "Deleting 3 messages in 2 groups: progress below."
    jobs = re.findall(r'hx-get="/jobs/bot-tasks/(delete-[0-9a-f]+)"', page)
    assert len(jobs) == 2
    assert await waiting(desk.queues) == sorted(
        [
            (
                "delete-messages-bulk",
                {
                    "chatId": found.fotos.telegram_id,
                    "messageIds": sorted([found.posts["fresh"].message_id, found.posts["old"].message_id]),
                    "groupDbId": found.fotos.id,
                    "botId": None,
                    "campaignId": None,
                },
            ),
            (
                "delete-messages-bulk",
                {
                    "chatId": found.promo.telegram_id,
                    "messageIds": [found.posts["photo"].message_id],
                    "groupDbId": found.promo.id,
                    "botId": None,
                    "campaignId": None,
                },
            ),
        ],
        key=lambda item: str(item[1]),
    )
    trail = await audit_trail(desk, "post.bulk_delete_requested")
    assert {entry.entity_id for entry in trail} == {str(found.fotos.id), str(found.promo.id)}
    assert all(entry.actor_label and entry.actor_label.startswith("op") for entry in trail)
    assert {entry.after["job_id"] for entry in trail if entry.after} == set(jobs)


async def test_refused_deletes_say_why_and_enqueue_nothing(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    operator = staff[OperatorRole.OPERATOR]
    fresh = found.posts["fresh"].id
    viewer = await staff[OperatorRole.VIEWER].submit("/posts/delete", post=[fresh])
    assert viewer.status_code == 403 and "needs the operator role" in viewer.text
    forged = await operator.submit("/posts/delete", csrf="forged", post=[fresh])
    assert forged.status_code == 403
    anonymous = await staff[None].submit("/posts/delete", post=[fresh])
    assert anonymous.status_code in (303, 401)
    for fields, said in (
        ({}, "Nothing deleted: no posts selected"),
        ({"post": [fresh, found.posts["deleted"].id]}, "only posts still shown (sent) can be deleted"),
        ({"post": ["x1"]}, "post: 'x1' is not a whole number"),
        ({"post": [10**12]}, "no post with id 1000000000000"),
    ):
        _, message = await notice_after(operator, await operator.submit("/posts/delete", **fields))
        assert said in message, (fields, message)
    await bot_left(desk, found.fotos)
    _, message = await notice_after(operator, await operator.submit("/posts/delete", post=[fresh]))
    assert "the bot is no longer in group 'Fotos VIP' (left)" in message
    assert await waiting(desk.queues) == []
    assert await audit_trail(desk, "post.bulk_delete_requested") == []
    still = await staff[OperatorRole.VIEWER].http.get("/posts", params={"status": PostStatus.SENT.value})
    assert fresh in row_ids(still.text)


async def test_the_pages_speak_portuguese_by_default(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    portuguese = {"Accept-Language": "pt-BR"}
    operator = staff[OperatorRole.OPERATOR].http
    posts = (await operator.get("/posts", headers=portuguese)).text
    assert "Apagar selecionadas" in posts and "O Telegram recusou:" in posts and "6 postagens" in posts
    clear = (await operator.get(f"/groups/{found.fotos.id}/clear", headers=portuguese)).text
    assert "A regra das 48 horas do Telegram:" in clear and "1 mensagens serão apagadas." in clear
