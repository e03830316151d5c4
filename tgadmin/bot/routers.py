"""Every domain's aiogram Router, in the order they see updates: add a domain's `bot.router` here."""

from __future__ import annotations

from aiogram import Router


def domain_routers() -> list[Router]:
    return []
