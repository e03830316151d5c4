"""The API's description for logged-in operators: `/api/v1/openapi.json` and Swagger UI at `/api/docs`.

Swagger UI's files come from the npm package `swagger-ui-dist`, pinned in package-lock.json and
installed into ./node_modules by `make install` (npm ci), and are served from here: the page loads
nothing from the internet. Any role may read them; anonymous callers are sent to log in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from tgadmin.errors import NotFound, ServiceUnavailable
from tgadmin.operator.auth import ViewerDep
from tgadmin.webkit.templating import templates

OPENAPI_URL = "/api/v1/openapi.json"
SWAGGER_UI_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
_OWN_DIR = Path(__file__).parent / "static"
# The only files the page needs: Swagger UI's bundle, its styles and icon, and our start-up script.
_ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (SWAGGER_UI_DIR, "text/javascript"),
    "swagger-ui.css": (SWAGGER_UI_DIR, "text/css"),
    "favicon-32x32.png": (SWAGGER_UI_DIR, "image/png"),
    "api-docs.js": (_OWN_DIR, "text/javascript"),
}

router = APIRouter(include_in_schema=False)


def _installed() -> None:
    if not (SWAGGER_UI_DIR / "swagger-ui-bundle.js").is_file():
        raise ServiceUnavailable(f"Swagger UI is not installed in {SWAGGER_UI_DIR}: run `make install`")


@router.get(OPENAPI_URL)
async def openapi_document(request: Request, operator: ViewerDep) -> JSONResponse:
    document: dict[str, Any] = request.app.openapi()
    return JSONResponse(document)


@router.get("/api/docs")
async def api_docs(request: Request, operator: ViewerDep) -> HTMLResponse:
    _installed()
    return templates.TemplateResponse(
        request,
        "api_docs.html",
        {"operator": operator, "csrf": request.state.csrf, "openapi_url": OPENAPI_URL},
    )


@router.get("/api/docs/assets/{name}")
async def api_docs_asset(name: str, operator: ViewerDep) -> FileResponse:
    if name not in _ASSETS:
        raise NotFound(f"no file {name!r} in the API docs")
    folder, media_type = _ASSETS[name]
    if folder == SWAGGER_UI_DIR:
        _installed()
    return FileResponse(folder / name, media_type=media_type)
