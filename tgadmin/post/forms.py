"""Reading the post pages' form and query fields: empty means "not given"; dates and times are the
operators' (Brasília), as the pages show them; anything else is refused in words."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlencode

from tgadmin.clock import zone
from tgadmin.errors import BadRequest
from tgadmin.webkit.params import INT64_MAX

# BullMQ job ids as actions.py makes them (and BullMQ's own numbers): nothing else goes in a page.
E = TypeVar("E", bound=StrEnum)
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_JOBS_SHOWN = 20


def moment(text: str, name: str, time_zone: str, *, end_of_day: bool = False) -> datetime | None:
    """'2026-11-30' (the whole day: its start, or with `end_of_day` its last moment) or
    '2026-11-30T14:05' (a minute), in the operator's time zone; '' -> None."""
    text = text.strip()
    if not text:
        return None
    try:
        if "T" in text:
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone(time_zone))
        day = datetime.fromisoformat(text).date()
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is not a date like 2026-11-30 or 2026-11-30T14:05") from None
    start = datetime.combine(day, time(), tzinfo=zone(time_zone))
    return start + timedelta(days=1, microseconds=-1) if end_of_day else start


def whole(text: str, name: str) -> int | None:
    """A whole number, or None when empty."""
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"-?\d{1,19}", text) or abs(int(text)) > INT64_MAX:
        raise BadRequest(f"{name}: {text!r} is not a whole number")
    return int(text)


def choice(kind: type[E], text: str, name: str) -> E | None:
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise BadRequest(f"{name}: {text!r} is not one of {allowed}") from None


def job_ids(values: list[str]) -> list[str]:
    """The jobs a page was asked to follow (from its own redirect); anything else is dropped."""
    return [value for value in values if JOB_ID.fullmatch(value)][:MAX_JOBS_SHOWN]


def with_query(path: str, params: Mapping[str, str], jobs: Sequence[str] = ()) -> str:
    pairs = [(key, value) for key, value in params.items() if value] + [("job", job) for job in jobs]
    return path + (f"?{urlencode(pairs)}" if pairs else "")
