"""`tgadmin dev` on a fresh folder: everything comes up on the embedded defaults, and Ctrl-C stops it all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
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


def test_a_returning_operator_is_told_where_the_login_link_appears(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _announce(load_settings(smtp_host=None, dashboard_port=3001), None, None)
    printed = capsys.readouterr().out
    assert "log in: ask at http://127.0.0.1:3001/login and the link appears here (SMTP unset)" in printed
    assert "tgadmin operators login-link --email E" in printed
