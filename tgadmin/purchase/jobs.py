"""The `deliver-purchase` job {purchaseId}: a paid purchase delivered to the buyer's private chat.

In order: the product's files in albums of at most 10 with `protect_content` on (files this bot has
sent before go by file_id, others are uploaded from storage and their file_id kept), the "payment
confirmed" text being the caption of the first album's first file, then, when the product has an
access chat, a single-use invite link. The confirmation rides on the album because Telegram lets a
bot post one message a second into a private chat: a text of its own before the album held the
buyer's first file back by a second. It goes alone only when there are no files, when it is longer
than a caption may be, or when an earlier run of the job (before this order) already sent it.
Every message id lands in `sent_messages` (the subscription sweep deletes them at expiry);
then the purchase goes paid → completed with its delivery time and, for a subscription, the end
of access.

Each send is one step. The database records the steps Telegram accepted (`delivered_steps`, written
with `sent_messages` and committed after each step): a job retried, rescheduled by a 429 or
redelivered after a crash goes on from the first step not yet done, and never posts a step the
database knows arrived, even with the send ledger in Redis gone. The ledger (telegram.ledger)
covers the request itself: its "pending" mark is written right before the HTTP request. A step left
"pending" (the request left, no answer came: a timeout, a lost connection, a worker killed) has an
unknown outcome: it is recorded on the purchase (`delivery_step_unknown`, audited), the job fails
naming the step, and nothing is sent until an operator decides (purchase.api: "arrived" or
"send again"). A delivery job for a purchase already completed does nothing; one for a purchase not
paid (refunded, failed...) is refused.

`resend-purchase` {purchaseId, stamp} (/mypurchases, purchase.history) sends a completed pack again
through the same steps, under its own ledger keys (`history.resend_key`): the first delivery's
`delivered_steps` are neither read nor written, its messages join `sent_messages`.

A subscription paid while the same buyer's purchase of it still gives access is a renewal
(`service.renewal_for`): one "renewed until" message (its own step), no files and no invite (the
buyer has them and is in the access chat), then the live purchase's end moves forward
(`service.complete_renewal`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NoReturn

from aiogram.methods import (
    CreateChatInviteLink,
    DeleteMessages,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    SendVideo,
    TelegramMethod,
)
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    InputMediaVideo,
    MediaUnion,
    Message,
)
from pydantic import Field, StrictInt

from tgadmin.audit.service import Actor
from tgadmin.clock import utcnow
from tgadmin.errors import Conflict, NotFound
from tgadmin.i18n import Language, buyer_language
from tgadmin.purchase import history, repository, service, texts
from tgadmin.purchase.repository import Item, Order
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName
from tgadmin.telegram import media
from tgadmin.telegram.errors import ErrorClass, TelegramCallError
from tgadmin.telegram.ledger import SendLedger
from tgadmin.telegram.media import InputMedia

log = logging.getLogger(__name__)

ACTOR = Actor.system("deliver-purchase")
# Telegram's limit on a media caption (characters after entity parsing; our texts have no entities).
CAPTION_MAX = 1024
# Makes the step's method only when the step is not done yet (uploads read storage, links are created).
Build = Callable[[], Awaitable[TelegramMethod[Any]]]


class DeliverData(JobData):
    purchaseId: StrictInt = Field(gt=0)  # noqa: N815 - job fields are camelCase


async def deliver(run: JobRun, data: DeliverData) -> dict[str, Any]:
    order = await repository.order(run.session, data.purchaseId)
    if order is None:
        raise NotFound(f"purchase {data.purchaseId} does not exist")
    if not service.needs_delivery(order.purchase):
        return {"purchaseId": order.purchase.id, "alreadyDelivered": True}
    purchase = order.purchase
    if purchase.bot_id is None:
        raise Conflict(f"purchase {purchase.id} names no bot to deliver it through")
    steps = {str(k): list(v) for k, v in (purchase.delivered_steps or {}).items()}
    delivery = _Delivery(run, order, purchase.bot_id, list(purchase.sent_messages or []), steps)
    now = utcnow()
    renewal = await service.renewal_for(run.session, order, now)
    if renewal is not None:
        return await delivery.renew(renewal, now)
    return await delivery.deliver()


class _NoLongerCompleted(Exception):
    """A resend found its purchase refunded or expired after a send (`count` messages taken back)."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


