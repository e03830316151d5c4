"""What Telegram's answer means for a job: every aiogram exception is classified once, here.

The Bot API gives few machine-readable error codes, so the description strings (worded by
Telegram's own Bot API server) decide. Unknown 400s are permanent (retrying the same request gets
the same answer); unknown 5xx and network failures are recoverable.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)


class ErrorClass(StrEnum):
    RETRY_AFTER = "retry_after"  # 429: pause, reschedule without spending an attempt
    RECOVERABLE = "recoverable"  # 5xx, network: retry with backoff
    PERMANENT = "permanent"  # no retry; recorded
    DONE = "done"  # the goal is already reached (message to delete not found)
    DEACTIVATION = "deactivation"  # the chat or user is gone for this bot
    MIGRATED = "migrated"  # the group became a supergroup: follow migrate_to_chat_id


class Reason(StrEnum):
    FLOOD = "flood"
    SERVER = "server"
    NETWORK = "network"
    CHAT_NOT_FOUND = "chat_not_found"
    NOT_ENOUGH_RIGHTS = "not_enough_rights"
    MESSAGE_CANT_BE_DELETED = "message_cant_be_deleted"
    MESSAGE_TO_DELETE_NOT_FOUND = "message_to_delete_not_found"
    BOT_BLOCKED = "bot_blocked"
    USER_DEACTIVATED = "user_deactivated"
    BOT_KICKED = "bot_kicked"
    GROUP_DELETED = "group_deleted"
    CANT_INITIATE = "cant_initiate"
    UNAUTHORIZED = "unauthorized"
    MIGRATED = "migrated"
    BAD_REQUEST = "bad_request"


# Checked in order; the first fragment found in the lower-cased description wins.
_DESCRIPTIONS: tuple[tuple[str, ErrorClass, Reason], ...] = (
    ("message to delete not found", ErrorClass.DONE, Reason.MESSAGE_TO_DELETE_NOT_FOUND),
    ("message can't be deleted", ErrorClass.PERMANENT, Reason.MESSAGE_CANT_BE_DELETED),
    ("bot was blocked by the user", ErrorClass.DEACTIVATION, Reason.BOT_BLOCKED),
    ("user is deactivated", ErrorClass.DEACTIVATION, Reason.USER_DEACTIVATED),
    ("bot was kicked from", ErrorClass.DEACTIVATION, Reason.BOT_KICKED),
    ("bot is not a member of", ErrorClass.DEACTIVATION, Reason.BOT_KICKED),
    ("group chat was deleted", ErrorClass.DEACTIVATION, Reason.GROUP_DELETED),
    ("supergroup chat was deleted", ErrorClass.DEACTIVATION, Reason.GROUP_DELETED),
    ("channel chat was deleted", ErrorClass.DEACTIVATION, Reason.GROUP_DELETED),
    ("group chat was upgraded to a supergroup", ErrorClass.MIGRATED, Reason.MIGRATED),
    ("not enough rights", ErrorClass.PERMANENT, Reason.NOT_ENOUGH_RIGHTS),
    ("need administrator rights", ErrorClass.PERMANENT, Reason.NOT_ENOUGH_RIGHTS),
    ("have no rights to send", ErrorClass.PERMANENT, Reason.NOT_ENOUGH_RIGHTS),
    ("chat_write_forbidden", ErrorClass.PERMANENT, Reason.NOT_ENOUGH_RIGHTS),
    ("chat not found", ErrorClass.PERMANENT, Reason.CHAT_NOT_FOUND),
    ("bot can't initiate conversation", ErrorClass.PERMANENT, Reason.CANT_INITIATE),
)


@dataclass(frozen=True)
class Classified:
    kind: ErrorClass
    reason: Reason
    description: str
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None

    @property
    def message(self) -> str:
        return f"{self.kind}/{self.reason}: {self.description}"


def classify(error: BaseException) -> Classified:
    """The class and reason of a failed Bot API call (aiogram exception, or a timeout/OS error)."""
    description = str(getattr(error, "message", None) or error) or type(error).__name__
    if isinstance(error, TelegramRetryAfter):
        return Classified(ErrorClass.RETRY_AFTER, Reason.FLOOD, description, retry_after=error.retry_after)
    if isinstance(error, TelegramMigrateToChat):
        return Classified(
            ErrorClass.MIGRATED, Reason.MIGRATED, description, migrate_to_chat_id=error.migrate_to_chat_id
        )
    if isinstance(error, TelegramServerError | ClientDecodeError):
        return Classified(ErrorClass.RECOVERABLE, Reason.SERVER, description)
    if isinstance(error, TelegramNetworkError | TimeoutError | OSError):
        return Classified(ErrorClass.RECOVERABLE, Reason.NETWORK, description)
    if isinstance(error, TelegramUnauthorizedError):
        return Classified(ErrorClass.PERMANENT, Reason.UNAUTHORIZED, description)
    lowered = description.lower()
    for fragment, kind, reason in _DESCRIPTIONS:
        if fragment in lowered:
            return Classified(kind, reason, description)
    if isinstance(
        error, TelegramBadRequest | TelegramForbiddenError | TelegramNotFound | TelegramConflictError
    ):
        return Classified(ErrorClass.PERMANENT, Reason.BAD_REQUEST, description)
    if isinstance(error, TelegramAPIError):
        return Classified(ErrorClass.RECOVERABLE, Reason.SERVER, description)
    raise TypeError(f"not a Telegram call failure: {type(error).__name__}")


class TelegramCallError(Exception):
    """A Bot API call that the gateway gave up on (after acting on it); handlers may catch it."""

    def __init__(self, classified: Classified, method: str) -> None:
        super().__init__(f"{method}: {classified.message}")
        self.classified = classified
        self.method = method

    @property
    def kind(self) -> ErrorClass:
        return self.classified.kind

    @property
    def reason(self) -> Reason:
        return self.classified.reason


class Reschedule(Exception):
    """Run this job again after `delay` seconds without spending one of its attempts (429, pauses,
    a slot too far ahead to wait for in-process)."""

    def __init__(self, delay: float, why: str) -> None:
        super().__init__(f"rescheduled in {delay:.1f}s: {why}")
        self.delay = delay
        self.why = why
