"""Banco Central's API Pix as the sandbox serves it (built by the payments issue, #5)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
