"""The Groups pages over HTTP, for every role: the list with its filters and pages, a group's page
with the bot's rights in words, and the actions (sync, activate, cooldown, send with a preview),
each refused with a clear message and nothing changed when the input or the group is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import make_bot, make_group, make_post
from tests.fixtures.dashboard import Desk, Person
from tests.group.photo import png_bytes
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.group import pages as group_pages
from tgadmin.models import AuditLog, Group
from tgadmin.models.enums import BotMemberStatus, ChatType, OperatorRole, PostStatus
from tgadmin.queue.names import JobName
from tgadmin.webkit.i18n import LANG_COOKIE

VIEWER, OPERATOR, ADMIN = OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN
Staff = dict[OperatorRole | None, Person]


async def _groups(desk: Desk, *specs: dict[str, Any]) -> list[Group]:
    async with session_scope(desk.sessions) as session:
        bot = await make_bot(session)
        made = []
        for spec in specs:
            rights = spec.pop("rights", {"can_delete_messages": True, "can_invite_users": True})
            group = await make_group(session, bot, **spec)
            group.bot_rights = rights
            made.append(group)
        return made


async def _row(desk: Desk, group_id: int) -> Group:
    async with desk.sessions() as session:
        found = await session.get(Group, group_id)
        assert found is not None
        return found


async def _audits(desk: Desk, action: str) -> list[AuditLog]:
    async with desk.sessions() as session:
        rows = await session.execute(select(AuditLog).where(AuditLog.action == action))
        return list(rows.scalars())


async def _queued(desk: Desk, job: JobName) -> int:
    """How many `job` jobs wait in their queue (the queue holds other job types too)."""
    waiting = await desk.queues.queue(job.queue).getJobs(["waiting", "delayed", "prioritized"])
    return sum(1 for found in waiting if found.name == str(job))


async def test_viewers_read_the_pages_operators_act_and_anonymous_is_sent_to_log_in(
    desk: Desk, staff: Staff
) -> None:
    (group,) = await _groups(desk, {"title": "Ofertas VIP"})
    page = await staff[None].http.get("/groups")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert (await staff[None].http.get(f"/groups/{group.id}")).status_code == 303
    for role in (VIEWER, OPERATOR, ADMIN):
        listing = await staff[role].http.get("/groups")
        assert listing.status_code == 200 and f'href="/groups/{group.id}"' in listing.text
        detail = await staff[role].http.get(f"/groups/{group.id}")
        assert detail.status_code == 200 and "Ofertas VIP" in detail.text
        assert f'href="/posts?group_id={group.id}"' in detail.text
        assert ("Send a message" in detail.text) is (role is not VIEWER)
    for path, fields in (
        ("/groups/sync", {}),
        (f"/groups/{group.id}/sync", {}),
        (f"/groups/{group.id}/settings", {"cooldown": "30"}),
        (f"/groups/{group.id}/preview", {"text": "hi"}),
        (f"/groups/{group.id}/send", {"text": "hi"}),
    ):
        assert (await staff[VIEWER].submit(path, **fields)).status_code == 403, path
        assert (await staff[None].submit(path, **fields)).status_code in (401, 303), path
    assert (await _row(desk, group.id)).cooldown_seconds == 0
    assert await _queued(desk, JobName.SEND_MESSAGE) == 0


async def test_the_list_filters_by_state_admin_rights_and_title_and_pages_on_the_server(
    desk: Desk, staff: Staff
) -> None:
    await _groups(
        desk,
        {"title": "Ofertas Norte"},
        {"title": "Ofertas Sul", "rights": {"can_delete_messages": True}},
        {"title": "Membro Simples", "status": BotMemberStatus.MEMBER, "rights": {}},
        {"title": "Antigo", "is_active": False},
        *({"title": f"Lote {n:02d}"} for n in range(55)),
    )
    http = staff[VIEWER].http

    async def titles(**params: str) -> str:
        return (await http.get("/groups", params=params)).text

    assert "Ofertas Norte" in await titles(q="ofertas") and "Membro" not in await titles(q="ofertas")
    missing = await titles(missing="1")
    assert "Ofertas Sul" in missing and "Membro Simples" in missing and "Ofertas Norte" not in missing
    assert "Membro Simples" in await titles(admin="no") and "Ofertas Norte" not in await titles(admin="no")
    inactive = await titles(active="no")
    assert "Antigo" in inactive and "Lote" not in inactive
    first, second = await titles(), await titles(page="2")
    assert "page 1 of 2" in first and "Lote 54" in first and "Ofertas Norte" not in first
    assert "Ofertas Norte" in second and "Lote 54" not in second
    assert "50 groups" not in first and "59 groups" in first


async def test_a_long_list_counts_up_to_a_limit_and_still_pages_on(
    desk: Desk, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_pages, "COUNTED", 60)
    await _groups(desk, *({"title": f"Lote {n:03d}"} for n in range(130)))
    http = staff[VIEWER].http
    first = (await http.get("/groups")).text
    assert "60+ groups" in first and "page 1 of 2+" in first and "page=2" in first
    third = (await http.get("/groups", params={"page": "3"})).text
    assert "130 groups" in third and "page 3 of 3" in third and "Lote 000" in third
    assert "page=4" not in third
    searched = (await http.get("/groups", params={"q": "lote 1"})).text  # sorted after the title index
    assert "30 groups" in searched and "Lote 099" not in searched
    assert searched.index("Lote 129") < searched.index("Lote 128") < searched.index("Lote 100")


async def test_a_group_page_says_what_the_bot_lacks_in_words_and_lists_the_last_posts(
    desk: Desk, staff: Staff
) -> None:
    (group,) = await _groups(desk, {"title": "Sem Direitos", "rights": {"can_delete_messages": False}})
    async with session_scope(desk.sessions) as session:
        row = await session.get(Group, group.id)
        assert row is not None
        for _ in range(12):
            await make_post(session, row, utcnow(), PostStatus.SENT)
    page = (await staff[VIEWER].http.get(f"/groups/{group.id}")).text
    assert "cannot delete" in page and "make the bot an admin with the right 'Delete messages'" in page
    assert "can post" in page and "Invite users via link" in page
    assert page.count('<tr><td class="num">') == 10


async def test_sync_all_and_sync_one_enqueue_their_jobs_and_the_page_follows_them(
    desk: Desk, staff: Staff
) -> None:
    (group,) = await _groups(desk, {"title": "Sincronizar"})
    sent = await staff[OPERATOR].submit("/groups/sync")
    assert sent.status_code == 303 and "job=bot-tasks%3Async-groups-" in sent.headers["location"]
    job_id = sent.headers["location"].split("%3A", 1)[1]
    assert await desk.queues.queue(JobName.SYNC_GROUPS.queue).getJob(job_id) is not None
    page = await staff[OPERATOR].http.get(sent.headers["location"])
    assert f'hx-get="/jobs/bot-tasks/{job_id}"' in page.text and "syncing every active group" in page.text
    one = await staff[ADMIN].submit(f"/groups/{group.id}/sync")
    assert one.status_code == 303 and "sync-single-group-" in one.headers["location"]
    assert len(await _audits(desk, "group.sync")) == 1
    # The message is said in the language of the page that shows it (Portuguese by default).
    staff[ADMIN].http.cookies.set(LANG_COOKIE, "pt")
    page = await staff[ADMIN].http.get(one.headers["location"])
    assert "sincronizando &#39;Sincronizar&#39;" in page.text


async def test_activate_deactivate_and_cooldown_are_audited_and_bad_values_change_nothing(
    desk: Desk, staff: Staff
) -> None:
    (group,) = await _groups(desk, {"title": "Ajustes"})
    operator = staff[OPERATOR]
    assert (await operator.submit(f"/groups/{group.id}/settings", active="no")).status_code == 303
    assert (await _row(desk, group.id)).is_active is False
    assert (await operator.submit(f"/groups/{group.id}/settings", cooldown="45")).status_code == 303
    row = await _row(desk, group.id)
    assert row.cooldown_seconds == 45 and row.is_active is False
    (first, second) = await _audits(desk, "group.update")
    assert first.before == {"is_active": True, "cooldown_seconds": 0}
    assert second.after == {"is_active": False, "cooldown_seconds": 45}
    for bad in ("-5", "999999", "ten"):
        refused = await operator.submit(f"/groups/{group.id}/settings", cooldown=bad)
        shown = await operator.http.get(refused.headers["location"])
        assert "the cooldown must be" in shown.text, bad
    assert (await _row(desk, group.id)).cooldown_seconds == 45
    forged = await operator.submit(f"/groups/{group.id}/settings", csrf="forged", cooldown="1")
    assert forged.status_code == 403 and (await _row(desk, group.id)).cooldown_seconds == 45
    assert len(await _audits(desk, "group.update")) == 2


async def test_the_preview_shows_the_formatted_message_and_its_buttons_or_why_telegram_would_refuse_it(
    desk: Desk, staff: Staff
) -> None:
    (group,) = await _groups(desk, {"title": "Prévia"})
    operator = staff[OPERATOR]
    shown = await operator.submit(
        f"/groups/{group.id}/preview",
        text="<b>Promo</b> & <i>hoje</i>\n<script>x</script>",
        button_text=["Comprar"],
        button_url=["https://example.com/loja"],
    )
    assert shown.status_code == 200 and "<script>" not in shown.text
    assert "is not a tag Telegram accepts" in shown.text
    good = await operator.submit(
        f"/groups/{group.id}/preview",
        text='<b>Promo</b> <a href="https://example.com">loja</a> 1 &lt; 2',
        button_text=["Comprar", ""],
        button_url=["https://example.com/loja", ""],
    )
    assert "<b>Promo</b>" in good.text and 'href="https://example.com"' in good.text
    assert (
        "1 &lt; 2" in good.text
        and 'href="https://example.com/loja"' in good.text
        and ">Comprar</a>" in good.text
    )


async def test_sending_enqueues_one_job_and_bad_messages_come_back_in_the_form_with_nothing_queued(
    desk: Desk, staff: Staff
) -> None:
    (group,) = await _groups(desk, {"title": "Envio"})
    operator, path = staff[OPERATOR], f"/groups/{group.id}/send"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "<b>aberta"}, "<b> is never closed"),
        ({"text": "<b>x</i>"}, "</i> found where </b> was expected"),
        ({"text": "oi", "button_text": ["Loja"], "button_url": ["http://example.com"]}, "needs an https://"),
        ({"text": "oi", "button_text": ["Loja"], "button_url": ["javascript:alert(1)"]}, "needs an https://"),
        ({"text": "oi", "button_text": [""], "button_url": ["https://example.com"]}, "needs both a text"),
        ({"text": "x" * 4097}, "at most 4096 characters"),
    ]
    for fields, reason in cases:
        refused = await operator.submit(path, **fields)
        assert refused.status_code == 422, fields
        assert reason.replace("<", "&lt;").replace(">", "&gt;") in refused.text, reason
        assert fields["text"][:50].replace("<", "&lt;").replace(">", "&gt;") in refused.text
    assert await _queued(desk, JobName.SEND_MESSAGE) == 0 and await _audits(desk, "group.send_message") == []
    sent = await operator.submit(
        path, text="<b>Oferta</b>", button_text=["Ver"], button_url=["https://example.com/v"]
    )
    assert sent.status_code == 303 and "send-message-" in sent.headers["location"]
    job_id = sent.headers["location"].split("%3A", 1)[1]
    job = await desk.queues.queue(JobName.SEND_MESSAGE.queue).getJob(job_id)
    assert job is not None and job.data["parseMode"] == "HTML" and job.data["groupDbId"] == group.id
    assert job.data["replyMarkup"] == {"inline_keyboard": [[{"text": "Ver", "url": "https://example.com/v"}]]}
    (audit,) = await _audits(desk, "group.send_message")
    assert audit.after is not None and audit.after["job"] == job_id


async def test_a_caption_too_long_for_a_photo_is_refused_and_the_uploaded_photo_is_kept_for_the_retry(
    desk: Desk, staff: Staff
) -> None:
    png = png_bytes()
    (group,) = await _groups(desk, {"title": "Foto"})
    refused = await staff[OPERATOR].submit(
        f"/groups/{group.id}/send", text="y" * 1025, files={"photo": ("a.png", png, "image/png")}
    )
    assert refused.status_code == 422 and "a photo&#39;s caption can have at most 1024" in refused.text
    assert (
        'name="photo_asset_id" value="' in refused.text
        and 'value=""' not in refused.text.split('name="photo_asset_id"')[1][:10]
    )
    not_photo = await staff[OPERATOR].submit(
        f"/groups/{group.id}/send", text="ok", files={"photo": ("a.png", b"not an image", "image/png")}
    )
    assert not_photo.status_code == 400 and "not a photo" in not_photo.text
    assert await _queued(desk, JobName.SEND_MESSAGE) == 0


async def test_a_group_the_bot_left_is_refused_clearly_for_sending_and_syncing_and_nothing_is_queued(
    desk: Desk, staff: Staff
) -> None:
    left, inactive = await _groups(
        desk,
        {"title": "Abandonado", "status": BotMemberStatus.LEFT, "is_active": False},
        {"title": "Pausado", "is_active": False},
    )
    operator = staff[OPERATOR]
    refused = await operator.submit(f"/groups/{left.id}/send", text="oi")
    assert refused.status_code == 409 and "the bot is no longer in the group (left)" in refused.text
    sync = await operator.submit(f"/groups/{left.id}/sync")
    assert "the bot is no longer in the group" in (await operator.http.get(sync.headers["location"])).text
    paused = await operator.submit(f"/groups/{inactive.id}/send", text="oi")
    assert paused.status_code == 409 and "the group is inactive" in paused.text
    revive = await operator.submit(f"/groups/{left.id}/settings", active="yes")
    assert "the bot is no longer in the group" in (await operator.http.get(revive.headers["location"])).text
    assert (await _row(desk, left.id)).is_active is False
    assert (
        await _queued(desk, JobName.SEND_MESSAGE) == 0 and await _queued(desk, JobName.SYNC_SINGLE_GROUP) == 0
    )


async def test_a_channel_needs_the_post_right_and_says_so(desk: Desk, staff: Staff) -> None:
    (channel,) = await _groups(desk, {"title": "Canal", "rights": {"can_delete_messages": True}})
    async with session_scope(desk.sessions) as session:
        row = await session.get(Group, channel.id)
        assert row is not None
        row.type = ChatType.CHANNEL
    page = (await staff[VIEWER].http.get(f"/groups/{channel.id}")).text
    assert "cannot post" in page and "Post messages" in page
    async with desk.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Group))).scalar_one() == 1
