"""Telegram's answers, as the sandbox words them, land in the right class."""

from __future__ import annotations

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage

from tgadmin.telegram.errors import ErrorClass, Reason, classify

FORBIDDEN, GONE = TelegramForbiddenError, ErrorClass.DEACTIVATION

M = SendMessage(chat_id=1, text="x")


@pytest.mark.parametrize(
    ("error", "kind", "reason"),
    [
        (TelegramRetryAfter(M, "Too Many Requests: retry after 7", 7), ErrorClass.RETRY_AFTER, Reason.FLOOD),
        (TelegramServerError(M, "Internal Server Error"), ErrorClass.RECOVERABLE, Reason.SERVER),
        (TelegramNetworkError(M, "Request timeout error"), ErrorClass.RECOVERABLE, Reason.NETWORK),
        (TimeoutError(), ErrorClass.RECOVERABLE, Reason.NETWORK),
        (TelegramBadRequest(M, "Bad Request: chat not found"), ErrorClass.PERMANENT, Reason.CHAT_NOT_FOUND),
        (
            TelegramBadRequest(M, "Bad Request: not enough rights to send text messages to the chat"),
            ErrorClass.PERMANENT,
            Reason.NOT_ENOUGH_RIGHTS,
        ),
        (
            TelegramBadRequest(M, "Bad Request: need administrator rights in the channel chat"),
            ErrorClass.PERMANENT,
            Reason.NOT_ENOUGH_RIGHTS,
        ),
        (
            TelegramBadRequest(M, "Bad Request: message can't be deleted"),
            ErrorClass.PERMANENT,
            Reason.MESSAGE_CANT_BE_DELETED,
        ),
        (
            TelegramBadRequest(M, "Bad Request: message to delete not found"),
            ErrorClass.DONE,
            Reason.MESSAGE_TO_DELETE_NOT_FOUND,
        ),
        (
            TelegramForbiddenError(M, "Forbidden: bot was blocked by the user"),
            ErrorClass.DEACTIVATION,
            Reason.BOT_BLOCKED,
        ),
        (
            TelegramForbiddenError(M, "Forbidden: user is deactivated"),
            ErrorClass.DEACTIVATION,
            Reason.USER_DEACTIVATED,
        ),
        (
            TelegramForbiddenError(M, "Forbidden: bot was kicked from the supergroup chat"),
            ErrorClass.DEACTIVATION,
            Reason.BOT_KICKED,
        ),
        (
            TelegramForbiddenError(M, "Forbidden: the group chat was deleted"),
            ErrorClass.DEACTIVATION,
            Reason.GROUP_DELETED,
        ),
        (TelegramUnauthorizedError(M, "Unauthorized"), ErrorClass.PERMANENT, Reason.UNAUTHORIZED),
        (
            TelegramBadRequest(M, "Bad Request: message text is empty"),
            ErrorClass.PERMANENT,
            Reason.BAD_REQUEST,
        ),
    ],
)
def test_each_answer_has_its_class(error: BaseException, kind: ErrorClass, reason: Reason) -> None:
    classified = classify(error)
    assert (classified.kind, classified.reason) == (kind, reason)


def test_migration_and_retry_after_carry_their_parameters() -> None:
    migrated = classify(
        TelegramMigrateToChat(M, "Bad Request: group chat was upgraded to a supergroup chat", -1009)
    )
    assert migrated.kind is ErrorClass.MIGRATED and migrated.migrate_to_chat_id == -1009
    assert classify(TelegramRetryAfter(M, "Too Many Requests", 12)).retry_after == 12
    with pytest.raises(TypeError):
        classify(ValueError("not telegram"))
