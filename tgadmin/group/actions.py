"""What an operator does to groups, for the pages and the JSON API alike: list and read, activate,
set the cooldown, sync, send a message (with a preview first), upload the message's photo.

Every action is audited in the caller's unit of work; jobs are enqueued only after its commit
(`after_commit`), under an id chosen here so that the page can follow the job at once. A group the
bot has left, or an inactive one, is refused before anything is written or queued.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.db import AfterCommit
from tgadmin.errors import BadRequest, Conflict, InvalidInput, NotFound, PayloadTooLarge
from tgadmin.group import compose, repository
from tgadmin.group.repository import GroupFilter
from tgadmin.group.schemas import (
    GONE,
    MAX_COOLDOWN_SECONDS,
    TAG_PATTERN,
    ButtonCreate,
    GroupUpdate,
    JobStarted,
    MessageCreate,
    PreviewRead,
)
from tgadmin.models import Group, MediaAsset, Operator, PostHistory
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName
from tgadmin.storage import Storage
from tgadmin.webkit.flash import Flash

MAX_TAGS = 20

RECENT_POSTS = 10
# Telegram's own limit for a photo sent by upload.
PHOTO_LIMIT_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


def actor(operator: Operator) -> Actor:
    return Actor.operator(operator.id, operator.email)


def _snapshot(group: Group) -> dict[str, Any]:
    snapshot: dict[str, Any] = {"is_active": group.is_active, "cooldown_seconds": group.cooldown_seconds}
    # Tags only once a group has some: an untagged group's audit rows read as before tags existed.
    return snapshot | ({"tags": list(group.tags)} if group.tags else {})


async def list_groups(
    session: AsyncSession, where: GroupFilter, *, limit: int, offset: int, count_up_to: int | None = None
) -> tuple[Sequence[Group], int]:
    return await repository.page(session, where, limit=limit, offset=offset, count_up_to=count_up_to)


async def load(session: AsyncSession, group_id: int) -> Group:
    group = await repository.get(session, group_id)
    if group is None:
        raise NotFound(f"group {group_id} does not exist")
    return group


async def recent_posts(session: AsyncSession, group_id: int) -> Sequence[PostHistory]:
    return await repository.recent_posts(session, group_id, RECENT_POSTS)


def check_reachable(group: Group, doing: str) -> None:
    """Refuse (409, in words) to send to or sync a group the bot has left or that is inactive."""
    if group.bot_status in GONE:
        raise Conflict(
            f"cannot {doing} {group.title!r}: the bot is no longer in the group ({group.bot_status}); "
            "add the bot back, and the group comes back by itself"
        )
    if not group.is_active:
        reason = group.deactivated_reason or "deactivated by an operator"
        raise Conflict(f"cannot {doing} {group.title!r}: the group is inactive ({reason}); activate it first")


async def update(session: AsyncSession, operator: Operator, group_id: int, change: GroupUpdate) -> Group:
    """Activate/deactivate and set the cooldown; audited with before and after."""
    group = await load(session, group_id)
    before = _snapshot(group)
    if change.is_active is True and group.bot_status in GONE:
        raise Conflict(
            f"cannot activate {group.title!r}: the bot is no longer in the group ({group.bot_status})"
        )
    if change.is_active is not None and change.is_active != group.is_active:
        group.is_active = change.is_active
        group.deactivated_reason = None if change.is_active else f"deactivated by {operator.email}"[:255]
    if change.cooldown_seconds is not None:
        group.cooldown_seconds = change.cooldown_seconds
    if change.tags is not None:
        group.tags = list(dict.fromkeys(change.tags))
    after = _snapshot(group)
    if after != before:
        await session.flush()
        await record(session, actor(operator), "group.update", "group", group.id, before=before, after=after)
    return group


def parse_tags(text: str) -> list[str]:
    """A form's tags field: comma- or space-separated, lower-cased; a clear refusal otherwise."""
    tags = list(dict.fromkeys(t.lower() for t in re.split(r"[,\s]+", text) if t))
    bad = [t for t in tags if not re.fullmatch(TAG_PATTERN, t)]
    if bad:
        raise InvalidInput(f"tags are 1-32 of a-z, 0-9, '_' and '-': {', '.join(bad)} is not")
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags")
    return tags


def parse_cooldown(text: str) -> int:
    """A form's cooldown field: whole seconds, 0 to a day; a clear refusal otherwise."""
    try:
        seconds = int(text.strip())
    except ValueError:
        raise InvalidInput(f"the cooldown must be whole seconds, not {text!r}") from None
    if not 0 <= seconds <= MAX_COOLDOWN_SECONDS:
        raise InvalidInput(f"the cooldown must be 0 to {MAX_COOLDOWN_SECONDS} seconds, not {seconds}")
    return seconds


@dataclass(frozen=True)
class Planned:
    """A job to enqueue after the commit, under an id known now."""

    job: JobName
    data: dict[str, Any]
    job_id: str

    def started(self, said: Flash) -> JobStarted:
        return JobStarted.saying(said, queue=self.job.queue.value, job_id=self.job_id, name=str(self.job))


def _plan(after_commit: AfterCommit, queues: Queues, job: JobName, data: dict[str, Any]) -> Planned:
    planned = Planned(job, data, f"{job}-{uuid.uuid4().hex}")
    after_commit.add(partial(queues.enqueue, job, data, job_id=planned.job_id))
    return planned


