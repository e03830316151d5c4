"""The `tgadmin worker` process: BullMQ workers on our three queues, one job wrapper for all jobs.

The wrapper owns the job's database session (commit on success), validates the job's data with
its pydantic model (invalid data fails once, no retries), and maps outcomes onto BullMQ:
  Reschedule          -> moved to delayed without spending an attempt (429s, far-off slots)
  TelegramCallError   -> recoverable: retried with backoff; otherwise failed at once (the
                         gateway's records - deactivation, rights count - are committed first)
  TgadminError        -> failed at once with its message (ServiceUnavailable is retried)
  database unreachable -> moved to delayed for 5 s without spending an attempt (a restart)
  anything else       -> retried with backoff (3 attempts, capped at 30 s, per-job overridable)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from bullmq import DelayedError, Job, UnrecoverableError, Worker
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from tgadmin import metrics
from tgadmin.config import Settings
from tgadmin.errors import ServiceUnavailable, TgadminError
from tgadmin.heap import freeze_start_up_heap
from tgadmin.logs import log_context
from tgadmin.queue import heartbeat
from tgadmin.queue.client import BACKOFF_STRATEGY, DEFAULT_BACKOFF_MS, Queues, backoff_delay, connection_url
from tgadmin.queue.context import JobRun, WorkerContext
from tgadmin.queue.jobs import Handler
from tgadmin.queue.monitor import QueueMonitor
from tgadmin.queue.names import JobName, QueueName
from tgadmin.settings import effective
from tgadmin.telegram.errors import ErrorClass, Reschedule, TelegramCallError
from tgadmin.worker.events import DomainEvents
from tgadmin.worker.registry import all_handlers

log = logging.getLogger(__name__)

# (scheduler id, queue, job, repeat options): the id makes registration idempotent across workers.
REPEATABLE: tuple[tuple[str, QueueName, JobName, dict[str, Any]], ...] = (
    ("analytics-aggregate-hourly", QueueName.SYSTEM, JobName.ANALYTICS_AGGREGATE, {"pattern": "0 5 * * * *"}),
    ("campaign-check", QueueName.SYSTEM, JobName.CAMPAIGN_CHECK, {"every": 60_000}),
    # Charges expire after PIX_EXPIRES_MINUTES (30 by default): a minute late at most.
    ("pix-expiry-sweep", QueueName.SYSTEM, JobName.PIX_EXPIRY_SWEEP, {"every": 60_000}),
    # Each pending charge carries its own next_poll_at (backoff); this only looks for due ones.
    ("pix-poll", QueueName.SYSTEM, JobName.PIX_POLL, {"every": 30_000}),
    # A Stars payment whose update was lost for good is recorded (and delivered) within 5 minutes.
    ("stars-reconcile", QueueName.SYSTEM, JobName.STARS_RECONCILE, {"every": 300_000}),
    # Warnings and expiries a minute late at most; each purchase's claim makes overlapping sweeps safe.
    ("subscription-sweep", QueueName.SUBSCRIPTIONS, JobName.SUBSCRIPTION_SWEEP, {"every": 60_000}),
)
SHUTDOWN_GRACE_SECONDS = 25.0
# A job that lost its database connection tries again this soon, without spending an attempt.
INFRASTRUCTURE_RETRY_SECONDS = 5.0


# SQLSTATE classes of a server going away or not there yet: 08 connection exception; 57P01-57P03
# admin shutdown, crash shutdown, "the database system is starting up" (PostgreSQL's own codes).
_SERVER_GONE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def infrastructure_down(error: BaseException) -> bool:
    """The database connection was lost or refused (a restart, a failover), not a bug in the job."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
            return True
        # asyncpg's "starting up" arrives as a plain DBAPIError: only its SQLSTATE says what it is.
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(sqlstate, str) and sqlstate.startswith(_SERVER_GONE_SQLSTATES)
    return isinstance(error, ConnectionError)


def _backoff(attempts_made: int, _type: str, _err: Any, job: Job) -> int:
    backoff = job.opts.get("backoff") or {}
    return backoff_delay(attempts_made, int(backoff.get("delay") or DEFAULT_BACKOFF_MS))


