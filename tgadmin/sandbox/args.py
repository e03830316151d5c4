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
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header
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


class _Multipart:
    """Multipart bodies parsed in memory: uploads are small here, and a torn body leaves nothing open."""

    def __init__(self, body: bytes, boundary: bytes) -> None:
        self.parts: list[tuple[dict[bytes, bytes], bytes]] = []
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._data = bytearray()
        self.complete = False
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_part_data": self._part_data,
                "on_part_end": self._end,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_end": self._finish,
            },
            max_size=MAX_UPLOAD_BYTES,
        )
        parser.write(body)
        parser.finalize()

    def _begin(self) -> None:
        self._headers, self._data = {}, bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]

    def _end(self) -> None:
        self.parts.append((self._headers, bytes(self._data)))

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _finish(self) -> None:
        self.complete = True


def _read_multipart(
    body: bytes, content_type: str, values: dict[str, str], uploads: dict[str, Upload]
) -> None:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise bad_request("can't parse request body")
    form = _Multipart(body, boundary)
    if not form.complete:
        raise bad_request("can't parse request body")
    for headers, data in form.parts:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            filename = disposition[b"filename"].decode("utf-8", "replace")
            content = headers.get(b"content-type")
            uploads[name] = Upload(filename, content.decode("latin-1") if content else None, data)
        else:
            values[name] = data.decode("utf-8", "replace")


async def read_args(request: Request) -> Args:
    values: dict[str, str] = dict(request.query_params)
    uploads: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            parsed = {}
        if isinstance(parsed, dict):
            for key, value in parsed.items():
                text = _as_text(value)
                if text is not None:
                    values[str(key)] = text
    elif content_type.startswith("multipart/form-data"):
        _read_multipart(body, content_type, values, uploads)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return Args(values, uploads)
