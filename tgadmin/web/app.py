"""The dashboard process's FastAPI app: pages, JSON API /api/v1, PSP webhooks /webhooks/pix/{provider}."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tgadmin import __version__
from tgadmin.config import Settings, get_settings
from tgadmin.errors import InvalidInput, TgadminError, Unauthorized
from tgadmin.operator import pages as operator_pages
from tgadmin.payment import api as payment_api
from tgadmin.payment import pages as payment_pages
from tgadmin.payment import webhooks as payment_webhooks
from tgadmin.purchase import api as purchase_api
from tgadmin.web import overview
from tgadmin.web.deps import AppState
from tgadmin.web.templating import templates

log = logging.getLogger(__name__)

_TITLES = {
    400: "That did not work",
    422: "That did not work",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
}
_MACHINE_PREFIXES = ("/api/", "/webhooks/", "/healthz")


def _is_page(request: Request) -> bool:
    """Dashboard pages get HTML errors (and a redirect to log in); the API and webhooks get JSON."""
    return not request.url.path.startswith(_MACHINE_PREFIXES)


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
    async def _tgadmin_error(request: Request, error: TgadminError) -> Response:
        if error.status_code >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, error.message)
        if _is_page(request):
            if isinstance(error, Unauthorized):
                return RedirectResponse("/login", status_code=303)
            return templates.TemplateResponse(
                request,
                "error.html",
                {
                    "operator": None,
                    "status": error.status_code,
                    "title": _TITLES.get(error.status_code, "Error"),
                    "message": error.message,
                },
                status_code=error.status_code,
            )
        return JSONResponse(
            {
                "error": error.code,
                "message": error.message,
                **({"details": error.details} if error.details else {}),
            },
            status_code=error.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_input(request: Request, error: RequestValidationError) -> Response:
        # The same {error, message, details} shape (or error page) as every other refusal.
        problems = [
            {"where": ".".join(str(part) for part in item["loc"]), "problem": item["msg"]}
            for item in error.errors()[:10]
        ]
        summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems[:3])
        return await _tgadmin_error(
            request, InvalidInput(f"invalid request: {summary}", details={"problems": problems})
        )

    app.include_router(operator_pages.router)
    app.include_router(overview.router)
    app.include_router(payment_webhooks.router)
    app.include_router(payment_api.router)
    app.include_router(payment_pages.router)
    app.include_router(purchase_api.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
