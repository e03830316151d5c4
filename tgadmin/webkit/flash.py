"""One-time messages after a form post: the action redirects (303) with a short-lived cookie saying
what happened, or why not, in words; the next GET of that page shows it once and drops it.

The words are a `Flash`: an English msgid with `%(name)s` placeholders and its values, translated
when the page reads it (`read_flash`), so the message follows the language of the page that shows
it (the Portuguese is in the area's `.po` catalog, like a template's `_()`). A value may be a
`Flash` itself, for a phrase chosen elsewhere (`Flash("Transaction #%(id)s: %(what)s", id=7,
what=Flash("refunded: ..."))`). A plain `str` still works and is shown as it was written."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, TypeAlias

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from tgadmin.i18n import Language
from tgadmin.webkit.i18n import page_language, translate

FLASH_COOKIE = "tgadmin_flash"
# A phrase inside a phrase inside a message is as deep as our messages go; a cookie nesting deeper
# is not ours.
_MAX_DEPTH = 3
# Our msgids use named placeholders only (and "%%" for a percent sign).
_NAMED_ONLY = re.compile(r"(?:[^%]|%%|%\(\w+\)s)*", re.DOTALL)

Param: TypeAlias = "str | int | Flash"


class Flash:
    """A message in English (the msgid) with its values; `render` gives it in a language."""

    __slots__ = ("params", "text")

    def __init__(self, text: str, /, **params: Param) -> None:
        self.text = text
        self.params: dict[str, Param] = params

    def __repr__(self) -> str:
        return f"Flash({self.text!r}, **{self.params!r})"

    def render(self, lang: Language) -> str:
        """Always %-formatted, as a template's `_()` is: "%%" reads "%" with or without values."""
        values = {
            name: value.render(lang) if isinstance(value, Flash) else value
            for name, value in self.params.items()
        }
        return translate(self.text, lang) % values

    def dump(self) -> dict[str, Any]:
        params = {
            name: value.dump() if isinstance(value, Flash) else value for name, value in self.params.items()
        }
        return {"message": self.text, "params": params}


def _load(note: object, depth: int = 0) -> Flash | None:
    """A `Flash` back from its cookie form; None for anything else (values are str, int or a phrase)."""
    if depth >= _MAX_DEPTH or not isinstance(note, Mapping):
        return None
    text, params = note.get("message"), note.get("params")
    if not isinstance(text, str) or not isinstance(params, Mapping) or not _NAMED_ONLY.fullmatch(text):
        return None
    values: dict[str, Param] = {}
    for name, value in params.items():
        if isinstance(value, Mapping):
            inner = _load(value, depth + 1)
            if inner is None:
                return None
            values[str(name)] = inner
        elif isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            values[str(name)] = value
        else:
            return None
    return Flash(text, **values)


def redirect_with(
    url: str, message: Flash | str, *, ok: bool, wait: bool = False, path: str = "/"
) -> RedirectResponse:
    """Go to `url` (a path of ours) saying `message`; `wait` asks the page to refresh itself shortly
    (work is still under way)."""
    response = RedirectResponse(url, status_code=303)
    words = message.dump() if isinstance(message, Flash) else {"message": message}
    note = json.dumps({"ok": ok, "wait": wait, **words}).encode()
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
    """The message waiting for this page, if any, in the page's language (a malformed or forged
    cookie is ignored, not an error)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        note = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    if not isinstance(note, dict) or not isinstance(note.get("message"), str):
        return None
    if "params" not in note:
        return note
    words = _load(note)
    if words is None:
        return None
    try:
        text = words.render(page_language(request))
    except (KeyError, ValueError, TypeError):
        # A placeholder without its value, or a stray "%": not a message we wrote.
        return None
    return {"ok": note.get("ok") is True, "wait": note.get("wait") is True, "message": text}


def drop_flash(request: Request, response: Response, path: str = "/") -> None:
    """Shown once: the page that read the message deletes it."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=path)
