"""A small real photo for upload tests (made with Pillow, no file on disk)."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()
