"""The job kit every domain's `jobs.py` builds on: a job's data model and its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from tgadmin.queue.context import JobRun

P = TypeVar("P", bound=BaseModel)


class JobData(BaseModel):
    """Base of every job's data: the original system's camelCase names, unknown keys refused.
    Fields use Strict* types: a wrong type fails validation instead of being coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True)
class Handler(Generic[P]):
    model: type[P]
    run: Callable[[JobRun, P], Awaitable[dict[str, Any] | None]]
