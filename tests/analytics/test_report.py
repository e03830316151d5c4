"""The page's ranges and exports, without a database: buckets of a day, week and month end with the
last full hour; backfill ranges are refused when backwards, too long or not over; CSV cells that a
spreadsheet would run as formulas are defused and money reads in units of its currency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tgadmin.analytics import report, service
from tgadmin.analytics.report import Column, Kind, Span, Table
from tgadmin.clock import zone
from tgadmin.errors import BadRequest

NOW = datetime(2026, 11, 20, 14, 25, tzinfo=UTC)  # 11:25 in Brasília
BRASILIA, TOKYO = zone("America/Sao_Paulo"), zone("Asia/Tokyo")


def test_a_day_is_its_24_full_hours_and_a_week_is_seven_brasilia_days_today_included() -> None:
    day = report.window(Span.DAY, BRASILIA, NOW)
    assert len(day.buckets) == 24
    assert (
        day.end == datetime(2026, 11, 20, 14, tzinfo=UTC) and day.buckets[-1].start == day.end - service.HOUR
    )
    week = report.window(Span.WEEK, BRASILIA, NOW)
    assert [b.label for b in week.buckets] == [f"{d:02d}/11" for d in range(14, 21)]
    assert week.buckets[0].start.astimezone(BRASILIA).hour == 0 and week.buckets[-1].end == week.end
    assert len(report.window(Span.MONTH, BRASILIA, NOW).buckets) == 30


def test_an_operator_in_another_time_zone_sees_their_own_days_and_hours() -> None:
    # 14:25 UTC is 23:25 in Tokyo: the week ends on Tokyo's 20 November, its days start at Tokyo's midnight.
    week = report.window(Span.WEEK, TOKYO, NOW)
    assert [b.label for b in week.buckets] == [f"{d:02d}/11" for d in range(14, 21)]
    assert all(b.start.astimezone(TOKYO).hour == 0 for b in week.buckets)
    assert week.buckets[0].start == datetime(2026, 11, 13, 15, tzinfo=UTC)
    day = report.window(Span.DAY, TOKYO, NOW)
    assert day.buckets[-1].label == "20/11 22h" and day.end == datetime(2026, 11, 20, 14, tzinfo=UTC)


def test_a_backfill_range_is_every_hour_started_in_it_that_is_over() -> None:
    hours = service.backfill_hours(NOW - timedelta(hours=2, minutes=10), NOW + timedelta(days=1), NOW)
    assert hours == [datetime(2026, 11, 20, h, tzinfo=UTC) for h in (12, 13)]
    with pytest.raises(BadRequest, match="must come after"):
        service.backfill_hours(NOW, NOW - timedelta(hours=1), NOW)
    with pytest.raises(BadRequest, match="is over yet"):
        service.backfill_hours(NOW - timedelta(minutes=5), NOW, NOW)
    with pytest.raises(BadRequest, match="at most"):
        service.backfill_hours(NOW - timedelta(days=400), NOW, NOW)


def test_csv_money_reads_in_units_and_formula_like_text_is_defused() -> None:
    columns = [
        Column("source", "Source", Kind.TEXT),
        Column("revenue", "Revenue", Kind.BRL),
        Column("rate", "Rate", Kind.PERCENT),
    ]
    table = Table("t", "T", columns, [["=HYPERLINK(1)", 2990, 12.345], ["g7", 5, None]])
    assert table.csv().splitlines() == ["source,revenue_brl,rate", "'=HYPERLINK(1),29.90,12.3", "g7,0.05,"]
