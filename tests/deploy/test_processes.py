"""The three production processes as `deploy/` runs them - `tgadmin dashboard`, `tgadmin bot` (webhook)
and `tgadmin worker --metrics-port` - each a real subprocess on PostgreSQL, Redis and the Telegram
sandbox, with JSON logs: after real work each serves its Prometheus metrics (METRICS_TOKEN checked),
the dashboard shows the worker's heartbeat, and no secret reaches any process's log."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import make_operator
from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox, SandboxBot
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.group import service as group_service
from tgadmin.models.enums import BotMemberStatus, ChatType, OperatorRole
from tgadmin.operator import service as operators
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port
from tgadmin.telegram.bots import register_from_token

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "metrics-token-5e1f0c9a7b"
PIX_CLIENT_SECRET = "pix-client-secret-93ac0e"
PIX_WEBHOOK_SECRET = "pix-webhook-secret-b71d44"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Deployment:
    dashboard: str
    bot: str
    worker_metrics: str
    processes: list[Process]
    env: dict[str, str]

    def logs(self) -> dict[str, str]:
        return {process.name: process.text() for process in self.processes}


def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> Process:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "tgadmin", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Process(name, popen, log)


async def _answers(url: str, process: Process, within: float = 180.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(trust_env=False, timeout=2) as http:
        while time.monotonic() < deadline:
            assert process.popen.poll() is None, f"{process.name} exited:\n{process.text()}"
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{process.name} did not answer {url}:\n{process.text()}")


def _stop(processes: list[Process]) -> None:
    for process in processes:
        if process.popen.poll() is None:
            process.popen.terminate()
    for process in processes:
        try:
            process.popen.wait(30)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()


@asynccontextmanager
async def deployed(env: dict[str, str], logs: Path) -> AsyncIterator[Deployment]:
    dashboard, bot, worker = free_port(), free_port(), free_port()
    env = {**env, "PUBLIC_URL": f"http://127.0.0.1:{bot}"}  # where the sandbox delivers the bot's updates
    processes = [
        _start("dashboard", ["dashboard", "--port", str(dashboard)], env, logs),
        _start("bot", ["bot", "--port", str(bot)], env, logs),
        _start("worker", ["worker", "--metrics-port", str(worker), "--concurrency", "2"], env, logs),
    ]
    try:
        found = Deployment(
            f"http://127.0.0.1:{dashboard}",
            f"http://127.0.0.1:{bot}",
            f"http://127.0.0.1:{worker}",
            processes,
            env,
        )
        await _answers(found.dashboard + "/healthz", processes[0])
        await _answers(found.bot + "/healthz", processes[1])
        await _answers(found.worker_metrics + "/metrics", processes[2])
        yield found
    finally:
        _stop(processes)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format, None when absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        metric, _, label_text = series.partition("{")
        if metric == name and ",".join(sorted(label_text.rstrip("}").split(","))) == wanted:
            return float(value)
    return None


async def scrape(url: str, *, token: str | None = METRICS_TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        return await http.get(url + "/metrics", headers=headers)


async def until(check: object, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"not so within {within}s")


@pytest.fixture
def db_backend() -> str:
    # Three processes on one database: PostgreSQL, as in production (SQLite takes one writer).
    return "postgresql"


@pytest.fixture
def deploy_env(fresh_db_url: str, redis_prefix: str, sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": fresh_db_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": redis_prefix,
        "TELEGRAM_API_BASE_URL": sandbox.url,
        "MEDIA_DIR": str(tmp_path / "media"),
        "PIX_PROVIDER": "sandbox",
        "PIX_CLIENT_SECRET": PIX_CLIENT_SECRET,
        "PIX_WEBHOOK_SECRET": PIX_WEBHOOK_SECRET,
        "METRICS_TOKEN": METRICS_TOKEN,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
    }


async def _bot_and_group(env: dict[str, str], sandbox: Sandbox) -> tuple[SandboxBot, int, int]:
    """Our bot (registered as the Settings page would) and a group where it is admin."""
    settings = load_settings(database_url=env["DATABASE_URL"], telegram_api_base_url=sandbox.url)
    engine = create_engine(env["DATABASE_URL"])
    tg = await sandbox.create_bot("ops_bot")
    chat = await sandbox.create_chat("supergroup", "Ofertas")
    await sandbox.add_member(chat, bot_id=tg.id, status="administrator", rights={"can_delete_messages": True})
    try:
        async with session_scope(session_factory(engine)) as session:
            bot_id = (await register_from_token(session, tg.token, settings)).bot.id
            await group_service.upsert_membership(
                session,
                bot_id,
                group_service.ChatFacts(chat, ChatType.SUPERGROUP, "Ofertas"),
                BotMemberStatus.ADMINISTRATOR,
                {},
            )
    finally:
        await engine.dispose()
    return tg, bot_id, chat


async def _login_token(env: dict[str, str]) -> str:
    engine = create_engine(env["DATABASE_URL"])
    try:
        async with session_scope(session_factory(engine)) as session:
            operator = await make_operator(session, OperatorRole.VIEWER)
            return (await operators.issue_magic_link(session, operator)).token
    finally:
        await engine.dispose()


async def test_each_process_serves_metrics_of_its_work_and_logs_no_secret(
    deploy_env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    tg, bot_id, chat = await _bot_and_group(deploy_env, sandbox)
    env = {**deploy_env, "TELEGRAM_BOT_TOKEN": tg.token}
    login = await _login_token(env)
    settings = load_settings(
        database_url=env["DATABASE_URL"], redis_url=REDIS_URL, redis_prefix=env["REDIS_PREFIX"]
    )
    queues = Queues(settings)
    async with deployed(env, tmp_path) as deployment:
        # Worker: one job sent through the sandbox, one refused by it (a chat the bot is not in).
        sent = await queues.enqueue(JobName.SEND_MESSAGE, {"chatId": chat, "text": "oi", "botId": bot_id})
        lost = await sandbox.create_chat("supergroup", "Saiu")
        refused = await queues.enqueue(JobName.SEND_MESSAGE, {"chatId": lost, "text": "oi", "botId": bot_id})

        async def worker_counted() -> bool:
            text = (await scrape(deployment.worker_metrics)).text
            return sample(text, "tgadmin_jobs_processed_total", job="send-message") == 1.0 and bool(
                sample(text, "tgadmin_jobs_failed_total", job="send-message")
            )

        await until(worker_counted, 60)
        worker = (await scrape(deployment.worker_metrics)).text
        assert sample(worker, "tgadmin_telegram_calls_total", method="sendMessage", outcome="ok") == 1.0
        assert sample(worker, "tgadmin_telegram_calls_total", method="sendMessage", outcome="permanent")
        assert sample(worker, "tgadmin_job_seconds_count", job="send-message")
        assert sample(worker, "tgadmin_limiter_wait_seconds_count")
        assert sample(worker, "tgadmin_queue_jobs", queue="bot-tasks", state="waiting") is not None
        assert (await scrape(deployment.worker_metrics, token=None)).status_code == 403
        assert (await scrape(deployment.worker_metrics, token="wrong")).status_code == 403

        # Bot: a buyer's /start arrives by webhook and is handled.
        buyer = await sandbox.create_user("Ana")
        await sandbox.user_says(buyer, "/start", bot_id=tg.id)

        async def bot_counted() -> bool:
            return bool(
                sample((await scrape(deployment.bot)).text, "tgadmin_bot_updates_total", outcome="handled")
            )

        await until(bot_counted)
        assert (await scrape(deployment.bot, token=None)).status_code == 403

        # Dashboard: a login link spent (its token in the access log's URL), then the queue monitor,
        # which shows the worker process's heartbeat.
        async with httpx.AsyncClient(base_url=deployment.dashboard, trust_env=False, timeout=30) as http:
            spent = await http.get("/auth/magic", params={"token": login})
            assert spent.status_code in (200, 303), spent.text
            if spent.status_code == 200:  # a confirm page: the link is spent by its form
                csrf = spent.text.split('name="csrf" value="', 1)[-1].split('"', 1)[0]
                await http.post("/auth/magic", data={"token": login, "csrf": csrf})
            page = await http.get("/queues", headers={"Accept-Language": "en"})
            assert page.status_code == 200, page.text[:300]
            assert 'data-worker="' in page.text and f"{deployment.processes[2].popen.pid}" in page.text
        dashboard = await scrape(deployment.dashboard)
        assert dashboard.status_code == 200
        assert "# TYPE tgadmin_pix_charges_confirmed_total counter" in dashboard.text
        assert (await scrape(deployment.dashboard, token=None)).status_code == 403
        for url in (deployment.dashboard, deployment.bot):
            async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
                ready = await http.get(url + "/readyz")
            assert ready.status_code == 200 and ready.json()["ready"] is True, ready.text

    await queues.close()
    logs = deployment.logs()
    secrets = {
        "bot token": tg.token,
        "bot token's secret half": tg.token.split(":", 1)[1],
        "PSP client secret": PIX_CLIENT_SECRET,
        "PSP webhook secret": PIX_WEBHOOK_SECRET,
        "metrics token": METRICS_TOKEN,
        "login token": login,
        "session secret": env["SESSION_SECRET"],
    }
    leaks = [
        f"{what} in the {name} log" for name, text in logs.items() for what, s in secrets.items() if s in text
    ]
    assert leaks == []
    # One format: every line is a JSON object; a job's lines name the job and its chat.
    lines = [json.loads(line) for text in logs.values() for line in text.splitlines() if line.strip()]
    failed = [line for line in lines if line.get("job_id") == refused]
    assert failed and failed[0]["chat_id"] == lost and failed[0]["job"] == "send-message"
    assert sent != refused


def test_a_metrics_port_in_use_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tgadmin", "worker", "--metrics-port", str(port)],
            cwd=tmp_path,
            env={**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: --metrics-port {port}: already in use on 127.0.0.1; choose another"
