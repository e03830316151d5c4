"""Method parameters as the Bot API server reads them: every value is text.

A JSON body's strings stay strings, numbers and booleans become their text, objects and arrays
their JSON; form and multipart bodies and the query string give text already. Integers are read
the lenient way Telegram reads them (leading digits, else 0), so a wrong-typed value produces
Telegram's own answer (`chat not found`, `message identifier is not specified` ...), not a crash.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from tgadmin.sandbox.errors import bad_request, required

_LEADING_INT = re.compile(r"\s*(-?\d+)")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes


def to_integer(text: str) -> int:
    match = _LEADING_INT.match(text)
    return int(match.group(1)) if match else 0


def to_integer_safe(text: str) -> int | None:
    return int(text) if re.fullmatch(r"-?\d+", text.strip()) else None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class Args:
    def __init__(self, values: dict[str, str], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def required(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise required(name)
        return value

    def integer(self, name: str, default: int = 0) -> int:
        value = self.get(name)
        return to_integer(value) if value else default

    def clamped(self, name: str, default: int, low: int, high: int) -> int:
        return min(max(self.integer(name, default), low), high)

    def flag(self, name: str) -> bool:
        return self.get(name).strip().lower() in ("true", "yes", "1")

    def json(self, name: str, error: str) -> Any:
        """The parameter's JSON value; None when absent; `Bad Request: <error>` when unreadable."""
        value = self.get(name)
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None


async def read_args(request: Request) -> Args:
    values: dict[str, str] = dict(request.query_params)
    uploads: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        if isinstance(body, dict):
            for key, value in body.items():
                text = _as_text(value)
                if text is not None:
                    values[str(key)] = text
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form(max_part_size=MAX_UPLOAD_BYTES)
        for key, item in form.multi_items():
            if isinstance(item, UploadFile):
                uploads[key] = Upload(item.filename, item.content_type, await item.read())
            else:
                values[key] = item
        await form.close()
    return Args(values, uploads)
