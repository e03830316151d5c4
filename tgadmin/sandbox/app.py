"""`create_app()`: the sandbox as one FastAPI app (Bot API, control API, chat page, API Pix)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tgadmin.sandbox import control, docs, page, pix, telegram_api
from tgadmin.sandbox.control.lookup import ControlError, control_error_response
from tgadmin.sandbox.delivery import WebhookDelivery
from tgadmin.sandbox.events import EventError
from tgadmin.sandbox.state.bots import Bot
from tgadmin.sandbox.state.world import World
from tgadmin.sandbox.telegram_api import Services, execute_for_bot


def _control_validation(request: Request, error: Exception) -> JSONResponse:
    """Control-API bodies that do not fit answer 400 with the first problem, in a sentence."""
    assert isinstance(error, RequestValidationError)
    if not request.url.path.startswith("/sandbox/") or request.url.path.startswith("/sandbox/pix"):
        return JSONResponse({"detail": error.errors()}, status_code=422)
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"] if part != "body")
    return JSONResponse(
        {"error": f"{where}: {first['msg']}" if where else str(first["msg"])}, status_code=400
    )


def create_app(world: World | None = None) -> FastAPI:
    world = world or World()
    services: Services

    async def run_for_bot(bot: Bot, method_name: str, params: dict[str, Any]) -> None:
        await execute_for_bot(services, bot, method_name, params)

    services = Services(world, WebhookDelivery(world, run_for_bot))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await services.delivery.stop()

    app = FastAPI(title="tgadmin Telegram sandbox", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.sandbox = services
    app.add_exception_handler(ControlError, control_error_response)
    app.add_exception_handler(EventError, control_error_response)
    app.add_exception_handler(RequestValidationError, _control_validation)
    app.include_router(telegram_api.router)
    app.include_router(control.router)
    app.include_router(pix.router)
    app.include_router(page.router)
    app.include_router(docs.router)
    return app
