"""/readyz and /metrics of the dashboard and the bot app, in process: readiness names the dependency
that does not answer (Redis on a closed port here); metrics go to the token's bearer or loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.redis import REDIS_URL
from tgadmin.bot.server import BotService
from tgadmin.bot.server import create_app as create_bot_app
from tgadmin.config import Settings, load_settings
from tgadmin.metrics import scrape_allowed
from tgadmin.redis import free_port
from tgadmin.web.app import create_app as create_dashboard_app


def settings_with(db_url: str, tmp_path: Path, redis_url: str, **more: str) -> Settings:
    return load_settings(database_url=db_url, redis_url=redis_url, media_dir=tmp_path / "media", **more)


@asynccontextmanager
async def dashboard(settings: Settings, client: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    app = create_dashboard_app(settings)
    async with app.router.lifespan_context(app), _client(app, client) as http:
        yield http


@asynccontextmanager
async def bot(settings: Settings, client: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    # The routes alone: the app's lifespan would register webhooks with Telegram.
    service = BotService(settings)
    try:
        async with _client(create_bot_app(service), client) as http:
            yield http
    finally:
        await service.close()


def _client(app: FastAPI, client: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://app.test")


APPS = {"dashboard": dashboard, "bot": bot}


@pytest.mark.parametrize("which", APPS)
async def test_readyz_is_ready_when_database_redis_and_storage_answer(
    which: str, fresh_db_url: str, tmp_path: Path
) -> None:
    async with APPS[which](settings_with(fresh_db_url, tmp_path, REDIS_URL)) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert {name: check["ok"] for name, check in answer.json()["checks"].items()} == {
        "database": True,
        "redis": True,
        "storage": True,
    }


@pytest.mark.parametrize("which", APPS)
async def test_readyz_answers_503_naming_redis_when_its_port_is_closed(
    which: str, fresh_db_url: str, tmp_path: Path
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    async with APPS[which](settings_with(fresh_db_url, tmp_path, closed)) as http:
        answer = await http.get("/readyz")
        alive = await http.get("/healthz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["redis"]["ok"] is False and checks["redis"]["detail"]
    assert checks["database"]["ok"] is True and checks["storage"]["ok"] is True
    assert alive.status_code == 200  # alive, only not ready


@pytest.mark.parametrize("which", APPS)
async def test_metrics_go_to_loopback_without_a_token_and_to_its_bearer_with_one(
    which: str, fresh_db_url: str, tmp_path: Path
) -> None:
    open_settings = settings_with(fresh_db_url, tmp_path, REDIS_URL)
    async with APPS[which](open_settings) as http:
        local = await http.get("/metrics")
    async with APPS[which](open_settings, client="203.0.113.7") as http:
        remote = await http.get("/metrics")
    assert local.status_code == 200 and "# TYPE tgadmin_jobs_processed_total counter" in local.text
    assert local.headers["content-type"].startswith("text/plain")
    assert remote.status_code == 403
    guarded = settings_with(fresh_db_url, tmp_path, REDIS_URL, metrics_token="s3cret-token")
    async with APPS[which](guarded, client="203.0.113.7") as http:
        with_token = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
    async with APPS[which](guarded) as http:
        local_without = await http.get("/metrics")
    assert with_token.status_code == 200 and wrong.status_code == 403 and local_without.status_code == 403


def test_scrape_rule_reads_addresses_it_cannot_parse_as_not_loopback() -> None:
    settings = load_settings()
    assert scrape_allowed(settings, "::1", None) and scrape_allowed(settings, "127.0.0.5", None)
    assert not scrape_allowed(settings, "testclient", None)
    assert not scrape_allowed(settings, None, None)
