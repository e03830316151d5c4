"""The buyer's language: English for any English Telegram language, Portuguese (pt-BR) otherwise;
dates read in Brasília time in Portuguese and in UTC in English, whatever the process's locale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tgadmin.i18n import format_date, language


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "en"), ("en-US", "en"), ("EN-gb", "en"), ("pt-BR", "pt"), ("es", "pt"), ("", "pt"), (None, "pt")],
)
def test_english_speakers_get_english_and_everyone_else_portuguese(code: str | None, expected: str) -> None:
    assert language(code) == expected


def test_a_date_reads_in_brasilia_time_in_portuguese_and_utc_in_english() -> None:
    # 01:30 UTC on 2 January is still 1 January, 22:30, in Brasília.
    moment = datetime(2026, 1, 2, 1, 30, tzinfo=UTC)
    assert format_date(moment, "pt") == "01/01/2026 às 22:30 (horário de Brasília)"
    assert format_date(moment, "en") == "January 2, 2026 at 01:30 UTC"


def test_a_moment_in_another_zone_is_converted_before_it_is_read() -> None:
    lisbon_summer = datetime(2026, 7, 15, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_date(lisbon_summer, "pt") == "15/07/2026 às 08:00 (horário de Brasília)"
    assert format_date(lisbon_summer, "en") == "July 15, 2026 at 11:00 UTC"
