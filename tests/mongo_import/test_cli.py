"""`tgadmin import mongo DIR` run as an operator runs it: the real CLI in a subprocess, a database of
the test's own (PostgreSQL and SQLite)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from tgadmin.db import create_engine
from tgadmin.models import MongoId, Purchase

EXPORT = Path(__file__).parent / "fixtures" / "export"
ROOT = Path(__file__).resolve().parents[2]


def tgadmin(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "REDIS_"))}
    return subprocess.run(
        [sys.executable, "-m", "tgadmin", *args],
        cwd=ROOT,
        env={**env, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def purchases_and_mappings(db_url: str) -> tuple[int, int]:
    async def read() -> tuple[int, int]:
        engine = create_engine(db_url)
        try:
            async with engine.connect() as conn:
                purchases = (await conn.execute(select(func.count()).select_from(Purchase))).scalar_one()
                mapped = (await conn.execute(select(func.count()).select_from(MongoId))).scalar_one()
                return purchases, mapped
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_the_command_imports_reports_by_file_and_line_and_a_rerun_changes_nothing(fresh_db_url: str) -> None:
    dry = tgadmin(fresh_db_url, "import", "mongo", str(EXPORT), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "purchases (purchases.json): 3 imported, 0 updated, 0 unchanged, 4 skipped" in dry.stdout
    assert dry.stdout.rstrip().endswith("dry run: nothing was written")
    assert purchases_and_mappings(fresh_db_url) == (0, 0)

    first = tgadmin(fresh_db_url, "import", "mongo", str(EXPORT), "--batch", "2")
    assert first.returncode == 0, first.stderr
    assert (
        "purchases.json:3: broken line (not valid JSON: Expecting ',' delimiter at column 218)"
        in first.stdout
    )
    assert "purchases (purchases.json): 3 imported, 0 updated, 0 unchanged, 4 skipped" in first.stdout
    assert "total: 12 imported, 0 updated, 0 unchanged, 11 skipped" in first.stdout
    # The progress bars go to stderr, one per export file.
    assert "purchases (purchases.json)" in first.stderr
    # No bot in this database: the two groups wait for one (and say so); everything else is mapped.
    assert "groups.json:1: no bot in the database to own the group" in first.stdout
    counts = purchases_and_mappings(fresh_db_url)
    assert counts == (3, 12)

    second = tgadmin(fresh_db_url, "import", "mongo", str(EXPORT))
    assert second.returncode == 0, second.stderr
    assert "total: 0 imported, 0 updated, 12 unchanged, 11 skipped" in second.stdout
    assert purchases_and_mappings(fresh_db_url) == counts


def test_a_missing_directory_ends_with_one_line_naming_it(fresh_db_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = tgadmin(fresh_db_url, "import", "mongo", str(missing))

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"error: {missing}: not a directory"
