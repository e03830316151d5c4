"""The chat page at `/`: chats the way a Telegram client shows them, driven by the control API.

Everything it needs is inline (no asset from the internet; the script is split over
`chats_view.js`, how chats look, and `chats_actions.js`, what the operator does, both included
into the page). The operator picks who they are, creates users and groups, adds and promotes the
bot, opens a chat with a bot (a t.me deep link does it too, sending `/start <payload>`), writes,
presses buttons and pays invoices and PIX codes as that user would. It polls the world once a second.
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
