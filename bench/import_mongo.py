"""import_mongo: `tgadmin import mongo` on 1,000,000 purchases (plus the 100 creators, 1,000 products
and 20,000 buyers they name) into a PostgreSQL database of its own. The export files are generated
into a temporary folder first, written as mongoexport writes them (relaxed extended JSON: `$oid`,
`$date`, amounts in reais); then the import runs in this process, the way the command runs it
(batches of 1,000 rows, a commit each), while the process's resident memory is sampled.

`seconds` is the whole import (the 21,100 rows before the purchases included), `rows_per_s` the
purchases over the time of their file; `rss_growth_mb` is the peak resident memory minus what it was once
the first 10% of the purchases were in: close to 0 when the file is streamed, not loaded.

    python bench/import_mongo.py [--purchases N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from harness import database, report, say
from tgadmin.db import create_engine, session_factory
from tgadmin.models import Purchase
from tgadmin.mongo_import.service import import_directory

CREATORS = 100
PRODUCTS = 1_000
USERS = 20_000
STATUSES = ("completed", "completed", "completed", "paid", "pending", "failed", "refunded", "expired")
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def oid(kind: int, n: int) -> str:
    return f"{kind:08x}{n:016x}"


def date(seconds: int) -> dict[str, str]:
    return {"$date": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))}


def creator(n: int) -> dict[str, Any]:
    return {"_id": {"$oid": oid(1, n)}, "name": f"Modelo {n}", "username": f"modelo_{n}", "tier": "gold"}


def product(n: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": {"$oid": oid(2, n)},
        "modelId": {"$oid": oid(1, n % CREATORS)},
        "title": f"Pack {n}",
        "type": "content",
        "price": 29.9,
    }
    if n % 3 == 0:
        doc.update(type="subscription", subscriptionDays=30)
    return doc


def buyer(n: int) -> dict[str, Any]:
    return {"_id": {"$oid": oid(3, n)}, "telegramId": 7_000_000_000 + n, "firstName": f"Comprador {n}"}


def purchase(n: int) -> dict[str, Any]:
    status = STATUSES[n % len(STATUSES)]
    # One pending purchase per buyer and product at most (our unique index): spread them out.
    user, item = n % USERS, (n // USERS + n) % PRODUCTS
    created = 1_760_000_000 + n * 10
    doc: dict[str, Any] = {
        "_id": {"$oid": oid(4, n)},
        "telegramUserId": {"$oid": oid(3, user)},
        "productId": {"$oid": oid(2, item)},
        "modelId": {"$oid": oid(1, item % CREATORS)},
        "amount": 29.9,
        "currency": "BRL",
        "status": status,
        "createdAt": date(created),
        "updatedAt": date(created + 60),
    }
    if status in ("completed", "expired"):
        doc["deliveredAt"] = date(created + 5)
        doc["accessExpiresAt"] = date(created + 30 * 86400)
        doc["sentMessages"] = [{"chatId": 7_000_000_000 + user, "messageIds": [n * 3, n * 3 + 1, n * 3 + 2]}]
        doc["expirationNotified7Days"] = status == "expired"
        doc["expirationNotified1Day"] = False
    return doc


def write(path: Path, count: int, document: Callable[[int], dict[str, Any]]) -> None:
    with path.open("w") as out:
        for n in range(count):
            out.write(json.dumps(document(n)) + "\n")
            if n and n % 200_000 == 0:
                say(f"  {path.name}: {n:,} lines")


def write_exports(folder: Path, purchases: int) -> None:
    write(folder / "models.json", CREATORS, creator)
    write(folder / "products.json", PRODUCTS, product)
    write(folder / "telegramusers.json", USERS, buyer)
    write(folder / "purchases.json", purchases, purchase)


class Sampler:
    """Progress every 5% of a file, and the resident memory at each batch."""

    def __init__(self, purchases: int) -> None:
        self.purchases = purchases
        self.label = ""
        self.total = 1
        self.step = 0
        self.peak = rss_mb()
        self.settled: float | None = None
        self.started = time.monotonic()
        self.purchase_seconds = 0.0

    def start(self, label: str, total_bytes: int) -> None:
        self.label, self.total, self.step = label, max(total_bytes, 1), 0
        self.started = time.monotonic()
        say(f"importing {label}: {total_bytes / 2**20:.0f} MiB")

    def advance(self, done_bytes: int) -> None:
        now = rss_mb()
        self.peak = max(self.peak, now)
        share = done_bytes / self.total
        if self.label.startswith("purchases") and self.settled is None and share >= 0.1:
            self.settled = now
        if int(share * 20) > self.step:
            self.step = int(share * 20)
            elapsed = time.monotonic() - self.started
            if self.label.startswith("purchases"):
                self.purchase_seconds = elapsed
            say(f"  {self.label}: {share:4.0%} in {elapsed:5.1f} s, rss {now:.0f} MB")


async def run_import(db_url: str, folder: Path, sampler: Sampler) -> tuple[float, int, list[str]]:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        began = time.monotonic()
        async with sessions() as session:
            result = await import_directory(session, folder, commit=session.commit, progress=sampler)
        seconds = time.monotonic() - began
        async with sessions() as session:
            rows = (await session.execute(select(func.count()).select_from(Purchase))).scalar_one()
        return seconds, rows, result.lines()
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--purchases", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import_mongo_") as tmp, database() as db_url:
        folder = Path(tmp)
        say(f"writing the export: {CREATORS} creators, {PRODUCTS} products, {USERS} buyers")
        say(f"  and {args.purchases:,} purchases")
        write_exports(folder, args.purchases)
        size = (folder / "purchases.json").stat().st_size
        say(f"purchases.json: {size / 2**20:.0f} MiB")
        sampler = Sampler(args.purchases)
        seconds, rows, lines = asyncio.run(run_import(db_url, folder, sampler))
        for line in lines:
            say(line)
        purchase_seconds = sampler.purchase_seconds
        settled = sampler.settled if sampler.settled is not None else sampler.peak
        report(
            bench="import_mongo",
            rows=rows,
            seconds=round(seconds, 1),
            purchase_seconds=round(purchase_seconds, 1),
            rows_per_s=round(rows / purchase_seconds),
            peak_rss_mb=round(sampler.peak, 1),
            rss_growth_mb=round(sampler.peak - settled, 1),
            file_mb=round(size / 2**20, 1),
        )


if __name__ == "__main__":
    main()
