"""Front-end libraries the dashboard serves itself, from npm packages pinned in package-lock.json and
installed into ./node_modules by `make install` (npm ci): no page loads anything from a CDN.

Only the files named here are served, under `/assets/vendor/{name}`; pages refer to them by name
(`vendor_url("htmx.js")`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from tgadmin.errors import NotFound, ServiceUnavailable

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
PREFIX = "/assets/vendor"

# public name -> (file under node_modules, media type)
VENDOR: dict[str, tuple[str, str]] = {
    "htmx.js": ("htmx.org/dist/htmx.min.js", "text/javascript"),
    "cropper.js": ("cropperjs/dist/cropper.min.js", "text/javascript"),
    "cropper.css": ("cropperjs/dist/cropper.min.css", "text/css"),
    "chart.js": ("chart.js/dist/chart.umd.min.js", "text/javascript"),
}

router = APIRouter(include_in_schema=False)


def vendor_url(name: str) -> str:
    if name not in VENDOR:
        raise KeyError(f"{name!r} is not a vendored asset (webkit/assets.py VENDOR)")
    return f"{PREFIX}/{name}"


def vendor_file(name: str) -> Path:
    """Where `name` lives once installed; refused when unknown or not installed."""
    if name not in VENDOR:
        raise NotFound(f"no asset {name!r}")
    path = NODE_MODULES / VENDOR[name][0]
    if not path.is_file():
        raise ServiceUnavailable(f"{VENDOR[name][0]} is not installed in {NODE_MODULES}: run `make install`")
    return path


@router.get(PREFIX + "/{name}")
async def vendor_asset(name: str) -> FileResponse:
    # Public like any site's scripts: they are the npm packages' own files, nothing of ours.
    return FileResponse(
        vendor_file(name),
        media_type=VENDOR[name][1],
        headers={"Cache-Control": "public, max-age=86400"},
    )
