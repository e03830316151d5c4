"""The dashboard process's FastAPI app: pages, JSON API /api/v1, PSP webhooks /webhooks/pix/{provider}."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tgadmin import __version__
from tgadmin.config import Settings, get_settings
from tgadmin.errors import TgadminError
from tgadmin.web.deps import AppState

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    cfg = settings or get_settings()
    state = AppState(cfg)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(
        title="tgadmin",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/v1/openapi.json",
    )
    app.state.tgadmin = state

    @app.exception_handler(TgadminError)
    async def _tgadmin_error(request: Request, error: TgadminError) -> JSONResponse:
        if error.status_code >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, error.message)
        return JSONResponse(
            {
                "error": error.code,
                "message": error.message,
                **({"details": error.details} if error.details else {}),
            },
            status_code=error.status_code,
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
