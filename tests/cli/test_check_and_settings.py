"""`tgadmin check` and start-up settings errors, run as a user runs them: the real CLI in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.servers import MotoServer, SmtpInbox
from tgadmin.redis import free_port

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def tgadmin(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "SMTP_", "PIX_", "TELEGRAM_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tgadmin", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback socket that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://localhost/x", "DATABASE_URL: must start with"),
        ("REDIS_URL", "http://localhost", "REDIS_URL: must look like"),
        ("DATA_ENCRYPTION_KEY", "short", "DATA_ENCRYPTION_KEY: must be url-safe base64"),
        ("PIX_EXPIRES_MINUTES", "soon", "PIX_EXPIRES_MINUTES:"),
        ("PIX_PROVIDER", "paypal", "PIX_PROVIDER:"),
        ("S3_BUCKET", "media", "S3_ACCESS_KEY: is required"),
    ],
)
def test_malformed_setting_stops_start_up_with_one_line_naming_it(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    result = tgadmin("check", cwd=tmp_path, env={name: value})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_env_local_overrides_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PIX_EXPIRES_MINUTES=12\n")
    (tmp_path / ".env.local").write_text("PIX_EXPIRES_MINUTES=nope\n")
    result = tgadmin("check", cwd=tmp_path)
    assert "PIX_EXPIRES_MINUTES" in result.stderr


def test_check_reports_every_real_connection_ok(
    tmp_path: Path,
    s3_server: MotoServer,
    smtp_server: SmtpInbox,
    redis_url: str,
    sandbox_server: SandboxServer,
) -> None:
    bucket = f"check-{uuid.uuid4().hex[:8]}"
    username = f"check_{uuid.uuid4().hex[:6]}_bot"
    bot = httpx.post(f"{sandbox_server.url}/sandbox/bots", json={"username": username}).json()
    env = {
        "TELEGRAM_API_BASE_URL": sandbox_server.url,
        "TELEGRAM_BOT_TOKEN": bot["token"],
        "DATABASE_URL": PG_URL,
        "REDIS_URL": redis_url,
        "S3_ENDPOINT": s3_server.url,
        "S3_BUCKET": bucket,
        "S3_ACCESS_KEY": "test",
        "S3_SECRET_KEY": "test",
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
    }
    assert tgadmin("storage", "create-bucket", cwd=tmp_path, env=env).stdout.strip().endswith("created")
    again = tgadmin("storage", "create-bucket", cwd=tmp_path, env=env)
    assert again.returncode == 0 and again.stdout.strip().endswith("already exists")
    result = tgadmin("check", cwd=tmp_path, env=env)
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("database", "redis", "storage", "smtp", "telegram", "pix"):
        assert " OK " in lines[name], lines[name]
    assert "PostgreSQL" in lines["database"] and bucket in lines["storage"]
    assert f"@{username}" in lines["telegram"] and "access token" in lines["pix"]
    assert bot["token"] not in result.stdout


def test_check_fails_fast_and_truthfully_on_dead_and_silent_hosts(tmp_path: Path, silent_port: int) -> None:
    closed = free_port()
    env = {
        "DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/test",
        "REDIS_URL": f"redis://127.0.0.1:{silent_port}/0",
        "S3_ENDPOINT": f"http://127.0.0.1:{closed}",
        "S3_BUCKET": "media",
        "S3_ACCESS_KEY": "k",
        "S3_SECRET_KEY": "s",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(silent_port),
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{silent_port}",
        "TELEGRAM_BOT_TOKEN": "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }
    started = time.monotonic()
    result = tgadmin("check", cwd=tmp_path, env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    for name in ("database", "redis", "storage", "smtp", "telegram", "pix"):
        assert " FAIL " in lines[name], lines[name]
    assert elapsed < 30  # each probe is capped at a few seconds; they run side by side


def test_operators_create_prints_a_single_use_login_link(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/ops.db"}
    assert tgadmin("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    result = tgadmin(
        "operators", "create", "--email", "Boss@Example.com", "--role", "admin", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "boss@example.com (admin) created" in result.stdout
    assert "/auth/magic?token=" in result.stdout
    duplicate = tgadmin("operators", "create", "--email", "boss@example.com", cwd=tmp_path, env=env)
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
