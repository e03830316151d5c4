"""Readable logs for every process, with secrets masked before they reach a handler."""

from __future__ import annotations

import logging
import re
import sys

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


def setup_logging(level: str = "INFO", *, process: str = "tgadmin") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s {process:<9} %(levelname)-5s %(name)s: %(message)s", "%H:%M:%S")
    )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiosqlite", "botocore", "aiobotocore", "urllib3", "httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
