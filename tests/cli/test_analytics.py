"""`tgadmin analytics backfill` run as a user runs it: the real CLI in a subprocess, on a real
(SQLite) database; the aggregation itself is tested on both databases in tests/analytics."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.cli.test_operators import db_file_url, tgadmin  # noqa: F401 - the shared fixture
from tests.factories import make_buyer
from tgadmin.analytics import service
from tgadmin.clock import utcnow
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import AnalyticsHourly

pytestmark = pytest.mark.timeout(300)


async def test_backfill_recomputes_each_hour_of_the_range_and_says_how_many(
    db_file_url: str,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    hour = service.hour_start(utcnow()) - timedelta(days=3)
    engine = create_engine(db_file_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await make_buyer(session, first_seen_at=hour + timedelta(minutes=20))
        done = tgadmin(
            "analytics",
            "backfill",
            "--from",
            f"{hour:%Y-%m-%dT%H:%M}",
            "--to",
            (hour + timedelta(hours=2)).isoformat(),
            cwd=tmp_path,
            database_url=db_file_url,
        )
        assert done.returncode == 0, done.stderr
        assert "recomputed 2 hours" in done.stdout
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(AnalyticsHourly.hour, AnalyticsHourly.value).where(
                    AnalyticsHourly.metric == "new_buyers", AnalyticsHourly.dimension == ""
                )
            )
            assert sorted((h, v) for h, v in rows.all()) == [(hour, 1), (hour + service.HOUR, 0)]

        backwards = tgadmin(
            "analytics",
            "backfill",
            "--from",
            "2026-11-02T00:00Z",
            "--to",
            "2026-11-01",
            cwd=tmp_path,
            database_url=db_file_url,
        )
        assert backwards.returncode == 1 and "must come after" in backwards.stderr
        garbled = tgadmin(
            "analytics",
            "backfill",
            "--from",
            "yesterday",
            "--to",
            "2026-11-01",
            cwd=tmp_path,
            database_url=db_file_url,
        )
        assert (
            garbled.returncode == 1 and "--from: 'yesterday' is not an ISO 8601 timestamp" in garbled.stderr
        )
    finally:
        await engine.dispose()
