"""Swagger UI's files, from the npm package `swagger-ui-dist` (package-lock.json, installed into
./node_modules by `make install`): every API page serves them itself, nothing comes from a CDN."""

from __future__ import annotations

from fastapi.responses import FileResponse

from tgadmin.errors import NotFound, ServiceUnavailable
from tgadmin.webkit.assets import NODE_MODULES

SWAGGER_UI_DIR = NODE_MODULES / "swagger-ui-dist"
# The only files a page needs: the bundle, its styles and its icon.
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def require_installed() -> None:
    if not (SWAGGER_UI_DIR / "swagger-ui-bundle.js").is_file():
        raise ServiceUnavailable(f"Swagger UI is not installed in {SWAGGER_UI_DIR}: run `make install`")


def asset(name: str) -> FileResponse:
    """One of Swagger UI's files; any other name is refused."""
    if name not in ASSETS:
        raise NotFound(f"no file {name!r} in the API docs")
    require_installed()
    return FileResponse(SWAGGER_UI_DIR / name, media_type=ASSETS[name])
