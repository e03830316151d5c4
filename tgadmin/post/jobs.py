"""Queue handlers of the post domain: send, delete, bulk delete, clear (job data as the original
system named it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from aiogram.methods import DeleteMessage, DeleteMessages, SendMediaGroup, SendMessage, SendPhoto
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MediaUnion,
    Message,
    ReplyParameters,
)
from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from tgadmin.campaign import service as campaign_service
from tgadmin.clock import utcnow
from tgadmin.errors import BadRequest, Conflict, NotFound, ServiceUnavailable, TgadminError
from tgadmin.group import service as group_service
from tgadmin.models import Group, MediaAsset
from tgadmin.models.enums import PostKind
from tgadmin.post import service
from tgadmin.post.repository import ClearFilter
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName
from tgadmin.telegram import media
from tgadmin.telegram.errors import ErrorClass, Reason, TelegramCallError
from tgadmin.telegram.gateway import CallGuard
from tgadmin.telegram.ledger import SendLedger

BATCH = 100  # deleteMessages takes at most 100 ids


class UrlButton(JobData):
    text: StrictStr = Field(min_length=1, max_length=64)
    url: StrictStr = Field(min_length=1, max_length=2048)


class InlineKeyboard(JobData):
    """Telegram's InlineKeyboardMarkup, url buttons only (rows of buttons)."""

    inline_keyboard: list[list[UrlButton]] = Field(min_length=1, max_length=100)

    def markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=b.text, url=b.url) for b in row] for row in self.inline_keyboard
            ]
        )


class SendMessageData(JobData):
    chatId: StrictInt  # noqa: N815 - the original system's job fields
    # Required, except as the optional caption of a photo or album.
    text: StrictStr | None = Field(None, min_length=1, max_length=4096)
    parseMode: Literal["HTML", "Markdown", "MarkdownV2"] | None = None  # noqa: N815
    replyToMessageId: StrictInt | None = None  # noqa: N815
    disableNotification: StrictBool | None = None  # noqa: N815
    bypassRateLimit: StrictBool = False  # noqa: N815
    botId: StrictInt | None = None  # noqa: N815
    replyMarkup: InlineKeyboard | None = None  # noqa: N815
    # A campaign's post: the group's row (its current chat id is used, so a migration is followed)
    # and the campaign whose target for that group gets the outcome.
    groupDbId: StrictInt | None = None  # noqa: N815
    campaignId: StrictInt | None = None  # noqa: N815
    # The campaign's round (each resume starts one): a post of an earlier round is not sent.
    campaignRound: StrictInt = Field(0, ge=0)  # noqa: N815
    # A photo (a MediaAsset) sent with sendPhoto, `text` as its caption (Telegram: 1024 characters).
    photoAssetId: StrictInt | None = Field(None, ge=1)  # noqa: N815
    # Or an album (2-10 MediaAssets) sent with sendMediaGroup, `text` as the first item's caption;
    # Telegram shows no buttons under an album.
    albumAssetIds: list[Annotated[int, Field(ge=1)]] | None = Field(None, min_length=2, max_length=10)  # noqa: N815

    @model_validator(mode="after")
    def _postable(self) -> SendMessageData:
        if self.photoAssetId is not None and self.albumAssetIds:
            raise ValueError("a photo or an album, not both")
        if self.text is None and self.photoAssetId is None and not self.albumAssetIds:
            raise ValueError("a text is needed unless a photo or an album is sent")
        if self.albumAssetIds and self.replyMarkup is not None:
            raise ValueError("Telegram shows no buttons under an album")
        return self

    @property
    def kind(self) -> PostKind:
        if self.albumAssetIds:
            return PostKind.ALBUM
        return PostKind.TEXT if self.photoAssetId is None else PostKind.PHOTO


class DeleteMessageData(JobData):
    chatId: StrictInt  # noqa: N815
    messageId: StrictInt  # noqa: N815
    botId: StrictInt | None = None  # noqa: N815


class DeleteMessagesBulkData(JobData):
    chatId: StrictInt  # noqa: N815
    messageIds: list[StrictInt] = Field(min_length=1)  # noqa: N815
    groupDbId: StrictInt | None = None  # noqa: N815
    botId: StrictInt | None = None  # noqa: N815
    # A campaign's auto-delete: its target for the group is marked deleted once the chat no
    # longer shows the post.
    campaignId: StrictInt | None = None  # noqa: N815


