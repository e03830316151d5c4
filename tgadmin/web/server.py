"""Serve the dashboard app with uvicorn (the `tgadmin dashboard` process).

`--workers N` runs N processes on one listening socket (uvicorn's supervisor: it binds the socket,
restarts a worker that dies, and stops them all on SIGINT/SIGTERM). Each worker is a whole dashboard
of its own (engine, Redis client, settings read from the environment and the database at its
start): everything they share lives in PostgreSQL and Redis. Hence more than one worker needs both:
on SQLite the units of work of one process run in turn (webkit/deps.py) and two processes would lock
each other out, and without Redis the rate-limit windows would be counted per process."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.supervisors import Multiprocess

from tgadmin.config import Settings, get_settings
from tgadmin.errors import ConfigError
from tgadmin.heap import freeze_start_up_heap
from tgadmin.logs import setup_logging
from tgadmin.settings import effective
from tgadmin.web.app import create_app


def _config(app: object, settings: Settings, host: str, port: int, workers: int = 1) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]  # an ASGI app, or an import string for the supervisor
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_config=None,
    )


# The heap is frozen again after these many requests of the process (see FreezeWhenWarm).
WARM_AFTER = (100, 1_000, 10_000)


class FreezeWhenWarm:
    """Freezes the heap again once the process has answered its first requests, and again later.

    The first request of each page builds what then serves every later one (FastAPI's dependency
    plans, pydantic validators and serializers, compiled templates and statements): ~50,000 objects
    for the groups list and the queue monitor, made after the start-up freeze and living as long as
    the process. Left in the collector's generations, every full collection walked them: 10-12 ms
    of CPU each, in the loop, several times a minute under 50 operators (bench/dashboard.py)."""

    def __init__(self, app: ASGIApp, after: tuple[int, ...] = WARM_AFTER) -> None:
        self.app = app
        self.left = sorted(after)
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.left:
            self.served += 1
            if self.served == self.left[0]:
                self.left.pop(0)
                freeze_start_up_heap()
        await self.app(scope, receive, send)


def _served(app: FastAPI) -> FastAPI:
    """The app as a long-lived process serves it (never in tests: what is frozen outlives a test)."""
    app.add_middleware(FreezeWhenWarm)
    freeze_start_up_heap()
    return app


async def serve(settings: Settings, host: str, port: int) -> None:
    settings = await effective.at_start(settings)
    app = _served(create_app(settings))
    await uvicorn.Server(_config(app, settings, host, port)).serve()


def check_workers(settings: Settings, workers: int) -> None:
    if workers < 1:
        raise ConfigError("--workers must be 1 or more")
    if workers == 1:
        return
    if settings.database_url.startswith("sqlite"):
        raise ConfigError("--workers above 1 needs PostgreSQL: SQLite takes one writer at a time")
    if not settings.effective_redis_url:
        raise ConfigError("--workers above 1 needs REDIS_URL: rate limits must be shared by the workers")


def worker_app() -> FastAPI:
    """The app of one worker of `--workers N`: uvicorn's supervisor spawns each worker, which calls
    this (in its running loop, hence the settings saved on the dashboard are read on a thread)."""
    env = get_settings()
    setup_logging(env.log_level, process="dashboard", json_lines=env.log_format == "json")
    with ThreadPoolExecutor(1) as pool:
        settings = pool.submit(asyncio.run, effective.at_start(env)).result()
    return _served(create_app(settings))


def serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """`workers` processes serving one socket, supervised by uvicorn."""
    check_workers(settings, workers)
    config = _config("tgadmin.web.server:worker_app", settings, host, port, workers)
    config.factory = True
    Multiprocess(config, sockets=[config.bind_socket()]).run()
