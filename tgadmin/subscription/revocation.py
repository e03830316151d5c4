"""The Telegram side of ending a buyer's access, shared by expiry and a refund's revocation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.methods import BanChatMember, DeleteMessage, DeleteMessages, TelegramMethod, UnbanChatMember
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Group
from tgadmin.subscription import service
from tgadmin.subscription.repository import Subscription
from tgadmin.subscription.service import Removal
from tgadmin.telegram.errors import ErrorClass, Reason, TelegramCallError
from tgadmin.telegram.gateway import Gateway

BATCH = 100  # deleteMessages takes at most 100 ids
# Refusals about the chat as a whole: none of its messages can be deleted by this bot.
CHAT_LEVEL = frozenset({Reason.CHAT_NOT_FOUND, Reason.NOT_ENOUGH_RIGHTS, Reason.CANT_INITIATE})
# unbanChatMember in a basic group: a ban there only removes the member; there is nothing to lift.
BASIC_GROUP_UNBAN = "supergroup and channel chats only"


@dataclass
class Revocation:
    """What expiry and a refund both do on Telegram's side to end a buyer's access: delete what delivery
    sent where Telegram still allows it (the rest is undeletable, never retried), then remove the buyer
    from the product's access chat (ban, then unban only if banned). Idempotent: deleting again finds
    nothing, banning and unbanning again changes nothing. A recoverable failure is raised (the caller
    rolls back and tries the purchase later); anything else is recorded in the `Removal`."""

    session: AsyncSession
    gateway: Gateway
    bot_id: int

    async def run(self, sub: Subscription, group: Group | None) -> Removal:
        chat_id = sub.product.access_chat_id
        removal = Removal(access_chat_id=chat_id)
        for message_chat, ids in service.sent_messages(sub.purchase):
            for start in range(0, len(ids), BATCH):
                await self._delete_batch(message_chat, ids[start : start + BATCH], removal)
        if chat_id is not None:
            removal.access_error = await self._remove_from_chat(chat_id, sub, group)
        return removal

    async def _refusal(
        self, method: TelegramMethod[Any], group: Group | None = None
    ) -> TelegramCallError | None:
        """The call; Telegram's refusal about these messages or this buyer, None when it was done. A
        failure of the whole unit (`unit_failure`) is raised."""
        try:
            await self.gateway.call(self.session, method, bot_id=self.bot_id, group=group)
        except TelegramCallError as error:
            if unit_failure(error):
                raise
            return error
        return None

    async def _delete_batch(self, chat_id: int, ids: list[int], removal: Removal) -> None:
        """One deleteMessages call; if Telegram refuses the batch (one message it cannot delete makes it
        refuse them all), each id alone, so the refusal lands on the right messages."""
        error = await self._refusal(DeleteMessages(chat_id=chat_id, message_ids=ids))
        if error is None or error.kind is ErrorClass.DONE:
            # Telegram deletes what it finds and skips what is already gone: the chat shows none of them.
            removal.mark_deleted(chat_id, ids)
        elif _chat_level(error):
            removal.mark_undeletable(chat_id, ids, error.classified.description)
        else:
            for message_id in ids:
                await self._delete_one(chat_id, message_id, removal)

    async def _delete_one(self, chat_id: int, message_id: int, removal: Removal) -> None:
        error = await self._refusal(DeleteMessage(chat_id=chat_id, message_id=message_id))
        if error is None or error.kind is ErrorClass.DONE:
            removal.mark_deleted(chat_id, [message_id])
        else:
            # Older than 48 hours, or no longer ours to delete: undeletable, never tried again.
            removal.mark_undeletable(chat_id, [message_id], error.classified.description)

    async def _remove_from_chat(self, chat_id: int, sub: Subscription, group: Group | None) -> str | None:
        """Ban then unban (only if banned): out of the chat, yet free to come back with a new invite
        link if they subscribe again. Returns why not, or None when done."""
        user_id = sub.buyer.telegram_id
        banned = await self._refusal(BanChatMember(chat_id=chat_id, user_id=user_id), group)
        if banned is not None:
            return banned.classified.description
        unbanned = await self._refusal(
            UnbanChatMember(chat_id=chat_id, user_id=user_id, only_if_banned=True), group
        )
        if unbanned is not None and BASIC_GROUP_UNBAN not in unbanned.classified.description.lower():
            return f"removed but still banned: {unbanned.classified.description}"
        return None


def unit_failure(error: TelegramCallError) -> bool:
    """Not about these messages or this buyer: the purchase is left for the next sweep."""
    return error.kind is ErrorClass.RECOVERABLE or error.reason is Reason.UNAUTHORIZED


def _chat_level(error: TelegramCallError) -> bool:
    return error.kind is ErrorClass.DEACTIVATION or error.reason in CHAT_LEVEL
