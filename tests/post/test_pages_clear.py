"""/groups/{id}/clear over real HTTP: the count of what will be deleted (and of what is past
Telegram's 48 hours) before confirming, refreshed by the filters; confirming starts one
clear-all-messages job; contradictory filters, a group the bot left, a viewer or a forged form are
refused in words and enqueue nothing."""

from __future__ import annotations

import html
import re

from tests.fixtures.dashboard import Desk, Person
from tests.post.posts_kit import audit_trail, bot_left, notice_after, shelf, waiting
from tgadmin.clock import utcnow
from tgadmin.models.enums import OperatorRole

Staff = dict[OperatorRole | None, Person]


def counted(fragment: str) -> tuple[int, int] | str:
    """(matched, past 48 hours) from the count, or the refusal it shows."""
    found = re.search(r'data-matched="(\d+)" data-old="(\d+)"', fragment)
    if found:
        return int(found.group(1)), int(found.group(2))
    refused = re.search(r'role="alert" data-matched="">([^<]*)<', fragment)
    assert refused, fragment
    return html.unescape(refused.group(1))


async def test_the_clear_page_counts_before_confirming_for_every_role(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    path = f"/groups/{found.fotos.id}/clear"
    anonymous = await staff[None].http.get(path)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    for role in (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN):
        page = await staff[role].http.get(path)
        assert page.status_code == 200
        # Still shown in Fotos VIP: "fresh" and "old" (3 days: past the 48 hours).
        assert counted(page.text) == (2, 1)
        assert "1 messages will be deleted." in page.text and "1 more are past Telegram" in page.text
        assert "a bot can delete a message only within 48 hours of sending it" in page.text
        assert ("Confirm: clear" in page.text) is (role is not OperatorRole.VIEWER)
        assert f'hx-get="{path}/count"' in page.text
    missing = await staff[OperatorRole.VIEWER].http.get("/groups/999999/clear")
    assert missing.status_code == 404 and "no group with id 999999" in missing.text


async def test_the_count_follows_the_filters_and_refuses_contradictions(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    viewer = staff[OperatorRole.VIEWER].http
    count = f"/groups/{found.fotos.id}/clear/count"
    fresh, old = found.posts["fresh"].message_id, found.posts["old"].message_id

    async def ask(**params: str | int) -> tuple[int, int] | str:
        answer = await viewer.get(count, params=params)
        assert answer.status_code == 200
        return counted(answer.text)

    assert await ask(older_than_days=2) == (1, 1)
    assert await ask(from_message_id=fresh, to_message_id=fresh) == (1, 0)
    assert await ask(from_message_id=old, to_message_id=old) == (1, 1)
    assert await ask(from_date="2999-01-01T00:00") == (0, 0)
    assert await ask(from_date="2000-01-01", to_date="2999-12-31") == (2, 1)
    assert await ask(from_date="2026-11-30T10:00", to_date="2026-11-29T10:00") == (
        "the date range is reversed: 'from' is after 'to'"
    )
    assert await ask(older_than_days=-1) == "'older than' must be between 0 and 36500 days, not -1"
    assert await ask(from_message_id=9, to_message_id=3) == "the message id range is reversed: 9 is after 3"
    assert await ask(from_message_id=0) == "message ids start at 1, not 0"
    assert await ask(older_than_days="soon") == "older than (days): 'soon' is not a whole number"
    assert (
        await ask(to_date="yesterday") == "to: 'yesterday' is not a date like 2026-11-30 or 2026-11-30T14:05"
    )
    await bot_left(desk, found.fotos)
    assert await ask() == "the bot is no longer in group 'Fotos VIP' (left): nothing can be deleted there"


async def test_confirming_starts_one_clear_job_with_the_filters_audited(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    operator = staff[OperatorRole.ADMIN]
    path = f"/groups/{found.fotos.id}/clear"
    answer = await operator.submit(path, older_than_days="1", from_message_id="1")
    assert answer.headers["location"].startswith(f"{path}?older_than_days=1&from_message_id=1&job=clear-")
    page, said = await notice_after(operator, answer)
    assert said == "Clearing 1 messages (1 past 48 hours will be marked undeletable): progress below."
    job_id = answer.headers["location"].split("job=")[1]
    assert f'hx-get="/jobs/bot-tasks/{job_id}"' in page
    assert await waiting(desk.queues) == [
        (
            "clear-all-messages",
            {
                "chatId": found.fotos.telegram_id,
                "groupDbId": found.fotos.id,
                "fromMessageId": 1,
                "olderThanDays": 1,
            },
        )
    ]
    (entry,) = await audit_trail(desk, "post.clear_requested")
    assert entry.entity_id == str(found.fotos.id) and entry.after == {
        "older_than_days": 1,
        "from_message_id": 1,
        "matched": 1,
        "past_48_hours": 1,
        "job_id": job_id,
    }


async def test_refused_clears_say_why_and_enqueue_nothing(desk: Desk, staff: Staff) -> None:
    found = await shelf(desk, utcnow())
    operator = staff[OperatorRole.OPERATOR]
    path = f"/groups/{found.fotos.id}/clear"
    viewer = await staff[OperatorRole.VIEWER].submit(path)
    assert viewer.status_code == 403 and "needs the operator role" in viewer.text
    assert (await operator.submit(path, csrf="forged")).status_code == 403
    assert (await operator.submit(path, csrf="")).status_code == 403
    for fields, said in (
        ({"from_date": "2026-11-30", "to_date": "2026-11-01"}, "the date range is reversed"),
        ({"older_than_days": "-3"}, "'older than' must be between 0 and 36500 days, not -3"),
        (
            {"from_message_id": "50", "to_message_id": "10"},
            "the message id range is reversed: 50 is after 10",
        ),
        ({"from_date": "2999-01-01"}, "no message of 'Fotos VIP' still shown matches these filters"),
    ):
        answer = await operator.submit(path, **fields)
        # Back to the form with the filters as typed.
        assert all(f"{key}=" in answer.headers["location"] for key in fields)
        _, message = await notice_after(operator, answer)
        assert message.startswith("Nothing cleared: ") and said in message, message
    await bot_left(desk, found.fotos)
    _, message = await notice_after(operator, await operator.submit(path))
    assert "the bot is no longer in group 'Fotos VIP' (left)" in message
    assert (
        (await operator.submit("/groups/999999/clear")).headers["location"].startswith("/groups/999999/clear")
    )
    assert await waiting(desk.queues) == []
    assert await audit_trail(desk, "post.clear_requested") == []
