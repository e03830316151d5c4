"""Helpers shared by the sandbox's own tests."""

from __future__ import annotations

import io

import pytest
from PIL import Image


def png_bytes(color: str = "red", size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def png() -> bytes:
    return png_bytes()