def validation_summary(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "data"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


async def register_repeatable(queues: Queues, handled: Collection[JobName]) -> None:
    """Upsert every job scheduler by its fixed id: N workers starting together yield one schedule."""
    for scheduler_id, queue, job, repeat in REPEATABLE:
        if job not in handled:
            # Never schedule a job nobody can run: it would only pile up failures.
            log.info("repeatable %s not registered: no handler for %s yet", scheduler_id, job)
            continue
        await queues.queue(queue).upsertJobScheduler(
            scheduler_id, repeat, str(job), {}, {"attempts": 3, "removeOnComplete": 100, "removeOnFail": 500}
        )


class WorkerProcess:
    """Everything one `tgadmin worker` runs; `start()`, then `stop()` (graceful) or `run()`."""

    def __init__(
        self,
        settings: Settings,
        *,
        concurrency: int | None = None,
        queues: tuple[QueueName, ...] = tuple(QueueName),
        lock_duration_ms: int = 30_000,
        stalled_interval_ms: int = 30_000,
        schedules: bool = True,
        metrics_port: int | None = None,
    ) -> None:
        self.settings = settings
        self.concurrency = concurrency or settings.worker_concurrency
        self.queue_names = queues
        self.lock_duration_ms = lock_duration_ms
        self.stalled_interval_ms = stalled_interval_ms
        # Tests that run one job by hand turn the repeatable ones off, so they do not race it.
        self.schedules = schedules
        self.handlers: dict[JobName, Handler[Any]] = all_handlers()
        self.ctx: WorkerContext | None = None
        self.workers: list[Worker] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._one_at_a_time: asyncio.Lock | None = None
        self.worker_id = heartbeat.new_worker_id()
        self.metrics_port = metrics_port
        self._started_at = ""
        self._beating: asyncio.Task[None] | None = None

    def _concurrency_of(self, queue: QueueName) -> int:
        # Telegram work is I/O waiting on the limiter: it gets the configured concurrency. The
        # system and subscription queues run few, heavier DB jobs: one at a time is plenty.
        return self.concurrency if queue is QueueName.BOT_TASKS else 1

    async def start(self) -> None:
        self.settings = await effective.at_start(self.settings)
        self.ctx = WorkerContext.create(self.settings, DomainEvents())
        if self.ctx.engine.dialect.name == "sqlite":
            # SQLite has one writer, and a transaction that read before writing fails at once
            # ("database is locked") when another wrote meanwhile: the embedded default runs its
            # jobs' units of work in turn, as the bot does its updates. PostgreSQL runs them side by side.
            self._one_at_a_time = asyncio.Lock()
        if self.schedules:
            await register_repeatable(self.ctx.queues, self.handlers)
        for queue in self.queue_names:
            worker = Worker(
                str(queue),
                self._processor(queue),
                {
                    "connection": connection_url(self.settings),
                    "prefix": self.settings.redis_prefix,
                    "concurrency": self._concurrency_of(queue),
                    "lockDuration": self.lock_duration_ms,
                    "stalledInterval": self.stalled_interval_ms,
                    "settings": {"backoffStrategy": _backoff},
                    "autorun": False,
                },
            )
            worker.on("error", lambda err, *_: log.error("queue error: %s", err))
            self.workers.append(worker)
            self._tasks.append(asyncio.create_task(worker.run()))
        self._started_at = datetime.now(UTC).isoformat(timespec="seconds")
        # The first beat is written before start() returns, so the worker is listed as soon as it runs.
        await self._beat_once()
        self._beating = asyncio.create_task(self._beat_forever())
        log.info(
            "worker started: queues %s, concurrency %d, backoff %s",
            ", ".join(self.queue_names),
            self.concurrency,
            BACKOFF_STRATEGY,
        )

    async def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Take no new jobs, let in-flight ones finish; after `grace` seconds, cancel the rest (their
        locks lapse and BullMQ's stalled check gives them to another worker)."""
        await self._stop_beating()
        closing = [asyncio.create_task(w.close()) for w in self.workers]
        _done, pending = await asyncio.wait(closing, timeout=grace) if closing else (set(), set())
        if pending:
            log.warning("%d queue(s) still busy after %.0fs: cancelling in-flight jobs", len(pending), grace)
            for worker in self.workers:
                worker.cancelProcessing()
            await asyncio.wait(pending, timeout=5)
        for task in self._tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.ctx is not None:
            await self.ctx.close()
        log.info("worker stopped")

    def _beat(self) -> heartbeat.WorkerBeat:
        return heartbeat.WorkerBeat(
            self.worker_id,
            socket.gethostname(),
            os.getpid(),
            [str(name) for name in self.queue_names],
            self.concurrency,
            self._started_at,
            metrics_port=self.metrics_port,
        )

    async def _beat_once(self) -> None:
        """Refresh the heartbeat key and the queue-depth gauge; Redis being away is logged, not fatal
        (BullMQ's own connection says so too, and the key lapsing is what shows it)."""
        assert self.ctx is not None
        try:
            await heartbeat.beat(self.ctx.redis, self.settings.redis_prefix, self._beat())
            for queue, by_state in (await QueueMonitor(self.ctx.queues).counts()).items():
                for state, count in by_state.items():
                    metrics.QUEUE_JOBS.labels(str(queue), state).set(count)
        except (RedisError, OSError) as error:
            log.warning("heartbeat not written: %s", error)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(heartbeat.BEAT_SECONDS)
            await self._beat_once()

    async def _stop_beating(self) -> None:
        if self._beating is None:
            return
        self._beating.cancel()
        await asyncio.gather(self._beating, return_exceptions=True)
        self._beating = None
        if self.ctx is not None:
            with contextlib.suppress(RedisError, OSError):
                await heartbeat.stopped(self.ctx.redis, self.settings.redis_prefix, self.worker_id)

    async def run(self) -> None:
        """Start, then stop gracefully on SIGTERM or SIGINT."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        freeze_start_up_heap()
        await stop.wait()
        log.info("signal received: finishing in-flight jobs")
        await self.stop()

    def _processor(self, queue: QueueName) -> Any:
        async def process(job: Job, token: str) -> dict[str, Any] | None:
            return await self.process(queue, job, token)

        return process

    async def process(self, queue: QueueName, job: Job, token: str) -> dict[str, Any] | None:
        """Run one job with its ids in every log line, counted and timed per job name."""
        label = str(job.name)
        data = job.data if isinstance(job.data, dict) else {}
        context = log_context(
            job_id=str(job.id),
            job=label,
            purchase_id=data.get("purchaseId"),
            chat_id=data.get("chatId"),
            bot_id=data.get("botId"),
        )
        with context, metrics.timed(metrics.JOB_SECONDS.labels(label)):
            try:
                result = await self._process(queue, job, token)
            except DelayedError:
                metrics.JOBS_RESCHEDULED.labels(label).inc()
                raise
            except Exception as error:
                metrics.JOBS_FAILED.labels(label).inc()
                # One line per failed run, with the job's ids from the context (BullMQ records why).
                log.warning(
                    "job %s %s failed (attempt %d): %s", job.id, label, int(job.attemptsMade or 0) + 1, error
                )
                raise
        metrics.JOBS_PROCESSED.labels(label).inc()
        return result

    async def _process(self, queue: QueueName, job: Job, token: str) -> dict[str, Any] | None:
        try:
            name = JobName(job.name)
        except ValueError:
            raise UnrecoverableError(f"unknown job type {job.name!r}") from None
        handler = self.handlers.get(name)
        if handler is None:
            raise UnrecoverableError(f"no handler for {name} in this version of tgadmin")
        try:
            data = handler.model.model_validate(job.data or {})
        except ValidationError as error:
            raise UnrecoverableError(f"invalid {name} job data: {validation_summary(error)}") from None
        assert self.ctx is not None
        async with self._one_at_a_time or contextlib.nullcontext(), self.ctx.sessions() as session:
            run = JobRun(
                self.ctx, session, str(job.id), str(queue), int(job.attemptsMade or 0), job.updateProgress
            )
            try:
                result = await handler.run(run, data)
            except Reschedule as later:
                await session.rollback()
                await job.moveToDelayed(int((time.time() + later.delay) * 1000), token)
                log.info("job %s %s %s", job.id, name, later)
                raise DelayedError(str(later)) from None
            except TelegramCallError as error:
                if error.kind is ErrorClass.RECOVERABLE:
                    await session.rollback()
                    raise
                await session.commit()
                raise UnrecoverableError(str(error)) from None
            except ServiceUnavailable:
                await session.rollback()
                raise
            except TgadminError as error:
                await session.rollback()
                raise UnrecoverableError(error.message) from None
            except BaseException as error:
                with contextlib.suppress(Exception):
                    await session.rollback()  # on a dead connection the rollback fails too
                if not infrastructure_down(error):
                    raise
                # The database (or Redis) went away under the job: not the job's fault, and a
                # restart takes longer than three quick retries. Wait for it, spending no attempt.
                await job.moveToDelayed(int((time.time() + INFRASTRUCTURE_RETRY_SECONDS) * 1000), token)
                log.warning(
                    "job %s %s: %s; again in %.0fs", job.id, name, error, INFRASTRUCTURE_RETRY_SECONDS
                )
                raise DelayedError(f"infrastructure unavailable: {type(error).__name__}") from None
            await session.commit()
            return result
