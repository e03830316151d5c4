"""Logs of every process: readable lines, or JSON lines with `LOG_FORMAT=json`; secrets masked.

What a line is about (the job, purchase, chat and bot) comes from a context variable set by the job
wrapper, the bot's middleware and the gateway (`log_context`), so every line logged while a job or an
update is handled carries it without being passed around.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

# Bot tokens (123456:ABC...), bearer tokens, passwords in URLs, magic-link and session tokens.
_PATTERNS = [
    (re.compile(r"\b(\d{5,12}):[A-Za-z0-9_-]{30,}\b"), r"\1:***"),
    (re.compile(r"(/bot)\d{5,12}:[A-Za-z0-9_-]+"), r"\1***"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),
    (re.compile(r"(?i)((?:token|secret|password|signature)=)[^&\s]+"), r"\1***"),
    # The PIX webhook secret is a path segment: /webhooks/pix/{provider}/{secret}[/pix].
    (re.compile(r"(/webhooks/pix/[^/\s?]+/)(?!pix(?:[/?\s\"']|$))[^/\s?\"']+"), r"\1***"),
]


# A record with this attribute set is a message *delivered* through the log: the login link of
# `mail.send_login_link` while SMTP is unset. The log is then its only channel, so it reaches the
# reader whole; every other line (uvicorn's access log of `/auth/magic?token=...` included) is masked.
DELIVERED_VIA_LOG = "tgadmin_delivered_via_log"


def delivered_via_log() -> dict[str, bool]:
    """`extra=` for the one log call that is a delivery channel, not a diagnostic."""
    return {DELIVERED_VIA_LOG: True}


# The names of a line's context, in the order the readable format shows them.
CONTEXT_KEYS = ("job_id", "job", "purchase_id", "chat_id", "bot_id")
_context: ContextVar[dict[str, object]] = ContextVar("tgadmin_log_context", default={})  # noqa: B039 - never mutated, only replaced


@contextmanager
def log_context(**values: object) -> Iterator[None]:
    """Lines logged inside the block (in this task and tasks it starts) carry `values`."""
    token = _context.set({**_context.get(), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, object]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Copies the context onto the record, where both formats find it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, DELIVERED_VIA_LOG, False) is True:
            return True
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _delivered(record: logging.LogRecord) -> bool:
    return getattr(record, DELIVERED_VIA_LOG, False) is True


class ReadableFormatter(logging.Formatter):
    """`12:00:00 worker    INFO  name: message [job_id=7 chat_id=-100]`; a traceback is masked too."""

    def __init__(self, process: str) -> None:
        super().__init__(f"%(asctime)s {process:<9} %(levelname)-5s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_KEYS if hasattr(record, k))
        if context:
            head, newline, rest = text.partition("\n")
            text = f"{head} [{context}]{newline}{rest}"
        return text if _delivered(record) else redact(text)


class JsonLinesFormatter(JsonFormatter):
    """One JSON object a line: time, level, process, logger, message, the context, any traceback."""

    def __init__(self, process: str) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            static_fields={"process": process},
            # uvicorn's `color_message` repeats the message with terminal colours.
            reserved_attrs=[*RESERVED_ATTRS, DELIVERED_VIA_LOG, "color_message"],
            timestamp="time",
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        if not _delivered(record):
            # RedactingFilter masked the message; a traceback or an `extra=` value is masked here.
            for key, value in log_data.items():
                if isinstance(value, str):
                    log_data[key] = redact(value)


def setup_logging(level: str = "INFO", *, process: str = "tgadmin", json_lines: bool = False) -> None:
    """One handler on stderr for the whole process, in the format LOG_FORMAT names."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter(process) if json_lines else ReadableFormatter(process))
    handler.addFilter(RedactingFilter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiosqlite", "botocore", "aiobotocore", "urllib3", "httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
