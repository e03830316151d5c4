"""`tgadmin operators ...` run as a user runs them: the real CLI in a subprocess, on a real database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.errors import Unauthorized
from tgadmin.operator import repository, service

# Each command is a process start (about 2 s, far more on a loaded machine).
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def db_file_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database of the test's own: what the CLI does is the same on PostgreSQL
    (the service tests run there), and each command here is a process start."""
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def tgadmin(*args: str, cwd: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "REDIS_"))}
    env.update(DATABASE_URL=database_url, PUBLIC_URL="http://dashboard.test")
    return subprocess.run(
        [sys.executable, "-m", "tgadmin", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _token(output: str) -> str:
    match = re.search(r"http://dashboard\.test/auth/magic\?token=(\S+)", output)
    assert match, output
    return match.group(1)


async def _log_in(database_url: str, token: str) -> str:
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            return (await service.consume_magic_link(session, token)).operator.email
    finally:
        await engine.dispose()


async def _deactivate(database_url: str, email: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            operator = await repository.by_email(session, email)
            assert operator is not None
            operator.is_active = False
    finally:
        await engine.dispose()


async def test_login_link_gives_an_existing_operator_a_fresh_link_that_ends_the_earlier_one(
    db_file_url: str, tmp_path: Path
) -> None:
    created = tgadmin(
        "operators",
        "create",
        "--email",
        "ops@example.com",
        "--role",
        "admin",
        cwd=tmp_path,
        database_url=db_file_url,
    )
    assert created.returncode == 0, created.stderr
    fresh = tgadmin(
        "operators", "login-link", "--email", "OPS@example.com", cwd=tmp_path, database_url=db_file_url
    )
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.startswith(
        "login link for ops@example.com (single use, 15 minutes): http://dashboard.test/"
    )
    with pytest.raises(Unauthorized):
        await _log_in(db_file_url, _token(created.stdout))
    assert await _log_in(db_file_url, _token(fresh.stdout)) == "ops@example.com"


async def test_login_link_for_an_unknown_or_deactivated_operator_fails_with_one_line(
    db_file_url: str, tmp_path: Path
) -> None:
    unknown = tgadmin(
        "operators", "login-link", "--email", "who@example.com", cwd=tmp_path, database_url=db_file_url
    )
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.startswith("error: no operator has the e-mail who@example.com")
    assert unknown.stderr.count("\n") == 1
    created = tgadmin(
        "operators", "create", "--email", "old@example.com", cwd=tmp_path, database_url=db_file_url
    )
    assert created.returncode == 0, created.stderr
    await _deactivate(db_file_url, "old@example.com")
    inactive = tgadmin(
        "operators", "login-link", "--email", "old@example.com", cwd=tmp_path, database_url=db_file_url
    )
    assert inactive.returncode == 1 and inactive.stdout == ""
    assert inactive.stderr == "error: operator old@example.com is deactivated\n"
