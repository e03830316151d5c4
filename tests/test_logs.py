"""One log format per process (readable, or JSON lines with LOG_FORMAT=json): the job, purchase,
chat and bot a line is about come from the context; secrets are masked in the message, in a
traceback and in `extra=` values; a login link delivered through the log stays whole."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tgadmin.logs import delivered_via_log, log_context, setup_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """What the handler `setup_logging` installs writes to stderr; the root logger is put back after."""
    root = logging.getLogger()
    before = (root.handlers[:], root.level)
    yield capsys
    root.handlers[:], root.level = before


def test_json_lines_carry_the_context_and_mask_secrets_everywhere(
    captured: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO", process="worker", json_lines=True)
    log = logging.getLogger("tgadmin.test")
    with log_context(job_id="42", purchase_id=7), log_context(chat_id=-100123, bot_id=1):
        log.info("calling https://api.telegram.org/bot%s/sendMessage", TOKEN)
        try:
            raise RuntimeError(f"refused: {TOKEN}")
        except RuntimeError:
            log.exception("failed", extra={"url": "https://x.test/?secret=hunter2"})
    log.info("outside any job")
    log.info("link: https://dash.test/auth/magic?token=abc123", extra=delivered_via_log())
    text = captured.readouterr().err
    lines = [json.loads(line) for line in text.splitlines()]
    assert TOKEN not in text and "hunter2" not in text
    first, failure, outside, link = lines
    assert first["process"] == "worker" and first["level"] == "INFO" and first["logger"] == "tgadmin.test"
    assert (first["job_id"], first["purchase_id"], first["chat_id"], first["bot_id"]) == ("42", 7, -100123, 1)
    assert "bot***/sendMessage" in first["message"]
    assert "RuntimeError" in failure["exc_info"] and failure["url"].endswith("secret=***")
    assert "job_id" not in outside
    assert link["message"].endswith("token=abc123")


def test_readable_lines_end_with_the_context(captured: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", process="bot")
    with log_context(chat_id=55, bot_id=2):
        logging.getLogger("tgadmin.test").warning("token=zzz refused")
    line = captured.readouterr().err.strip()
    assert " bot       WARNING tgadmin.test: token=*** refused [chat_id=55 bot_id=2]" in line
