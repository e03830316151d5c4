"""From a buyer's PIX payment to the first photo of their purchase in their chat.

    python bench/checkout.py [--buyers N] [--interval SECONDS] [--workers N]

A sandbox (Telegram and the PSP, limits on), the dashboard (it receives the PSP's webhook, confirms
the payment and enqueues the delivery after its commit) and worker processes (the `deliver-purchase`
job) run as in production. Each buyer has a pending purchase of a pack of photos and a PIX charge
made by `payment.charges.create_pix_charge`; then the buyers' banks pay (`POST /sandbox/pix/pay`),
one every `--interval` seconds. Latency: from just before the bank's payment to the sandbox
receiving the first `sendMediaGroup`/`sendPhoto` in that buyer's chat (the call log's own time;
sandbox and benchmark share the machine's clock).
Last line: {"bench", "payments", "delivered", "p50_ms", "p99_ms", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from harness import (
    CallLog,
    Processes,
    Sandbox,
    database,
    free_port,
    platform,
    report,
    say,
    wait_http,
    wait_workers_ready,
)

PHOTOS = 3
PHOTO_METHODS = {"sendMediaGroup", "sendPhoto"}


def png(seed: int, size: tuple[int, int]) -> bytes:
    """A small real PNG (the sandbox reads what it is sent)."""
    from tests.sandbox.conftest import png_bytes

    return png_bytes(("red", "green", "blue", "yellow")[seed % 4], size)


async def _shop(db_url: str, token: str, buyers: list[int], media: Path) -> dict[int, tuple[int, str]]:
    """The bot, a pack of PHOTOS photos, and for each buyer a pending purchase with an open PIX
    charge; returns {buyer telegram id: (purchase id, copy-paste code)}."""
    from tests.factories import add_product_file, make_buyer, make_product, make_purchase
    from tgadmin.config import get_settings
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.models.enums import PurchaseStatus
    from tgadmin.payment.charges import create_pix_charge
    from tgadmin.pix.providers.sandbox import sandbox_provider
    from tgadmin.storage import LocalStorage
    from tgadmin.telegram.bots import register_from_token

    get_settings.cache_clear()
    settings = get_settings()
    engine = create_engine(db_url)
    storage = LocalStorage(media)
    provider = sandbox_provider(settings)
    codes = {}
    try:
        async with session_scope(session_factory(engine)) as session:
            bot = (await register_from_token(session, token, settings)).bot
            product = await make_product(session, title="Pack Verão", price_cents=1990)
            for position in range(PHOTOS):
                await add_product_file(
                    session, storage, product, position, png(position, (48 + position, 32)), "image/png"
                )
            for telegram_id in buyers:
                buyer = await make_buyer(session, telegram_id)
                purchase = await make_purchase(
                    session, product=product, buyer=buyer, status=PurchaseStatus.PENDING, bot_id=bot.id
                )
                tx = await create_pix_charge(
                    session, provider, purchase.id, expires_minutes=settings.pix_expires_minutes
                )
                assert tx.pix_copy_paste is not None
                codes[telegram_id] = (purchase.id, tx.pix_copy_paste)
    finally:
        await provider.aclose()
        await engine.dispose()
    return codes


async def _register_webhook(public_url: str) -> str:
    from tgadmin.config import get_settings
    from tgadmin.pix.providers.sandbox import sandbox_provider

    get_settings.cache_clear()
    provider = sandbox_provider(get_settings())
    try:
        url = provider.webhook_url(public_url)
        await provider.register_webhook(url)
        return url
    finally:
        await provider.aclose()


def first_calls(log: CallLog, buyers: set[int], methods: set[str]) -> dict[int, float]:
    """The time of the first accepted call of `methods` in each buyer's chat."""
    first: dict[int, float] = {}
    for call in log.refresh():
        chat = call.get("chat_id")
        if call["ok"] and call["method"] in methods and chat in buyers and chat not in first:
            first[chat] = float(call["time"])
    return first


async def _job_times(purchase_ids: dict[int, int]) -> dict[int, tuple[float, float]]:
    """{buyer: (enqueued, picked up)} in seconds, from the `deliver-purchase` jobs' own records."""
    from bullmq import Job

    from tgadmin.config import get_settings
    from tgadmin.purchase.enqueue import delivery_job_id
    from tgadmin.queue.client import Queues
    from tgadmin.queue.names import QueueName

    get_settings.cache_clear()
    queues = Queues(get_settings())
    times = {}
    try:
        queue = queues.queue(QueueName.BOT_TASKS)
        for buyer, purchase_id in purchase_ids.items():
            job = await Job.fromId(queue, delivery_job_id(purchase_id))
            if job is not None and job.processedOn:
                times[buyer] = (job.timestamp / 1000, job.processedOn / 1000)
    finally:
        await queues.close()
    return times


def percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    # Inclusive: a percentile never lies beyond the slowest value measured.
    cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    return round(cuts[49], 1), round(cuts[98], 1)


def run(
    procs: Processes, sandbox: Sandbox, db_url: str, args: argparse.Namespace, media: Path
) -> dict[str, Any]:
    from tgadmin.worker.processes import spawn_workers

    created = sandbox.post("/sandbox/bots", username=f"bench_{uuid.uuid4().hex[:8]}_bot")
    bot_tg = int(created["id"])
    say(f"{args.buyers} buyers start the bot; a pack of {PHOTOS} photos; a PIX charge each")
    buyers = []
    for n in range(args.buyers):
        telegram_id = int(sandbox.post("/sandbox/users", first_name=f"Comprador {n}")["id"])
        sandbox.post(f"/sandbox/users/{telegram_id}/messages", text="/start")
        buyers.append(telegram_id)
    codes = asyncio.run(_shop(db_url, str(created["token"]), buyers, media))

    port = int(procs.env["PUBLIC_URL"].rsplit(":", 1)[1])
    procs.start("dashboard", "dashboard", "--port", str(port))
    wait_http(f"{procs.env['PUBLIC_URL']}/healthz", timeout=90)
    asyncio.run(_register_webhook(procs.env["PUBLIC_URL"]))
    procs.running.extend(spawn_workers(args.workers, procs.env, log_dir=procs.logs))
    wait_workers_ready(args.workers)
    say(f"dashboard on :{port} (PSP webhook registered), {args.workers} worker process(es)")

    log = CallLog(sandbox, bot_tg)
    log.refresh()
    paid_at: dict[int, float] = {}
    say(f"the buyers' banks pay, one every {args.interval} s")
    for telegram_id in buyers:
        paid_at[telegram_id] = time.time()
        answer = sandbox.post("/sandbox/pix/pay", code=codes[telegram_id][1])
        if not answer.get("notified"):
            raise RuntimeError("the sandbox PSP has no webhook to notify")
        time.sleep(args.interval)
    deadline = time.monotonic() + 120
    first: dict[int, float] = {}
    while time.monotonic() < deadline:
        first = first_calls(log, set(buyers), PHOTO_METHODS)
        if len(first) == len(buyers):
            break
        say(f"  {len(first)} of {len(buyers)} buyers have their first photo")
        time.sleep(2)
    latencies = sorted((first[b] - paid_at[b]) * 1000 for b in first)
    # Where the time goes: payment → job enqueued (PSP webhook, confirmation, commit, enqueue), the
    # queue's pick-up, then pick-up → the album (its caption is the "payment confirmed" text).
    jobs = asyncio.run(_job_times({b: codes[b][0] for b in buyers}))
    stages = {
        "enqueued": [(jobs[b][0] - paid_at[b]) * 1000 for b in jobs],
        "picked_up": [(jobs[b][1] - jobs[b][0]) * 1000 for b in jobs],
        "first_photo": [(first[b] - jobs[b][1]) * 1000 for b in first if b in jobs],
    }
    for stage, values in stages.items():
        say(f"  stage {stage}: p50 {percentiles(values)[0]} ms, p99 {percentiles(values)[1]} ms")
    p50, p99 = percentiles(latencies)
    say(f"delivered {len(first)} of {len(buyers)}; slowest {latencies[-1]:.0f} ms" if latencies else "none")
    return {
        "bench": "checkout",
        "payments": len(paid_at),
        "delivered": len(first),
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": round(latencies[-1], 1) if latencies else None,
        **{f"{stage}_p50_ms": percentiles(values)[0] for stage, values in stages.items()},
        **{f"{stage}_p99_ms": percentiles(values)[1] for stage, values in stages.items()},
        "photos_per_purchase": PHOTOS,
        "interval_s": args.interval,
        "workers": args.workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--buyers", type=int, default=100)
    # 4 buyers a second: 12 messages a second (an album of 3 photos each), under the bot's 30/s, so
    # the figure is latency, not a queue growing behind the rate limit.
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between two payments")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    media = Path(tempfile.mkdtemp(prefix="tgadmin-bench-media-"))
    public_url = f"http://127.0.0.1:{free_port()}"
    settings = {
        "MEDIA_DIR": str(media),
        "PUBLIC_URL": public_url,
        "PIX_PROVIDER": "sandbox",
        "PIX_WEBHOOK_SECRET": secrets.token_urlsafe(24),
    }
    os.environ.update(settings)  # the benchmark's own charges and webhook registration read them too
    try:
        with database() as db_url, platform(db_url, **settings) as (procs, url):
            figures = run(procs, Sandbox(url), db_url, args, media)
    finally:
        shutil.rmtree(media, ignore_errors=True)
    report(**figures)


if __name__ == "__main__":
    main()
