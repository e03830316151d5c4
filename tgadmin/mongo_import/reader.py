"""`mongoexport` files, one document a line in MongoDB extended JSON, read as a stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from bson.errors import BSONError
from bson.json_util import JSONOptions, loads

# Dates come back timezone-aware UTC, like every timestamp of ours.
_OPTIONS = JSONOptions(tz_aware=True, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    """One line of an export: its document, or why it is not one."""

    number: int
    document: dict[str, Any] | None
    error: str | None
    # Bytes of the file read so far, for the progress bar.
    offset: int


def read_lines(path: Path) -> Iterator[Line]:
    """The file's non-blank lines, one at a time (memory stays flat whatever the file's size)."""
    offset = 0
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            offset += len(raw)
            text = raw.strip()
            if not text:
                continue
            document, error = _parse(text)
            yield Line(number, document, error, offset)


def file_size(path: Path) -> int:
    return path.stat().st_size


def _parse(text: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = loads(text.decode("utf-8"), json_options=_OPTIONS)
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as error:
        return None, f"not valid JSON: {error.msg} at column {error.colno}"
    except (ValueError, TypeError, KeyError, OverflowError, BSONError) as error:
        return None, f"not valid extended JSON: {_first_line(error)}"
    if isinstance(value, list):
        return None, "a JSON array, not one document (export without --jsonArray)"
    if not isinstance(value, dict):
        return None, f"not a document but {type(value).__name__}"
    return value, None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
