"""The `send-promo` job {creatorId, groupId}: a creator's first preview photo, posted to a group with
a caption and a "🔥 Quero Ver Mais" button whose deep link names the group as the source.

Posted at most once per job (telegram.ledger, as post.jobs does) and recorded in PostHistory.
Permanent Telegram errors (bot removed, chat gone, no right to post) fail the job at once; the
gateway has already recorded what they mean for the group (deactivated, rights error counted).
"""

from __future__ import annotations

import re
from typing import Any

from aiogram.methods import SendPhoto
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message
from pydantic import Field, StrictInt

from tgadmin.creator import media as previews
from tgadmin.creator import repository, texts
from tgadmin.errors import Conflict, NotFound
from tgadmin.group import service as group_service
from tgadmin.models import Creator, Group, MediaAsset
from tgadmin.models.enums import PostKind
from tgadmin.post import service as post_service
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName
from tgadmin.telegram import bots, media
from tgadmin.telegram.ledger import SendLedger

# Telegram's rule for /start payloads: at most 64 characters of A-Za-z0-9_-.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SendPromoData(JobData):
    creatorId: StrictInt = Field(gt=0)  # noqa: N815 - job fields are camelCase
    groupId: StrictInt = Field(gt=0)  # noqa: N815 - the group's row id (its chat id may change)


def group_source(group_id: int) -> str:
    """The deep link's source tag for a group: short, and what analytics attributes sales to."""
    return f"g{group_id}"


def deep_link(bot_username: str, creator_id: int, source: str | None = None) -> str:
    """`https://t.me/<bot>?start=model_<id>[_<source>]`, refused if Telegram would not carry it."""
    payload = f"model_{creator_id}" + (f"_{source}" if source else "")
    if not _PAYLOAD.match(payload):
        raise ValueError(f"deep link payload {payload!r} is not 1-64 characters of A-Za-z0-9_-")
    return f"https://t.me/{bot_username}?start={payload}"


async def send_promo(run: JobRun, data: SendPromoData) -> dict[str, Any]:
    group = await group_service.get_group(run.session, data.groupId)
    if group is None:
        raise NotFound(f"no group with id {data.groupId}")
    if not group.is_active:
        raise Conflict(
            f"group {group.id} ({group.title}) is inactive: {group.deactivated_reason or 'deactivated'}"
        )
    creator = await repository.get(run.session, data.creatorId)
    if creator is None:
        raise NotFound(f"no creator with id {data.creatorId}")
    if not creator.is_active:
        raise Conflict(f"creator {creator.id} ({creator.name}) is inactive: no promo for them")
    ledger = SendLedger(run.ctx.redis, run.ctx.settings.redis_prefix, f"{run.queue}:{run.job_id}")
    record = await ledger.read()
    if record is not None and record.pending:
        raise Conflict(
            "send outcome unknown: an earlier run of this job stopped during the Telegram call; "
            "not sent again to avoid a duplicate (check the group, then retry if it is missing)"
        )
    text = texts.caption(creator)
    if record is not None and record.chat_id is not None and record.message_id is not None:
        chat_id, message_id = record.chat_id, record.message_id
    else:
        message = await _post(run, group, creator, text, ledger)
        chat_id, message_id = message.chat.id, message.message_id
    await post_service.record_sent(
        run.session,
        group,
        chat_id=chat_id,
        message_id=message_id,
        kind=PostKind.PROMO,
        text=text,
        job_id=run.job_id,
    )
    return {"chatId": chat_id, "messageId": message_id, "creatorId": creator.id, "groupId": group.id}


async def _post(run: JobRun, group: Group, creator: Creator, text: str, ledger: SendLedger) -> Message:
    bot = await bots.get_bot(run.session, group.bot_id)
    previews = await repository.previews(run.session, creator.id, bot.id)
    if not previews:
        raise Conflict(f"creator {creator.id} ({creator.name}) has no preview photo to post")
    asset, file_id = previews[0]
    link = deep_link(bot.username, creator.id, group_source(group.id))
    method = SendPhoto(
        # The group's row knows its current id (a migration to a supergroup changes it).
        chat_id=group.telegram_id,
        photo=file_id or await _upload(run, asset),
        caption=text,
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=texts.BUTTON, url=link)]]
        ),
    )
    message = await run.gateway.call(run.session, method, bot_id=bot.id, group=group, guard=ledger)
    if file_id is None and message.photo:
        largest = message.photo[-1]
        await media.remember_file_id(run.session, asset.id, bot.id, largest.file_id, largest.file_unique_id)
    return message


async def _upload(run: JobRun, asset: MediaAsset) -> BufferedInputFile:
    # The operator's crop applies to what buyers see, promos included.
    data = await previews.preview_bytes(run.ctx.storage, asset)
    return BufferedInputFile(data, filename=previews.delivered_name(asset))


HANDLERS: dict[JobName, Handler[Any]] = {JobName.SEND_PROMO: Handler(SendPromoData, send_promo)}