@dataclass
class _Delivery:
    run: JobRun
    order: Order
    bot_id: int
    sent: list[dict[str, Any]]
    steps: dict[str, list[int]]
    messages: int = 0
    uploads: int = 0
    # A resend from /mypurchases (its id, history.stamp_of): its own ledger keys, no database steps.
    resend_stamp: int | None = None

    @property
    def chat_id(self) -> int:
        return self.order.buyer.telegram_id

    @property
    def lang(self) -> Language:
        """The buyer's chosen language first (/language), then what Telegram says they speak."""
        buyer = self.order.buyer
        return buyer_language(buyer.preferred_language, buyer.language_code)

    async def deliver(self) -> dict[str, Any]:
        purchase, product = self.order.purchase, self.order.product
        now = utcnow()
        items = await repository.media(self.run.session, product.id, self.bot_id)
        ready = texts.ready(product.title, len(items), service.access_until(product, now), self.lang)
        if items and "ready" not in self.steps and len(ready) <= CAPTION_MAX:
            await self._albums(items, caption=ready)
        else:
            await self._step("ready", partial(_text, self.chat_id, ready))
            await self._albums(items)
        if product.access_chat_id is not None:
            await self._step("access", partial(self._invitation, product.access_chat_id, now))
        completed = await service.complete(self.run.session, purchase, product, now, ACTOR)
        return {
            "purchaseId": purchase.id,
            "chatId": self.chat_id,
            "messages": self.messages,
            "uploads": self.uploads,
            "completed": completed,
            **({} if completed else {"note": "the purchase stopped being paid during delivery"}),
        }

    async def renew(self, renewal: service.Renewal, now: datetime) -> dict[str, Any]:
        purchase, product = self.order.purchase, self.order.product
        text = texts.renewed(product.title, renewal.new_end, self.lang)
        await self._step("renewed", partial(_text, self.chat_id, text))
        completed = await service.complete_renewal(self.run.session, purchase, renewal, now, ACTOR)
        return {
            "purchaseId": purchase.id,
            "chatId": self.chat_id,
            "messages": self.messages,
            "renewed": renewal.live_id,
            "accessExpiresAt": renewal.new_end.isoformat(),
            "completed": completed,
            **({} if completed else {"note": "the purchase stopped being paid during delivery"}),
        }

    async def resend(self) -> dict[str, Any]:
        """The pack again: a "here it is again" message and the same albums (no invitation: those
        admit one person once, and a pack's access chat was joined with the first one)."""
        product = self.order.product
        items = await repository.media(self.run.session, product.id, self.bot_id)
        done: dict[str, Any] = {"purchaseId": self.order.purchase.id, "chatId": self.chat_id}
        try:
            again = texts.again(product.title, len(items), self.lang)
            await self._step("again", partial(_text, self.chat_id, again))
            await self._albums(items)
        except _NoLongerCompleted as stopped:
            note = "the purchase stopped being completed during the resend: its last messages were deleted"
            return done | {"resend": self.resend_stamp, "stopped": note, "deleted": stopped.count}
        return done | {"resend": self.resend_stamp, "messages": self.messages, "uploads": self.uploads}

    async def _albums(self, items: list[Item], caption: str | None = None) -> None:
        for index, album in enumerate(service.albums(items)):
            sent = await self._step(
                f"album-{index}", partial(self._album, album, caption if index == 0 else None)
            )
            if sent is not None:
                await self._remember_file_ids(album, sent)

    def _key(self, name: str) -> str:
        purchase_id = self.order.purchase.id
        if self.resend_stamp is None:
            return service.step_key(purchase_id, name)
        return history.resend_key(purchase_id, self.resend_stamp, name)

    async def _step(self, name: str, build: Build) -> list[Message] | None:
        """One send, at most once whatever happens to this job or to Redis; its ids saved and committed.

        The database knows the steps done (`delivered_steps`): those are never sent again. The send
        ledger in Redis covers the moments around the request: "sent" (Telegram answered, the commit
        did not happen) is recorded here; "pending" (the request left, no answer came) makes the step
        unknown: recorded in the database, and the job stops until an operator decides."""
        purchase_id = self.order.purchase.id
        if name in self.steps:
            self.messages += len(self.steps[name])
            return None
        if self.resend_stamp is None and self.order.purchase.delivery_step_unknown == name:
            raise service.unknown_step_error(purchase_id, name, self.run.job_id)
        ledger = SendLedger(self.run.ctx.redis, self.run.ctx.settings.redis_prefix, self._key(name))
        record = await ledger.read()
        if record is not None and record.pending:
            await self._unknown(name, "an earlier run stopped during the Telegram call")
        sent: list[Message] | None = None
        if record is not None and record.sent:
            ids = list(record.message_ids)
        else:
            method: TelegramMethod[Any] = await build()
            try:
                result = await self.run.gateway.call(
                    self.run.session, method, bot_id=self.bot_id, guard=ledger
                )
            except TelegramCallError as error:
                if error.kind is ErrorClass.RECOVERABLE and await _in_doubt(ledger):
                    await self._unknown(name, error.classified.description)
                raise
            sent = result if isinstance(result, list) else [result]
            ids = [m.message_id for m in sent]
        self.messages += len(ids)
        self.steps[name] = ids
        self.sent = service.with_sent(self.sent, self.chat_id, ids)
        if self.resend_stamp is None:
            await repository.save_step(self.run.session, purchase_id, self.sent, self.steps)
        elif not await repository.add_sent(self.run.session, purchase_id, self.sent):
            await self._take_back(ids)
        await self.run.checkpoint()
        return sent

    async def _take_back(self, ids: list[int]) -> NoReturn:
        """The purchase was refunded (or ended) while it was being sent again: the revocation has
        already run over `sent_messages`, which these ids never joined, so they are deleted here
        (just sent: well within Telegram's 48 hours) and the resend stops."""
        try:
            method = DeleteMessages(chat_id=self.chat_id, message_ids=ids)
            await self.run.gateway.call(self.run.session, method, bot_id=self.bot_id)
        except TelegramCallError as error:
            if error.kind is ErrorClass.RECOVERABLE:
                raise
            log.warning("resend of purchase %s: could not delete %s: %s", self.order.purchase.id, ids, error)
        raise _NoLongerCompleted(len(ids))

    async def _unknown(self, name: str, why: str) -> NoReturn:
        purchase_id = self.order.purchase.id
        if self.resend_stamp is not None:
            # A resend is a courtesy: in doubt, it stops rather than risk sending a pack twice.
            raise Conflict(
                f"resend {self.resend_stamp} of purchase {purchase_id}: outcome of step {name} unknown "
                f"({why}); not sent again to avoid a duplicate"
            )
        await service.mark_unknown(self.run.session, purchase_id, name, why, ACTOR)
        await self.run.checkpoint()
        raise service.unknown_step_error(purchase_id, name, self.run.job_id)

    async def _album(self, album: list[Item], caption: str | None) -> TelegramMethod[Any]:
        """One album; `caption` goes under its first file (Telegram shows it as the album's)."""
        media: list[MediaUnion] = [await self._input(item) for item in album]
        if caption is not None:
            media[0] = media[0].model_copy(update={"caption": caption})
        if len(media) > 1:
            return SendMediaGroup(chat_id=self.chat_id, media=media, protect_content=True)
        only, chat = media[0], self.chat_id
        if isinstance(only, InputMediaPhoto):
            return SendPhoto(chat_id=chat, photo=only.media, caption=caption, protect_content=True)
        if isinstance(only, InputMediaVideo):
            return SendVideo(chat_id=chat, video=only.media, caption=caption, protect_content=True)
        return SendDocument(chat_id=chat, document=only.media, caption=caption, protect_content=True)

    async def _input(self, item: Item) -> InputMedia:
        if item.file_id is None:
            self.uploads += 1
        return await media.input_media(self.run.ctx.storage, item.asset, item.file_id)

    async def _remember_file_ids(self, album: list[Item], sent: list[Message]) -> None:
        assets = [(item.asset, item.file_id) for item in album]
        await media.remember_sent(self.run.session, self.bot_id, assets, sent)

    async def _invitation(self, access_chat_id: int, now: datetime) -> TelegramMethod[Any]:
        """A single-use link to the access chat (created here, so a retried step makes a fresh one)."""
        purchase = self.order.purchase
        link = await self.run.gateway.call(
            self.run.session,
            CreateChatInviteLink(
                chat_id=access_chat_id,
                name=f"purchase {purchase.id}"[:32],
                member_limit=1,
                expire_date=service.invite_expiry(service.access_until(self.order.product, now), now),
            ),
            bot_id=self.bot_id,
        )
        text, label = texts.access(self.order.product.title, self.lang)
        button = InlineKeyboardButton(text=label, url=link.invite_link)
        return SendMessage(
            chat_id=self.chat_id,
            text=text,
            protect_content=True,
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
        )


