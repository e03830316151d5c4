"""No domain router asks aiogram to run a filter in a thread: aiogram runs every synchronous filter
through `asyncio.to_thread`, a thread round trip per filter per update (bench/updates.py measured
one such filter, on /mypurchases' router, costing a third of the bot's throughput)."""

from __future__ import annotations

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject

from tgadmin.bot.routers import domain_routers


def _filters(router: Router) -> list[tuple[str, FilterObject]]:
    found = []
    for name, observer in router.observers.items():
        found += [(f"{router.name}.{name} (router)", f) for f in observer._handler.filters or []]
        for handler in observer.handlers:
            found += [(f"{router.name}.{name} {handler.callback.__name__}", f) for f in handler.filters or []]
    return found


def test_every_filter_of_every_domain_router_is_awaited_in_the_event_loop() -> None:
    filters = [item for router in domain_routers() for item in _filters(router)]
    assert filters  # the walk found the routers' filters
    assert [where for where, f in filters if not f.awaitable] == []
