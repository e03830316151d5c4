"""One-time messages after a form post: the action redirects (303) with a short-lived cookie saying
what happened, or why not, in words; the next GET of that page shows it once and drops it."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

FLASH_COOKIE = "tgadmin_flash"


def redirect_with(
    url: str, message: str, *, ok: bool, wait: bool = False, path: str = "/"
) -> RedirectResponse:
    """Go to `url` (a path of ours) saying `message`; `wait` asks the page to refresh itself shortly
    (work is still under way)."""
    response = RedirectResponse(url, status_code=303)
    note = json.dumps({"ok": ok, "message": message, "wait": wait}).encode()
    response.set_cookie(
        FLASH_COOKIE,
        base64.urlsafe_b64encode(note).decode("ascii"),
        max_age=60,
        path=path,
        httponly=True,
        samesite="lax",
    )
    return response


def read_flash(request: Request) -> dict[str, Any] | None:
    """The message waiting for this page, if any (a malformed cookie is ignored, not an error)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        note = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    if not isinstance(note, dict) or not isinstance(note.get("message"), str):
        return None
    return note


def drop_flash(request: Request, response: Response, path: str = "/") -> None:
    """Shown once: the page that read the message deletes it."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=path)
