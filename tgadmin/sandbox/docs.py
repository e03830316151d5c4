"""The control API's description at `/sandbox/docs`, with Swagger UI served from node_modules (no CDN)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from tgadmin.errors import TgadminError
from tgadmin.webkit import swagger

ASSETS_URL = "/sandbox/docs/assets"
T = TypeVar("T")

router = APIRouter(include_in_schema=False)


@router.get("/sandbox/docs")
async def control_api_docs() -> HTMLResponse:
    _answer(swagger.require_installed)
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="tgadmin Telegram sandbox",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
    )


@router.get(ASSETS_URL + "/{name}")
async def control_api_docs_asset(name: str) -> FileResponse:
    return _answer(lambda: swagger.asset(name))


def _answer(make: Callable[[], T]) -> T:
    # The sandbox has no handler for the product's error tree: say it the way FastAPI does.
    try:
        return make()
    except TgadminError as error:
        raise HTTPException(error.status_code, error.message) from None