async def sync_all(
    session: AsyncSession,
    after_commit: AfterCommit,
    queues: Queues,
    operator: Operator,
    *,
    bot_id: int | None = None,
) -> JobStarted:
    """A `sync-groups` job: one `sync-single-group` per active group (of one bot, when given)."""
    planned = _plan(after_commit, queues, JobName.SYNC_GROUPS, {} if bot_id is None else {"botId": bot_id})
    await record(session, actor(operator), "group.sync_all", "group", None, after={"job": planned.job_id})
    return planned.started(Flash("syncing every active group"))


async def sync_one(
    session: AsyncSession, after_commit: AfterCommit, queues: Queues, operator: Operator, group_id: int
) -> JobStarted:
    group = await load(session, group_id)
    check_reachable(group, "sync")
    planned = _plan(after_commit, queues, JobName.SYNC_SINGLE_GROUP, {"groupDbId": group.id})
    await record(session, actor(operator), "group.sync", "group", group.id, after={"job": planned.job_id})
    return planned.started(Flash("syncing '%(title)s'", title=group.title))


async def preview(session: AsyncSession, message: MessageCreate) -> PreviewRead:
    """The message checked as Telegram will check it, and shown as Telegram will show it."""
    if message.photo_asset_id is not None:
        await _photo(session, message.photo_asset_id)
    return check_message(message, caption=message.photo_asset_id is not None)


def check_message(message: MessageCreate, *, caption: bool) -> PreviewRead:
    """`preview` without the photo: the text (as a caption when `caption`) and the buttons."""
    parsed = compose.parse_html(message.text, caption=caption)
    if len(message.buttons) > compose.MAX_BUTTONS:
        raise InvalidInput(f"at most {compose.MAX_BUTTONS} buttons", details={"field": "buttons"})
    buttons = [compose.check_button(b.text, b.url) for b in message.buttons]
    return PreviewRead(
        html=compose.preview_html(parsed),
        visible_length=len(parsed.text),
        buttons=[ButtonCreate(text=text, url=url) for text, url in buttons],
        caption=caption,
    )


async def _photo(session: AsyncSession, asset_id: int | None) -> MediaAsset:
    found = None if asset_id is None else await repository.asset(session, asset_id)
    if found is None or not found.content_type.startswith("image/"):
        raise InvalidInput(f"no uploaded photo with id {asset_id}", details={"field": "photo_asset_id"})
    return found


def send_job_data(group: Group, message: MessageCreate, checked: PreviewRead) -> dict[str, Any]:
    """post.jobs.SendMessageData's fields (the job's contract; the post domain owns the handler)."""
    data: dict[str, Any] = {
        "chatId": group.telegram_id,
        "groupDbId": group.id,
        "botId": group.bot_id,
        "text": message.text,
        "parseMode": "HTML",
    }
    if checked.buttons:
        data["replyMarkup"] = {"inline_keyboard": [[b.model_dump()] for b in checked.buttons]}
    if message.photo_asset_id is not None:
        data["photoAssetId"] = message.photo_asset_id
    if message.disable_notification:
        data["disableNotification"] = True
    return data


async def send(
    session: AsyncSession,
    after_commit: AfterCommit,
    queues: Queues,
    operator: Operator,
    group_id: int,
    message: MessageCreate,
) -> JobStarted:
    """Check the message and the group, then a `send-message` job after the commit."""
    group = await load(session, group_id)
    check_reachable(group, "send to")
    checked = await preview(session, message)
    planned = _plan(after_commit, queues, JobName.SEND_MESSAGE, send_job_data(group, message, checked))
    after = {"job": planned.job_id, "text": message.text[:200], "buttons": len(checked.buttons)}
    if message.photo_asset_id is not None:
        after["photo_asset_id"] = message.photo_asset_id
    await record(session, actor(operator), "group.send_message", "group", group.id, after=after)
    return planned.started(Flash("sending the message to '%(title)s'", title=group.title))


async def store_photo(session: AsyncSession, storage: Storage, operator: Operator, data: bytes) -> MediaAsset:
    """An uploaded photo kept in storage as a MediaAsset (the same bytes give the same asset)."""
    if len(data) > PHOTO_LIMIT_BYTES:
        raise PayloadTooLarge(f"a photo can have at most {PHOTO_LIMIT_BYTES // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind, size = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise BadRequest("the file is not a photo (JPEG, PNG or WebP)") from None
    if kind not in PHOTO_TYPES:
        raise BadRequest(f"a {kind} image cannot be sent as a photo: use JPEG, PNG or WebP")
    content_type, ext = PHOTO_TYPES[kind]
    digest = hashlib.sha256(data).hexdigest()
    key = f"groups/photos/{digest}.{ext}"
    existing = await repository.asset_by_key(session, key)
    if existing is not None:
        return existing
    await storage.put(key, data, content_type)
    asset = MediaAsset(
        storage_key=key,
        content_type=content_type,
        size_bytes=len(data),
        width=size[0],
        height=size[1],
        sha256=digest,
    )
    session.add(asset)
    await session.flush()
    await record(session, actor(operator), "media.upload", "media_asset", asset.id, after={"key": key})
    return asset
