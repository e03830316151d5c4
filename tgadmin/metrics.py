"""Prometheus metrics of every process, defined once here; toolkits and domains count, the entry
points serve them (dashboard and bot: `/metrics` on their port; workers: `--metrics-port`).

Each process has its own registry (prometheus-client's default one): a Prometheus server scrapes
every process and adds the series up, so N workers on N machines need no coordination here.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from tgadmin.config import Settings

# Job latency runs from a quick delete (tens of ms) to a whole clear of a group (minutes).
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600)
# A limiter wait is zero most of the time; a group's 20/min window makes it up to 3 s, a pause longer.
_WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30)

JOBS_PROCESSED = Counter("tgadmin_jobs_processed", "Jobs finished successfully.", ["job"])
JOBS_FAILED = Counter("tgadmin_jobs_failed", "Job runs that failed (retried or not).", ["job"])
JOBS_RESCHEDULED = Counter(
    "tgadmin_jobs_rescheduled", "Job runs moved to later without spending an attempt.", ["job"]
)
JOB_SECONDS = Histogram("tgadmin_job_seconds", "Time one job run took.", ["job"], buckets=_JOB_BUCKETS)
QUEUE_JOBS = Gauge("tgadmin_queue_jobs", "Jobs in a queue, per state (read by workers).", ["queue", "state"])

TELEGRAM_CALLS = Counter(
    "tgadmin_telegram_calls", "Bot API calls made through the gateway.", ["method", "outcome"]
)
TELEGRAM_429 = Counter("tgadmin_telegram_429", "429 answers received from Telegram.", ["method"])
TELEGRAM_PAUSE_SECONDS = Counter(
    "tgadmin_telegram_pause_seconds", "Seconds of pause stored after Telegram's 429s (retry_after)."
)
LIMITER_WAIT = Histogram(
    "tgadmin_limiter_wait_seconds", "Time a call waited for its slot from the limiter.", buckets=_WAIT_BUCKETS
)

BOT_UPDATES = Counter("tgadmin_bot_updates", "Telegram updates the bot process handled.", ["outcome"])
PIX_CHARGES_CREATED = Counter("tgadmin_pix_charges_created", "PIX charges created.", ["provider"])
PIX_CHARGES_CONFIRMED = Counter("tgadmin_pix_charges_confirmed", "PIX charges confirmed paid.", ["provider"])
PIX_CHARGES_EXPIRED = Counter("tgadmin_pix_charges_expired", "PIX charges expired unpaid.", ["provider"])
DELIVERIES_COMPLETED = Counter("tgadmin_deliveries_completed", "Purchases delivered in full to the buyer.")
SWEEP_SECONDS = Histogram(
    "tgadmin_sweep_seconds",
    "Time one subscription sweep took.",
    buckets=(0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60),
)


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    """Observe the time the block took, also when it raises."""
    started = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - started)


def exposition() -> tuple[bytes, str]:
    """The process's metrics in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


def scrape_allowed(settings: Settings, client_host: str | None, authorization: str | None) -> bool:
    """Who may read `/metrics`: the bearer of METRICS_TOKEN when it is set; otherwise loopback only
    (a scraper on the same machine, or behind a proxy that keeps /metrics to itself)."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token:
        given = (authorization or "").removeprefix("Bearer ").strip()
        return bool(given) and hmac.compare_digest(given.encode(), token.encode())
    try:
        return client_host is not None and ipaddress.ip_address(client_host).is_loopback
    except ValueError:
        return False
