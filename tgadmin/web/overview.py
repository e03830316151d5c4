"""The overview: the business at a glance. Charts of the hourly analytics (revenue and purchases per
day, messages per hour, new buyers, deactivated groups) and what an operator must act on now —
failed jobs, deactivated groups, refunds to make, undeletable messages, a PSP that stopped
answering — refreshed every 30 seconds, so nothing waits longer than a minute to be seen."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from redis.exceptions import RedisError

from tgadmin.analytics import service as analytics
from tgadmin.analytics.service import Metric
from tgadmin.clock import zone
from tgadmin.errors import ConfigError
from tgadmin.operator.auth import ViewerDep
from tgadmin.queue.monitor import JobInfo, QueueMonitor
from tgadmin.queue.names import JobName
from tgadmin.webkit.deps import AppState, SessionDep, StateDep
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

DAYS = 30
HOURS = 48
# What the pix-poll job counts when the PSP did not answer (payment.service.Result).
# The page opens even when Redis is down: the queues' part waits this long, then says so.
QUEUES_WITHIN = 3
UNAVAILABLE = ("psp_unavailable", "refund_psp_unavailable")


@dataclass(frozen=True)
class Alert:
    """One thing to act on: what, how many, and where to act."""

    text: str
    count: int
    href: str
    detail: str = ""


def _days(points: list[tuple[date, int]]) -> dict[str, list[Any]]:
    return {"labels": [day.strftime("%d/%m") for day, _ in points], "values": [v for _, v in points]}


async def charts(session: SessionDep, time_zone: str) -> dict[str, dict[str, list[Any]]]:
    """The series the page draws (Chart.js, from npm), as plain JSON; days and hours are the
    operator's (their time zone)."""
    tz = zone(time_zone)

    async def daily(metric: Metric, dimension: str = analytics.TOTAL) -> list[tuple[date, int]]:
        return await analytics.daily(session, metric, DAYS, dimension, tz=tz)

    revenue = await daily(Metric.REVENUE_CENTS, "currency=BRL")
    stars = await daily(Metric.REVENUE_CENTS, "currency=XTR")
    posts = await analytics.hourly(session, Metric.POSTS, HOURS)
    return {
        "revenue": {
            "labels": [day.strftime("%d/%m") for day, _ in revenue],
            "values": [round(v / 100, 2) for _, v in revenue],
            "stars": [v for _, v in stars],
        },
        "purchases": _days(await daily(Metric.PURCHASES_PAID)),
        "buyers": _days(await daily(Metric.NEW_BUYERS)),
        "deactivated": _days(await daily(Metric.GROUPS_DEACTIVATED)),
        "posts": {
            "labels": [f"{p.hour.astimezone(tz):%d/%m %Hh}" for p in posts],
            "values": [p.value for p in posts],
        },
    }


def _finished(job: JobInfo) -> float:
    return job.finished_at.timestamp() if job.finished_at else 0.0


async def _psp_alert(monitor: QueueMonitor) -> Alert | None:
    """The PSP stopped answering: the newest poll of pending charges that asked it anything failed,
    or found it unavailable, and no poll since got an answer (polls run every minute; one that found
    nothing due says nothing either way)."""
    queue = JobName.PIX_POLL.queue
    polls = [
        job
        for state in ("completed", "failed")
        for job in await monitor.jobs(queue, state, 0, 20)
        if job.name == JobName.PIX_POLL
    ]
    for poll in sorted(polls, key=_finished, reverse=True):
        if poll.failed_reason:
            return Alert("PIX provider not answering", 1, "/sales", poll.failed_reason)
        result = poll.result or {}
        unanswered = sum(int(result.get(key, 0)) for key in UNAVAILABLE)
        asked = sum(int(v) for k, v in result.items() if k != "redelivered" and isinstance(v, int))
        if unanswered:
            return Alert("PIX provider not answering", unanswered, "/sales", f"of {asked} charges asked")
        if asked:
            return None
    return None


async def _queue_health(state: AppState) -> tuple[dict[str, dict[str, int]], list[Alert]]:
    """The queues' counts and their alerts; Redis down (or unset) is itself the alert."""
    try:
        monitor = QueueMonitor(state.queues)
        async with asyncio.timeout(QUEUES_WITHIN):
            counts = {queue.value: states for queue, states in (await monitor.counts()).items()}
            psp = await _psp_alert(monitor)
    except TimeoutError:
        return {}, [
            Alert("queues unreachable", 1, "/queues", f"Redis did not answer within {QUEUES_WITHIN} s")
        ]
    except (ConfigError, RedisError, OSError) as error:
        return {}, [Alert("queues unreachable", 1, "/queues", str(getattr(error, "message", error)))]
    failed = Alert("failed jobs", sum(states["failed"] for states in counts.values()), "/queues")
    return counts, [failed] + ([psp] if psp else [])


async def alerts(session: SessionDep, state: AppState) -> tuple[list[Alert], dict[str, dict[str, int]], int]:
    """What to act on, the queues' counts, and the active subscriptions."""
    now_needs = await analytics.attention(session)
    counts, queue_alerts = await _queue_health(state)
    found = [
        *queue_alerts,
        Alert("deactivated groups", now_needs.inactive_groups, "/groups?active=no"),
        Alert("refunds to make", now_needs.refunds_needed, "/sales?flagged=1"),
        Alert(
            "undeletable messages in the last 7 days",
            now_needs.undeletable_last_7_days,
            "/posts?status=undeletable",
        ),
    ]
    return [a for a in found if a.count], counts, now_needs.active_subscriptions


@router.get("/")
async def overview(
    request: Request, session: SessionDep, state: StateDep, operator: ViewerDep
) -> HTMLResponse:
    glance = await analytics.overview(session)
    acting, counts, subscriptions = await alerts(session, state)
    stats = [
        ("Active groups", glance.active_groups),
        ("Creators", glance.creators),
        ("Paid purchases", glance.paid_purchases),
        ("Pending checkouts", glance.pending_checkouts),
        ("Active subscriptions", subscriptions),
    ]
    context = {
        "operator": operator,
        "csrf": request.state.csrf,
        "stats": stats,
        "alerts": acting,
        "counts": counts,
        "charts": await charts(session, operator.time_zone),
    }
    return templates.TemplateResponse(request, "overview.html", context)


@router.get("/overview/attention")
async def attention(
    request: Request, session: SessionDep, state: StateDep, operator: ViewerDep
) -> HTMLResponse:
    """The "act on this" panel alone (the page refreshes it every 30 seconds)."""
    acting, counts, _subscriptions = await alerts(session, state)
    return templates.TemplateResponse(request, "_attention.html", {"alerts": acting, "counts": counts})
