"""Jinja2 templates of the dashboard (every asset inline: no page loads anything from the internet)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