class ClearAllMessagesData(JobData):
    chatId: StrictInt  # noqa: N815
    groupDbId: StrictInt  # noqa: N815
    fromMessageId: StrictInt | None = None  # noqa: N815
    toMessageId: StrictInt | None = None  # noqa: N815
    olderThanDays: StrictInt | None = Field(None, ge=0)  # noqa: N815
    fromDate: datetime | None = None  # noqa: N815
    toDate: datetime | None = None  # noqa: N815


def _inactive(group: Group) -> Conflict:
    return Conflict(
        f"group {group.id} ({group.title}) is inactive: {group.deactivated_reason or 'deactivated'}"
    )


def _gave_up(error: TgadminError | TelegramCallError) -> str | None:
    """Why the post will never be sent by this job, or None when it may still be (a retry)."""
    if isinstance(error, TelegramCallError):
        return None if error.kind is ErrorClass.RECOVERABLE else error.classified.description
    return None if isinstance(error, ServiceUnavailable) else error.message


async def send_message(run: JobRun, data: SendMessageData) -> dict[str, Any]:
    """Post a text once per job, whatever happens to the worker (see telegram.ledger). With a
    `campaignId`, the campaign's target for the group gets the outcome in the same unit of work."""
    group: Group | None = None
    try:
        bot_id, group = await group_service.resolve_target(
            run.session, data.chatId, bot_id=data.botId, group_db_id=data.groupDbId
        )
        return await _send(run, data, bot_id, group)
    except (TgadminError, TelegramCallError) as error:
        target = data.groupDbId if group is None else group.id
        reason = _gave_up(error)
        if data.campaignId is not None and target is not None and reason is not None:
            await campaign_service.record_post_failed(run.session, data.campaignId, target, reason)
            # The job fails next, and the wrapper rolls back what a failed job leaves uncommitted.
            await run.checkpoint()
        raise


async def _send(run: JobRun, data: SendMessageData, bot_id: int, group: Group | None) -> dict[str, Any]:
    if group is not None and not group.is_active:
        raise _inactive(group)
    ledger = SendLedger(run.ctx.redis, run.ctx.settings.redis_prefix, f"{run.queue}:{run.job_id}")
    record = await ledger.read()
    if record is not None and record.pending:
        raise Conflict(
            "send outcome unknown: an earlier run of this job stopped during the Telegram call; "
            "not sent again to avoid a duplicate (check the chat, then retry if it is missing)"
        )
    if record is not None and record.chat_id is not None and record.message_ids:
        chat_id, message_ids = record.chat_id, list(record.message_ids)
    else:
        guard: CallGuard = ledger
        if data.campaignId is not None and group is not None:
            refused = await campaign_service.check_post(
                run.session, data.campaignId, group.id, data.campaignRound
            )
            if refused is not None:
                return {"skipped": refused}
            guard = CampaignGuard(run, data.campaignId, data.campaignRound, ledger)
        try:
            messages = await _post(run, data, bot_id, group, guard)
        except campaign_service.CampaignStopped as stopped:
            return {"skipped": stopped.message}
        chat_id, message_ids = messages[0].chat.id, [m.message_id for m in messages]
    if group is not None:
        await _record(run, data, group, chat_id, message_ids)
    result: dict[str, Any] = {"chatId": chat_id, "messageId": message_ids[0]}
    return result | ({"messageIds": message_ids} if len(message_ids) > 1 else {})


async def _record(
    run: JobRun, data: SendMessageData, group: Group, chat_id: int, message_ids: list[int]
) -> None:
    for index, message_id in enumerate(message_ids):
        await service.record_sent(
            run.session,
            group,
            chat_id=chat_id,
            message_id=message_id,
            kind=data.kind,
            text=data.text if index == 0 else None,
            job_id=run.job_id,
            campaign_id=data.campaignId,
        )
    if data.campaignId is not None:
        await campaign_service.record_post_sent(
            run.session, data.campaignId, group.id, message_ids[0], message_ids=message_ids
        )


class CampaignGuard:
    """The send ledger, preceded by one more look at the campaign's state in Redis right before the
    request (after any wait for the limiter): a pause or cancel stops posts already past their
    check in the database."""

    def __init__(self, run: JobRun, campaign_id: int, round: int, ledger: SendLedger) -> None:
        self.run, self.campaign_id, self.round, self.ledger = run, campaign_id, round, ledger

    async def before(self) -> None:
        settings = self.run.ctx.settings
        await campaign_service.may_send(
            self.run.ctx.redis, settings.redis_prefix, self.campaign_id, self.round
        )
        await self.ledger.before()

    async def succeeded(self, result: Any) -> None:
        await self.ledger.succeeded(result)

    async def not_done(self) -> None:
        await self.ledger.not_done()


