"""The queue monitor the dashboard and the JSON API call: counts, failed jobs, retry, remove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bullmq import Job

from tgadmin.errors import Conflict, NotFound
from tgadmin.queue.client import Queues
from tgadmin.queue.names import QueueName

STATES = ("waiting", "active", "delayed", "prioritized", "waiting-children", "completed", "failed", "paused")


@dataclass(frozen=True)
class JobInfo:
    id: str
    queue: QueueName
    name: str
    data: dict[str, Any]
    attempts_made: int
    max_attempts: int
    failed_reason: str | None
    created_at: datetime | None
    finished_at: datetime | None
    stacktrace: str | None
    # What the handler said of its progress ({done, total, ...}) and what it returned, if finished.
    progress: dict[str, Any]
    result: dict[str, Any] | None


def _time(millis: Any) -> datetime | None:
    return datetime.fromtimestamp(int(millis) / 1000, UTC) if millis else None


def _info(queue: QueueName, job: Job) -> JobInfo:
    trace = job.stacktrace[-1] if getattr(job, "stacktrace", None) else None
    return JobInfo(
        id=str(job.id),
        queue=queue,
        name=str(job.name),
        data=dict(job.data or {}),
        attempts_made=int(job.attemptsMade or 0),
        max_attempts=int(job.opts.get("attempts") or 1),
        failed_reason=getattr(job, "failedReason", None) or None,
        created_at=_time(getattr(job, "timestamp", None)),
        finished_at=_time(getattr(job, "finishedOn", None)),
        stacktrace=trace,
        progress=job.progress if isinstance(job.progress, dict) else {},
        result=job.returnvalue if isinstance(job.returnvalue, dict) else None,
    )


class QueueMonitor:
    """With `shared=True`, counts and failed jobs may come from a read this process made less than a
    second ago (queue/recent.py): for the pages many operators keep open. Changes made through
    the monitor forget those reads in either case."""

    def __init__(self, queues: Queues, *, shared: bool = False) -> None:
        self.queues = queues
        self.shared = shared

    async def counts(self) -> dict[QueueName, dict[str, int]]:
        """Jobs per state, per queue (every state present, zero included)."""
        if self.shared:
            return await self.queues.recent.get(("counts",), self._counts)
        return await self._counts()

    async def _counts(self) -> dict[QueueName, dict[str, int]]:
        result: dict[QueueName, dict[str, int]] = {}
        for name in QueueName:
            raw = await self.queues.queue(name).getJobCounts(*STATES)
            result[name] = {state: int(raw.get(state, 0)) for state in STATES}
        return result

    async def jobs(self, queue: QueueName, state: str, start: int = 0, limit: int = 50) -> list[JobInfo]:
        if state not in STATES:
            raise NotFound(f"no job state {state!r}; states: {', '.join(STATES)}")
        found = await self.queues.queue(queue).getJobs([state], start, start + limit - 1, False)
        return [_info(queue, job) for job in found]

    async def failed(self, queue: QueueName, start: int = 0, limit: int = 50) -> list[JobInfo]:
        """Failed jobs, newest first, with the error text, attempts made and data."""
        if self.shared:
            key = ("failed", queue, start, limit)
            return await self.queues.recent.get(key, lambda: self.jobs(queue, "failed", start, limit))
        return await self.jobs(queue, "failed", start, limit)

    async def get(self, queue: QueueName, job_id: str) -> JobInfo:
        return _info(queue, await self._job(queue, job_id))

    async def _job(self, queue: QueueName, job_id: str) -> Job:
        job = await self.queues.queue(queue).getJob(job_id)
        if job is None:
            raise NotFound(f"no job {job_id} in queue {queue}")
        return job

    async def state(self, queue: QueueName, job_id: str) -> str:
        return str(await self.queues.queue(queue).getJobState(job_id))

    async def retry(self, queue: QueueName, job_id: str) -> None:
        """Run a failed job again with a fresh set of attempts."""
        job = await self._job(queue, job_id)
        state = await self.queues.queue(queue).getJobState(job_id)
        if state != "failed":
            raise Conflict(f"job {job_id} is {state}, only failed jobs can be retried")
        await job.retry("failed", {"resetAttemptsMade": True, "resetAttemptsStarted": True})
        self.queues.recent.forget()

    async def retry_all_failed(self, queue: QueueName) -> int:
        """Retry every failed job of the queue; returns how many were failed."""
        q = self.queues.queue(queue)
        count = int(await q.getFailedCount())
        if count:
            await q.retryJobs({"state": "failed", "count": 1000})
            self.queues.recent.forget()
        return count

    async def remove(self, queue: QueueName, job_id: str) -> None:
        """Remove a job that is not running (active jobs belong to a worker)."""
        await self._job(queue, job_id)
        state = await self.queues.queue(queue).getJobState(job_id)
        if state == "active":
            raise Conflict(f"job {job_id} is running; it can be removed once it finishes")
        removed = await self.queues.queue(queue).remove(job_id)
        self.queues.recent.forget()
        if not removed:
            raise Conflict(f"job {job_id} could not be removed (locked)")
