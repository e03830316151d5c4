"""Login links while SMTP is unset: the log is the mail, so that one line carries the link whole;
every other log line keeps its tokens masked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from tgadmin.config import load_settings
from tgadmin.logs import RedactingFilter
from tgadmin.mail import send_login_link

LINK = "http://dashboard.test/auth/magic?token=Zx9_secret-Token-Value"


@pytest.fixture
def process_log() -> Iterator[io.StringIO]:
    """What a process's terminal shows: the handler `setup_logging` installs, masking filter included."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    level = root.level
    # An in-process uvicorn earlier in the run may have configured its loggers not to propagate;
    # a process's terminal gets uvicorn's access lines, so the handler takes them directly here.
    access = logging.getLogger("uvicorn.access")
    saved = (access.propagate, access.disabled, access.level)
    access.propagate, access.disabled = False, False
    access.setLevel(logging.INFO)  # setLevel, not assignment: it also clears the enabled-level cache
    access.addHandler(handler)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        access.removeHandler(handler)
        access.propagate, access.disabled = saved[0], saved[1]
        access.setLevel(saved[2])


async def test_without_smtp_the_login_link_is_printed_whole(process_log: io.StringIO) -> None:
    await send_login_link(load_settings(smtp_host=None), "ops@example.com", LINK)
    printed = process_log.getvalue()
    assert f"login link for ops@example.com (SMTP_HOST unset, printed instead of e-mailed): {LINK}" in printed


def test_other_log_lines_keep_tokens_masked(process_log: io.StringIO) -> None:
    # uvicorn's access log line for the link being opened, and any other line naming a token.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/auth/magic?token=Zx9_secret-Token-Value",
        "1.1",
        200,
    )
    logging.getLogger("tgadmin.mail").warning("login link for %s: %s", "ops@example.com", LINK)
    printed = process_log.getvalue()
    assert "Zx9_secret-Token-Value" not in printed
    assert printed.count("token=***") == 2
