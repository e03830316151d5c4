"""What a payment leaves in the world: pre-checkout queries awaiting the bot, Star charges."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any


@dataclass
class PreCheckout:
    id: str
    user_id: int
    invoice: dict[str, Any]
    future: asyncio.Future[tuple[bool, str | None]] | None = None
    answered: bool = False


@dataclass
class Charge:
    charge_id: str
    user_id: int
    amount: int
    payload: str
    chat_key: tuple[int, int]
    refunded: bool = False
