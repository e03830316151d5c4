"""Magic filters (`F.…`) that aiogram checks in the event loop.

aiogram runs every synchronous filter through `asyncio.to_thread`, a thread round trip per filter
per update that costs far more than the attribute look-up itself (measured in bench/updates.py).
`inline(F.x)` hands aiogram an async callable instead, which it awaits in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.magic_filter import MagicFilter


def inline(magic: MagicFilter) -> Callable[[TelegramObject], Awaitable[Any]]:
    async def check(event: TelegramObject) -> Any:
        return magic.resolve(event)

    return check
