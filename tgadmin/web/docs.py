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

from tgadmin.operator.auth import ViewerDep
from tgadmin.webkit import swagger
from tgadmin.webkit.templating import templates

OPENAPI_URL = "/api/v1/openapi.json"
_OWN_SCRIPT = Path(__file__).parent / "static" / "api-docs.js"

router = APIRouter(include_in_schema=False)


@router.get(OPENAPI_URL)
async def openapi_document(request: Request, operator: ViewerDep) -> JSONResponse:
    document: dict[str, Any] = request.app.openapi()
    return JSONResponse(document)


@router.get("/api/docs")
async def api_docs(request: Request, operator: ViewerDep) -> HTMLResponse:
    swagger.require_installed()
    return templates.TemplateResponse(
        request,
        "api_docs.html",
        {"operator": operator, "csrf": request.state.csrf, "openapi_url": OPENAPI_URL},
    )


@router.get("/api/docs/assets/{name}")
async def api_docs_asset(name: str, operator: ViewerDep) -> FileResponse:
    if name == _OWN_SCRIPT.name:
        return FileResponse(_OWN_SCRIPT, media_type="text/javascript")
    return swagger.asset(name)