async def _post(
    run: JobRun, data: SendMessageData, bot_id: int, group: Group | None, guard: CallGuard
) -> list[Message]:
    """sendMessage, sendPhoto with the text as caption, or sendMediaGroup; media uploaded once per
    bot (the file_id kept for the next send)."""
    if data.albumAssetIds:
        return await _post_album(run, data, bot_id, group, guard, data.albumAssetIds)
    if data.photoAssetId is None:
        method: SendMessage | SendPhoto = _send_method(data, group)
        file_id = None
    else:
        found = await media.asset_for_bot(run.session, data.photoAssetId, bot_id)
        if found is None:
            raise NotFound(f"no media asset {data.photoAssetId} to send as the photo")
        asset, file_id = found
        photo = await media.upload_or_file_id(run.ctx.storage, asset, file_id)
        method = _photo_method(data, group, photo)
    message = await run.gateway.call(
        run.session, method, bot_id=bot_id, group=group, bypass_rate_limit=data.bypassRateLimit, guard=guard
    )
    if data.photoAssetId is not None and file_id is None and message.photo:
        largest = message.photo[-1]
        await media.remember_file_id(
            run.session, data.photoAssetId, bot_id, largest.file_id, largest.file_unique_id
        )
    return [message]


async def _post_album(
    run: JobRun, data: SendMessageData, bot_id: int, group: Group | None, guard: CallGuard, ids: list[int]
) -> list[Message]:
    sent_assets: list[tuple[MediaAsset, str | None]] = []
    items: list[MediaUnion] = []
    for asset_id in ids:
        found = await media.asset_for_bot(run.session, asset_id, bot_id)
        if found is None:
            raise NotFound(f"no media asset {asset_id} for the album")
        sent_assets.append(found)
        items.append(await media.input_media(run.ctx.storage, *found))
    if data.text:
        items[0] = items[0].model_copy(update={"caption": data.text, "parse_mode": data.parseMode})
    method = SendMediaGroup(
        chat_id=data.chatId if group is None else group.telegram_id,
        media=items,
        disable_notification=data.disableNotification,
    )
    messages = await run.gateway.call(
        run.session, method, bot_id=bot_id, group=group, bypass_rate_limit=data.bypassRateLimit, guard=guard
    )
    await media.remember_sent(run.session, bot_id, sent_assets, messages)
    return list(messages)


def _photo_method(data: SendMessageData, group: Group | None, photo: str | BufferedInputFile) -> SendPhoto:
    text = _send_method(data, group)
    return SendPhoto(
        chat_id=text.chat_id,
        photo=photo,
        caption=data.text,
        parse_mode=text.parse_mode,
        disable_notification=text.disable_notification,
        reply_parameters=text.reply_parameters,
        reply_markup=text.reply_markup,
    )


def _send_method(data: SendMessageData, group: Group | None) -> SendMessage:
    if data.text is None and data.photoAssetId is None:
        raise BadRequest("a text message needs a text")
    return SendMessage(
        # The group's row knows its current id (a migration to a supergroup changes it).
        chat_id=data.chatId if group is None else group.telegram_id,
        text=data.text or "",
        parse_mode=data.parseMode,
        disable_notification=data.disableNotification,
        reply_parameters=(
            ReplyParameters(message_id=data.replyToMessageId, allow_sending_without_reply=True)
            if data.replyToMessageId
            else None
        ),
        reply_markup=None if data.replyMarkup is None else data.replyMarkup.markup(),
    )


async def _delete_one(
    run: JobRun,
    bot_id: int,
    group: Group | None,
    chat_id: int,
    message_id: int,
    outcome: service.DeleteOutcome,
) -> None:
    outcome.api_calls += 1
    try:
        await run.gateway.call(
            run.session, DeleteMessage(chat_id=chat_id, message_id=message_id), bot_id=bot_id, group=group
        )
    except TelegramCallError as error:
        if error.kind is ErrorClass.DONE:
            outcome.deleted.append(message_id)  # already gone: the chat no longer shows it
        elif error.reason is Reason.MESSAGE_CANT_BE_DELETED:
            outcome.undeletable.append(message_id)
        elif error.kind is ErrorClass.PERMANENT and error.reason is not Reason.CHAT_NOT_FOUND:
            outcome.errors[message_id] = error.classified.description
        else:
            raise
        return
    outcome.deleted.append(message_id)


