"""Serve the dashboard app with uvicorn (the `tgadmin dashboard` process)."""

from __future__ import annotations

import uvicorn

from tgadmin.config import Settings
from tgadmin.settings import effective
from tgadmin.web.app import create_app


async def serve(settings: Settings, host: str, port: int) -> None:
    settings = await effective.at_start(settings)
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_config=None,
    )
    await uvicorn.Server(config).serve()
