"""The dashboard process's FastAPI app: pages, JSON API /api/v1, PSP webhooks /webhooks/pix/{provider}."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tgadmin import __version__
from tgadmin.config import Settings, get_settings
from tgadmin.group import api as group_api
from tgadmin.group import pages as group_pages
from tgadmin.operator import pages as operator_pages
from tgadmin.payment import api as payment_api
from tgadmin.payment import pages as payment_pages
from tgadmin.payment import webhooks as payment_webhooks
from tgadmin.purchase import api as purchase_api
from tgadmin.web import docs, jobs, language, overview
from tgadmin.web.errors import document_refusals, install_error_handlers
from tgadmin.webkit import assets
from tgadmin.webkit.deps import AppState


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

    # The OpenAPI document and Swagger UI are served by web/docs.py, behind login; no ReDoc.
    app = FastAPI(
        title="tgadmin",
        version=__version__,
        description="The dashboard's JSON API. Every refusal is `ErrorRead` JSON.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.tgadmin = state
    install_error_handlers(app)
    app.openapi = document_refusals(app)  # type: ignore[method-assign]

    app.include_router(operator_pages.router)
    app.include_router(language.router)
    app.include_router(assets.router)
    app.include_router(jobs.pages)
    app.include_router(jobs.api)
    app.include_router(overview.router)
    app.include_router(docs.router)
    app.include_router(payment_webhooks.router)
    app.include_router(payment_api.router)
    app.include_router(payment_pages.router)
    app.include_router(purchase_api.router)
    app.include_router(group_api.router)
    app.include_router(group_pages.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
