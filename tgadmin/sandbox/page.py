"""The chat page at `/`: chats the way a Telegram client shows them, driven by the control API.

Everything it needs is inline (no asset from the internet); it polls `/sandbox/chats` and the open
chat's messages once a second, presses buttons, pays invoices and PIX codes as the user would.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def chats_page(request: Request) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "chats.html", {})
