"""What the creator page and API tests share: pictures drawn with Pillow, the one-time message a
page shows, and the audit trail of a creator."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import select

from tests.fixtures.dashboard import Desk, Person
from tgadmin.db import session_scope
from tgadmin.models import AuditLog


def png(width: int = 400, height: int = 300, colour: str = "#3a86ff") -> bytes:
    """A PNG of one colour with a white square in its top-left corner (so crops differ)."""
    image = Image.new("RGB", (width, height), colour)
    image.paste("#ffffff", (0, 0, width // 4, height // 4))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


async def notice(person: Person, path: str) -> str:
    """The one-time message (or the error) a page shows."""
    page = await person.http.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'<div class="notice[^"]*" role="(?:status|alert)">([^<]*)</div>', page.text)
    return found.group(1).replace("&#39;", "'") if found else ""


def shown_error(html: str) -> str:
    found = re.search(r'<div class="notice error" role="alert">([^<]*)</div>', html)
    return found.group(1).replace("&#39;", "'").replace("&amp;", "&") if found else ""


async def trail(desk: Desk, creator_id: int) -> list[AuditLog]:
    async with session_scope(desk.sessions) as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.entity_type == "creator", AuditLog.entity_id == str(creator_id))
            .order_by(AuditLog.id)
        )
        return list(rows.all())


def stored_files(desk: Desk, pattern: str = "*.*") -> int:
    """How many files the dashboard's media folder holds."""
    return len(list(desk.settings.media_dir.rglob(pattern)))
