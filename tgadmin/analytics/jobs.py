"""Queue handler of hourly analytics: `analytics-aggregate` (repeatable at minute 5 of every hour, on
the `system` queue). Without data it aggregates the last few full hours and any hour of the last day
that was never aggregated (`service.scheduled_hours`); `{"hour": "2026-11-23T10:00:00Z"}`
aggregates that one hour (backfill)."""

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
}
