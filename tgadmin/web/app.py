"""The dashboard process's FastAPI app: pages, JSON API /api/v1, PSP webhooks /webhooks/pix/{provider}."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from tgadmin import __version__
from tgadmin.analytics import api as analytics_api
from tgadmin.analytics import pages as analytics_pages
from tgadmin.campaign import api as campaign_api
from tgadmin.campaign import pages as campaign_pages
from tgadmin.config import Settings, get_settings
from tgadmin.connections import readiness
from tgadmin.creator import api as creator_api
from tgadmin.creator import pages as creator_pages
from tgadmin.group import api as group_api
from tgadmin.group import pages as group_pages
from tgadmin.operator import admin_pages as operator_admin_pages
from tgadmin.operator import api as operator_api
from tgadmin.operator import pages as operator_pages
from tgadmin.payment import api as payment_api
from tgadmin.payment import pages as payment_pages
from tgadmin.payment import webhooks as payment_webhooks
from tgadmin.post import api as post_api
from tgadmin.post import clear_pages as post_clear_pages
from tgadmin.post import pages as post_pages
from tgadmin.product import api as product_api
from tgadmin.product import pages as product_pages
from tgadmin.purchase import api as purchase_api
from tgadmin.settings import api as settings_api
from tgadmin.settings import pages as settings_pages
from tgadmin.subscription import api as subscription_api
from tgadmin.subscription import pages as subscription_pages
from tgadmin.web import audit, docs, jobs, language, overview, queues, queues_api
from tgadmin.web.errors import document_refusals, install_error_handlers
from tgadmin.web.nul import RefuseNul
from tgadmin.webkit import assets
from tgadmin.webkit.deps import AppState
from tgadmin.webkit.probes import metrics_response, readiness_response


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
    app.add_middleware(RefuseNul)
    app.openapi = document_refusals(app)  # type: ignore[method-assign]

    app.include_router(operator_pages.router)
    app.include_router(language.router)
    app.include_router(assets.router)
    app.include_router(jobs.pages)
    app.include_router(jobs.api)
    # Our own page scripts (not secrets: any browser may load them, as on any site).
    app.mount("/assets/app", StaticFiles(directory=Path(__file__).parent / "static"), name="app-assets")
    app.include_router(overview.router)
    app.include_router(docs.router)
    app.include_router(payment_webhooks.router)
    app.include_router(payment_api.router)
    app.include_router(payment_pages.router)
    app.include_router(purchase_api.router)
    app.include_router(queues.router)
    app.include_router(queues_api.router)
    app.include_router(audit.pages)
    app.include_router(audit.api)
    app.include_router(subscription_pages.router)
    app.include_router(subscription_api.router)
    app.include_router(creator_api.router)
    app.include_router(creator_pages.router)
    app.include_router(campaign_api.router)
    app.include_router(campaign_pages.router)
    app.include_router(post_api.router)
    app.include_router(post_pages.router)
    app.include_router(post_clear_pages.router)
    app.include_router(product_api.router)
    app.include_router(product_pages.router)
    app.include_router(operator_api.router)
    app.include_router(operator_admin_pages.router)
    app.include_router(settings_api.router)
    app.include_router(settings_pages.router)
    app.include_router(group_api.router)
    app.include_router(group_pages.router)
    app.include_router(analytics_api.router)
    app.include_router(analytics_pages.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        return readiness_response(await readiness(state.settings, state.engine, state.redis))

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return metrics_response(state.settings, request)

    return app
