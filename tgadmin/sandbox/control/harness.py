"""The test harness's switches: the Bot API call log, the clock, rate limits, forced 429s, reset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tgadmin.sandbox.control.lookup import ControlError, services_of
from tgadmin.sandbox.methods.common import METHODS
from tgadmin.sandbox.state.world import ForcedFlood, World

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


@router.get("/calls")
def calls(
    request: Request, since: int = 0, method: str | None = None, bot_id: int | None = None
) -> list[dict[str, Any]]:
    """Every Bot API call after sequence number `since`, oldest first."""
    world = services_of(request).world
    with world.lock:
        return [
            c
            for c in world.calls
            if c["seq"] > since
            and (method is None or c["method"] == method)
            and (bot_id is None or c["bot_id"] == bot_id)
        ]


def _clock_view(world: World) -> dict[str, Any]:
    now = world.clock.now()
    return {
        "now": now,
        "iso": datetime.fromtimestamp(now, UTC).isoformat(),
        "offset_seconds": world.clock.offset,
        "frozen": world.clock.frozen_at is not None,
    }


@router.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        return _clock_view(world)


class ClockIn(BaseModel):
    advance_seconds: float = Field(default=0, ge=0)
    frozen: bool | None = None  # true: the clock stands still (until advanced); false: it runs again


@router.post("/clock")
def advance_clock(body: ClockIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        if body.frozen is not None:
            world.clock.freeze(body.frozen)
        world.clock.advance(body.advance_seconds)
        return _clock_view(world)


class ConfigIn(BaseModel):
    per_chat_per_sec: int | None = Field(default=None, gt=0)
    per_group_per_min: int | None = Field(default=None, gt=0)
    per_bot_per_sec: int | None = Field(default=None, gt=0)
    enforce_limits: bool | None = None
    webhook_timeout_seconds: float | None = Field(default=None, gt=0, le=60)


@router.get("/config")
def get_config(request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        return world.config.as_dict()


@router.post("/config")
def set_config(body: ConfigIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(world.config, name, value)
        world.limiter.clear()
        return world.config.as_dict()


class FloodIn(BaseModel):
    method: str = Field(min_length=1)
    retry_after: int = Field(gt=0)
    count: int = Field(default=1, gt=0)
    bot_id: int | None = None
    chat_id: int | None = None


@router.post("/floods")
def force_flood(body: FloodIn, request: Request) -> list[dict[str, Any]]:
    """The next `count` calls of `method` (of one bot, naming one chat, if given) answer 429 with
    `retry_after`, whatever the limits say: any method, as Telegram can. Returns the floods left."""
    world = services_of(request).world
    with world.lock:
        if body.method.lower() not in METHODS:
            raise ControlError(400, f"unknown method {body.method}")
        world.floods = [f for f in world.floods if f.count > 0]
        world.floods.append(
            ForcedFlood(body.method.lower(), body.retry_after, body.count, body.bot_id, body.chat_id)
        )
        return [f.as_dict() for f in world.floods]


@router.get("/floods")
def floods(request: Request) -> list[dict[str, Any]]:
    """The forced 429s not yet answered."""
    world = services_of(request).world
    with world.lock:
        return [f.as_dict() for f in world.floods if f.count > 0]


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    services = services_of(request)
    await services.delivery.stop()
    services.world.reset()
    return {"ok": True}
