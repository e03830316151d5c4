"""The header's language switch: remembers the operator's choice in a cookie and goes back."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from tgadmin.errors import NotFound
from tgadmin.webkit.i18n import LANG_COOKIE

router = APIRouter(include_in_schema=False)


def _local(path: str) -> str:
    # Only a path of ours: "//elsewhere" or "https://..." would make this an open redirect.
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


@router.get("/language/{lang}")
async def switch_language(lang: str, next: str = "/") -> RedirectResponse:
    if lang not in ("pt", "en"):
        raise NotFound(f"no language {lang!r}: pt or en")
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response
