"""`tgadmin dev` on a fresh folder: everything comes up on the embedded defaults, with the demo buyer
and group, and Ctrl-C stops it all."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import psutil
import pytest

from tgadmin.config import load_settings
from tgadmin.dev.main import _announce
from tgadmin.redis import free_port


@pytest.mark.timeout(240)
def test_dev_brings_up_the_platform_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    ports = {"DASHBOARD_PORT": free_port(), "BOT_PORT": free_port(), "SANDBOX_PORT": free_port()}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "TELEGRAM_", "S3_", "SMTP_"))
    }
    for secret in ("DATA_ENCRYPTION_KEY", "SESSION_SECRET", "MAGIC_LINK_SECRET"):
        env.pop(secret, None)  # a fresh machine has none: dev generates them
    env.update({k: str(v) for k, v in ports.items()})
    env["PUBLIC_URL"] = f"http://127.0.0.1:{ports['DASHBOARD_PORT']}"
    process = subprocess.Popen(
        [sys.executable, "-m", "tgadmin", "dev"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(output)
        assert "Ctrl-C stops everything" in text, text[-3000:]
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 5  # sandbox, dashboard, bot, worker, embedded redis
        dashboard = f"http://127.0.0.1:{ports['DASHBOARD_PORT']}"
        assert httpx.get(f"{dashboard}/healthz").status_code == 200
        bot_line = re.search(r"bot:\s+@(\w+)\s+token (\S+)", text)
        assert bot_line, text
        sandbox = f"http://127.0.0.1:{ports['SANDBOX_PORT']}"
        me = httpx.get(f"{sandbox}/bot{bot_line.group(2)}/getMe").json()
        assert me["ok"] and me["result"]["username"] == bot_line.group(1)
        # The sandbox PSP accepted our webhook (registration raises otherwise): payments confirm at once.
        assert f"sandbox PSP notifies {dashboard}/webhooks/pix/sandbox" in text, text
        link = re.search(r"login link \(single use, 15 min\): (\S+)", text)
        assert link and httpx.get(link.group(1)).status_code == 200
        assert (tmp_path / "var" / "tgadmin.db").exists() and (tmp_path / "var" / "secrets.env").exists()
        demo = re.search(r"demo:\s+buyer Ana \(user (\d+), pt-br\).*\(chat (-\d+)\)", text)
        assert demo, text
        assert demo_group_row(tmp_path / "var" / "tgadmin.db", int(demo.group(2))) == (
            "Grupo Demo",
            "administrator",
            1,
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode in (0, 130)
    time.sleep(0.5)
    assert [
        child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE
    ] == []


def demo_group_row(database: Path, chat_id: int, within: float = 20.0) -> tuple[str, str, int] | None:
    """The demo group as the bot service records it from its my_chat_member update (soon after start)."""
    deadline = time.monotonic() + within
    while True:
        with closing(sqlite3.connect(database)) as db:
            row = db.execute(
                "SELECT title, bot_status, is_active FROM groups WHERE telegram_id = ?", (chat_id,)
            ).fetchone()
        if (row is not None and row[1] == "administrator") or time.monotonic() > deadline:
            return None if row is None else (str(row[0]), str(row[1]), int(row[2]))
        time.sleep(0.2)


def test_a_returning_operator_is_told_where_the_login_link_appears(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _announce(load_settings(smtp_host=None, dashboard_port=3001), None, None)
    printed = capsys.readouterr().out
    assert "log in: ask at http://127.0.0.1:3001/login and the link appears here (SMTP unset)" in printed
    assert "tgadmin operators login-link --email E" in printed