async def _in_doubt(ledger: SendLedger) -> bool:
    """The request left and no answer came: the gateway kept the step's "pending" mark."""
    record = await ledger.read()
    return record is not None and record.pending


async def _text(chat_id: int, text: str) -> TelegramMethod[Any]:
    return SendMessage(chat_id=chat_id, text=text, protect_content=True)


class ResendData(JobData):
    purchaseId: StrictInt = Field(gt=0)  # noqa: N815 - job fields are camelCase
    stamp: StrictInt = Field(gt=0)  # history.stamp_of: which resend (the second it was asked for)


async def resend(run: JobRun, data: ResendData) -> dict[str, Any]:
    """`resend-purchase` {purchaseId, stamp}: a completed pack sent again, by delivery's own steps."""
    order = await repository.order(run.session, data.purchaseId)
    if order is None:
        raise NotFound(f"purchase {data.purchaseId} does not exist")
    purchase = order.purchase
    why = history.refusal(purchase, order.product)
    if why is not None:
        raise Conflict(f"purchase {purchase.id} is not sent again: {why.value}")
    if purchase.bot_id is None:
        raise Conflict(f"purchase {purchase.id} names no bot to send it through")
    sent = list(purchase.sent_messages or [])
    return await _Delivery(run, order, purchase.bot_id, sent, {}, resend_stamp=data.stamp).resend()


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.DELIVER_PURCHASE: Handler(DeliverData, deliver),
    JobName.RESEND_PURCHASE: Handler(ResendData, resend),
}
