"""Shared by the post page and API tests: post history put straight into the desk's database, the
jobs waiting in the bot-tasks queue (what an action enqueued), and the one-time message a page
shows after a form."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from tests.factories import make_bot, make_group, make_post
from tests.fixtures.dashboard import Desk, Person
from tgadmin.db import session_scope
from tgadmin.models import AuditLog, Group, PostHistory
from tgadmin.models.enums import BotMemberStatus, PostKind, PostStatus
from tgadmin.queue.client import Queues
from tgadmin.queue.names import QueueName


@dataclass
class Shelf:
    """Two groups and their posts, by a name of the test's choosing."""

    fotos: Group
    promo: Group
    posts: dict[str, PostHistory]


async def add_post(
    desk: Desk,
    group: Group,
    sent_at: datetime,
    status: PostStatus = PostStatus.SENT,
    *,
    kind: PostKind = PostKind.TEXT,
    excerpt: str | None = None,
    error: str | None = None,
) -> PostHistory:
    async with session_scope(desk.sessions) as session:
        post = await make_post(session, group, sent_at, status)
        post.kind, post.excerpt, post.error = kind, excerpt, error
        return post


async def shelf(desk: Desk, now: datetime) -> Shelf:
    """Posts in two groups: sent (fresh and 3 days old), deleted, failed with Telegram's reason,
    undeletable, a photo."""
    async with session_scope(desk.sessions) as session:
        bot = await make_bot(session)
        fotos = await make_group(session, bot, title="Fotos VIP")
        promo = await make_group(session, bot, title="Promoções")
    day = 24 * 3600
    posts = {
        "fresh": await add_post(desk, fotos, _ago(now, 3600), excerpt="Oferta de hoje"),
        "old": await add_post(desk, fotos, _ago(now, 3 * day), excerpt="Oferta antiga"),
        "deleted": await add_post(desk, fotos, _ago(now, 2 * 3600), PostStatus.DELETED, excerpt="Apagada"),
        "failed": await add_post(
            desk, promo, _ago(now, 5 * day), PostStatus.FAILED, error="Bad Request: not enough rights"
        ),
        "undeletable": await add_post(
            desk,
            promo,
            _ago(now, 4 * day),
            PostStatus.UNDELETABLE,
            error="Telegram: message can't be deleted",
        ),
        "photo": await add_post(desk, promo, _ago(now, 1800), kind=PostKind.PHOTO, excerpt="Foto nova"),
    }
    return Shelf(fotos, promo, posts)


def _ago(now: datetime, seconds: int) -> datetime:
    return now - timedelta(seconds=seconds)


async def bot_left(desk: Desk, group: Group) -> None:
    async with session_scope(desk.sessions) as session:
        row = await session.get(Group, group.id)
        assert row is not None
        row.bot_status, row.is_active = BotMemberStatus.LEFT, False


async def waiting(queues: Queues) -> list[tuple[str, dict[str, Any]]]:
    """(job name, data) of every job not yet run in bot-tasks (no worker runs in desk tests)."""
    jobs = await queues.queue(QueueName.BOT_TASKS).getJobs(["waiting", "delayed", "prioritized", "active"])
    return sorted(((job.name, job.data) for job in jobs), key=lambda item: str(item[1]))


async def audit_trail(desk: Desk, action: str) -> list[AuditLog]:
    async with desk.sessions() as session:
        rows = await session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))
        return list(rows.all())


async def notice_after(person: Person, answer: httpx.Response) -> tuple[str, str]:
    """Follow a form's 303 and return (the page, its one-time message)."""
    assert answer.status_code == 303, answer.text
    page = await person.http.get(answer.headers["location"])
    assert page.status_code == 200, page.text
    found = re.search(r'<div class="notice[^"]*" role="status">([^<]*)</div>', page.text)
    return page.text, html.unescape(found.group(1)) if found else ""


def row_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="post-(\d+)"', page)]
