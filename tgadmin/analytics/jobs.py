"""Queue handler of hourly analytics: `analytics-aggregate` (repeatable at minute 5 of every hour, on
the `system` queue). Without data it aggregates the last few full hours and any hour of the last day
that was never aggregated (`service.scheduled_hours`); `{"hour": "2026-11-23T10:00:00Z"}`
aggregates that one hour. `analytics-backfill` (`{"start": ISO, "end": ISO}`) recomputes every hour
of a range, reporting its progress to the page that started it."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, field_validator

from tgadmin.analytics import service
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName


class AnalyticsAggregateData(JobData):
    hour: AwareDatetime | None = None

    @field_validator("hour", mode="before")
    @classmethod
    def _text_only(cls, value: object) -> object:
        # Lax parsing would read a number as seconds since 1970: a backfill of the wrong hour.
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an ISO 8601 string with an offset, e.g. 2026-11-23T10:00:00Z")
        return value


class AnalyticsBackfillData(JobData):
    """Recompute every hour that starts in `[start, end)` (and is over)."""

    start: AwareDatetime
    end: AwareDatetime

    @field_validator("start", "end", mode="before")
    @classmethod
    def _text_only(cls, value: object) -> object:
        return AnalyticsAggregateData._text_only(value)


async def analytics_backfill(run: JobRun, data: AnalyticsBackfillData) -> dict[str, Any]:
    hours = service.backfill_hours(data.start, data.end)
    rows = 0
    await run.progress(0, len(hours))
    for done, hour in enumerate(hours, 1):
        rows += len(await service.aggregate_hour(run.session, hour))
        # Each hour is its own unit of work: a retry after a failure redoes the rest, not the lot.
        await run.checkpoint()
        await run.progress(done, len(hours))
    return {"hours": len(hours), "rows": rows}


async def analytics_aggregate(run: JobRun, data: AnalyticsAggregateData) -> dict[str, Any]:
    if data.hour is not None:
        hours = [service.hour_start(data.hour)]
    else:
        hours = await service.scheduled_hours(run.session)
    rows = 0
    for hour in hours:
        rows += len(await service.aggregate_hour(run.session, hour))
        # Each hour is its own unit of work: a failure later does not undo the hours done.
        await run.checkpoint()
    return {"hours": [h.isoformat() for h in hours], "rows": rows}


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.ANALYTICS_AGGREGATE: Handler(AnalyticsAggregateData, analytics_aggregate),
    JobName.ANALYTICS_BACKFILL: Handler(AnalyticsBackfillData, analytics_backfill),
}
