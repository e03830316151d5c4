"""Long-lived processes (bot, dashboard, worker) leave what start-up made out of the garbage
collector's full collections."""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """What start-up made (modules, pydantic's and aiogram's schemas, SQLAlchemy's mappers: ~300,000
    objects) lives as long as the process: moved out of the collector's generations, a full
    collection no longer walks it. It did, every few thousand requests or updates, stopping the event
    loop for 0.3-0.7 s while everyone waited (bench/updates.py storefront: 15 updates in a row 0.8 s
    late, no Bot API call for 0.75 s). Call it once, right before serving; never in a test process,
    where what is frozen would outlive its test."""
    gc.collect()
    gc.freeze()