async def _delete_batch(
    run: JobRun,
    bot_id: int,
    group: Group | None,
    chat_id: int,
    ids: list[int],
    outcome: service.DeleteOutcome,
) -> None:
    """One deleteMessages call; if Telegram refuses the batch (one id it cannot delete makes it
    refuse them all), each id is tried alone so that the refusal lands on the right messages."""
    outcome.api_calls += 1
    try:
        await run.gateway.call(
            run.session, DeleteMessages(chat_id=chat_id, message_ids=ids), bot_id=bot_id, group=group
        )
    except TelegramCallError as error:
        if error.kind is not ErrorClass.PERMANENT or error.reason is Reason.CHAT_NOT_FOUND:
            raise
        for message_id in ids:
            await _delete_one(run, bot_id, group, chat_id, message_id, outcome)
        return
    # Telegram deletes what it finds and skips ids already gone; either way the chat no longer shows them.
    outcome.deleted.extend(ids)


async def delete_many(
    run: JobRun, bot_id: int, group: Group | None, chat_id: int, message_ids: list[int]
) -> service.DeleteOutcome:
    """Batches of 100, progress committed after each batch (a 429 later does not undo it)."""
    outcome = service.DeleteOutcome()
    fresh, old = await service.split_by_age(run.session, group, sorted(set(message_ids)))
    total = len(fresh) + len(old)
    for ids in (fresh, old):
        for start in range(0, len(ids), BATCH):
            done = service.DeleteOutcome()
            await _delete_batch(run, bot_id, group, chat_id, ids[start : start + BATCH], done)
            await service.apply_outcome(run.session, group, done)
            await run.checkpoint()
            outcome.deleted += done.deleted
            outcome.undeletable += done.undeletable
            outcome.errors.update(done.errors)
            outcome.api_calls += done.api_calls
            handled = len(outcome.deleted) + len(outcome.undeletable) + len(outcome.errors)
            await run.progress(handled, total, deleted=len(outcome.deleted))
    return outcome


async def delete_message(run: JobRun, data: DeleteMessageData) -> dict[str, Any]:
    bot_id, group = await group_service.resolve_target(run.session, data.chatId, bot_id=data.botId)
    outcome = service.DeleteOutcome()
    await _delete_one(run, bot_id, group, data.chatId, data.messageId, outcome)
    await service.apply_outcome(run.session, group, outcome)
    if outcome.errors:
        raise Conflict(f"message {data.messageId} not deleted: {outcome.errors[data.messageId]}")
    return outcome.summary()


async def delete_messages_bulk(run: JobRun, data: DeleteMessagesBulkData) -> dict[str, Any]:
    bot_id, group = await group_service.resolve_target(
        run.session, data.chatId, bot_id=data.botId, group_db_id=data.groupDbId
    )
    chat_id = data.chatId if group is None else group.telegram_id
    outcome = await delete_many(run, bot_id, group, chat_id, list(data.messageIds))
    if data.campaignId is not None and group is not None and not outcome.errors:
        await campaign_service.record_post_deleted(run.session, data.campaignId, group.id)
    return outcome.summary()


async def clear_all_messages(run: JobRun, data: ClearAllMessagesData) -> dict[str, Any]:
    """Delete what PostHistory says the group still shows, filtered by id range, age or dates."""
    bot_id, group = await group_service.resolve_target(run.session, data.chatId, group_db_id=data.groupDbId)
    assert group is not None
    where = ClearFilter(
        from_message_id=data.fromMessageId,
        to_message_id=data.toMessageId,
        sent_before=None if data.olderThanDays is None else utcnow() - timedelta(days=data.olderThanDays),
        sent_from=data.fromDate,
        sent_to=data.toDate,
    )
    ids = await service.clear_candidates(run.session, group, where)
    result = (await delete_many(run, bot_id, group, group.telegram_id, ids)).summary()
    return {**result, "matched": len(ids)}


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.SEND_MESSAGE: Handler(SendMessageData, send_message),
    JobName.DELETE_MESSAGE: Handler(DeleteMessageData, delete_message),
    JobName.DELETE_MESSAGES_BULK: Handler(DeleteMessagesBulkData, delete_messages_bulk),
    JobName.CLEAR_ALL_MESSAGES: Handler(ClearAllMessagesData, clear_all_messages),
}
