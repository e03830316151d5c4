"""Telegram's errors, worded exactly as the Bot API server words them.

The strings come from Telegram's open-source Bot API server (telegram-bot-api/Client.cpp): a
server-side error code such as `CHARGE_NOT_FOUND` is passed through in capitals after the
`Bad Request: ` prefix, any other message gets its first letter lower-cased.
"""

from __future__ import annotations

from typing import Any


class TelegramError(Exception):
    """An answer `{ok: false, error_code, description, parameters?}` with HTTP status `error_code`."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {message}")


def forbidden(message: str) -> TelegramError:
    return TelegramError(403, f"Forbidden: {message}")


def unauthorized() -> TelegramError:
    return TelegramError(401, "Unauthorized")


def not_found() -> TelegramError:
    """api.telegram.org's answer to an unknown method or a malformed token."""
    return TelegramError(404, "Not Found")


def too_many_requests(retry_after: int) -> TelegramError:
    return TelegramError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def migrated(new_chat_id: int) -> TelegramError:
    return TelegramError(
        400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_chat_id}
    )


def conflict(message: str) -> TelegramError:
    return TelegramError(409, f"Conflict: {message}")


def required(name: str) -> TelegramError:
    return bad_request(f'parameter "{name}" is required')


CHAT_NOT_FOUND = "chat not found"
USER_NOT_FOUND = "user not found"
CHAT_ID_EMPTY = "chat_id is empty"
MESSAGE_TEXT_EMPTY = "message text is empty"
MESSAGE_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
MESSAGE_ID_MISSING = "message identifier is not specified"
MESSAGE_IDS_MISSING = "message identifiers are not specified"
TOO_MANY_MESSAGE_IDS = "too many message identifiers specified"
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_CANT_BE_DELETED = "message can't be deleted"
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_CANT_BE_EDITED = "message can't be edited"
MESSAGE_TO_COPY_NOT_FOUND = "message to copy not found"
MESSAGE_CANT_BE_COPIED = "message can't be copied"
PROTECTED_CONTENT = "message has protected content and can't be forwarded"
MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
NO_TEXT_TO_EDIT = "there is no text in the message to edit"
NO_CAPTION_TO_EDIT = "there is no caption in the message to edit"
WRONG_FILE_ID = "wrong file identifier/HTTP URL specified"
IMAGE_PROCESS_FAILED = "IMAGE_PROCESS_FAILED"
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
NO_MESSAGES_TO_SEND = "there are no messages to send"
TOO_MANY_ALBUM_ITEMS = "too many messages to send as an album"
DOCUMENT_MIXED = "document can't be mixed with other media types"
GROUP_UPGRADED = "group chat was upgraded to a supergroup chat"
ONLY_SUPERGROUPS_AND_CHANNELS = "method is available for supergroup and channel chats only"
PRIVATE_CHAT_STATUS = "chat member status can't be changed in private chats"
NO_ADMINS_IN_PRIVATE = "there are no administrators in the private chat"
NOT_ENOUGH_RIGHTS_BAN = "not enough rights to restrict/ban chat member"
NOT_ENOUGH_RIGHTS_INVITE = "not enough rights to manage chat invite link"
NEED_CHANNEL_ADMIN = "need administrator rights in the channel chat"
CANT_REMOVE_OWNER = "can't remove chat owner"
USER_IS_ADMIN = "user is an administrator of the chat"
PARTICIPANT_ID_INVALID = "PARTICIPANT_ID_INVALID"
INVITE_LINK_LIMIT_WITH_REQUEST = "member limit can't be specified for links requiring administrator approval"
INVITE_LINK_NOT_FOUND = "INVITE_HASH_INVALID"
PAYMENT_PROVIDER_INVALID = "PAYMENT_PROVIDER_INVALID"
STARS_INVOICE_INVALID = "STARS_INVOICE_INVALID"
CURRENCY_TOTAL_AMOUNT_INVALID = "CURRENCY_TOTAL_AMOUNT_INVALID"
CHARGE_NOT_FOUND = "CHARGE_NOT_FOUND"
CHARGE_ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"
INVALID_WEBHOOK_URL = "invalid webhook URL specified"
SECRET_TOKEN_TOO_LONG = "secret token is too long"  # noqa: S105 - an error message
SECRET_TOKEN_CHARACTERS = "secret token contains unallowed characters"  # noqa: S105 - an error message
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
OTHER_GET_UPDATES = "terminated by other getUpdates request; make sure that only one bot instance is running"

BLOCKED = "bot was blocked by the user"
CANT_INITIATE = "bot can't initiate conversation with a user"
GROUP_DELETED = "the group chat was deleted"


def not_enough_rights_to_send(what: str) -> TelegramError:
    return bad_request(f"not enough rights to send {what} to the chat")


def kicked_from(chat_kind: str) -> TelegramError:
    """`chat_kind` is `group`, `supergroup` or `channel`."""
    return forbidden(f"bot was kicked from the {chat_kind} chat")


def not_a_member_of(chat_kind: str) -> TelegramError:
    return forbidden(f"bot is not a member of the {chat_kind} chat")
