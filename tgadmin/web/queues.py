"""The queue monitor page: counts per state per queue (a fragment refreshed every few seconds),
failed jobs with their error, the deliveries stopped on a step of unknown outcome waiting for the
operator's decision, and the operator's buttons (retry, retry all, remove, decide). The actions are
the JSON API's (queues_api.py, purchase/api.py), posted as forms with the session's CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tgadmin.errors import TgadminError
from tgadmin.operator.auth import OperatorDep, ViewerDep, check_csrf
from tgadmin.purchase import api as purchase_api
from tgadmin.purchase import repository as purchases
from tgadmin.purchase.schemas import StepDecisionIn
from tgadmin.purchase.service import StepDecision
from tgadmin.queue import heartbeat
from tgadmin.queue.client import Queues
from tgadmin.queue.monitor import JobInfo, QueueMonitor
from tgadmin.queue.names import JobName, QueueName
from tgadmin.web.queues_api import remove_job, retry_all, retry_job
from tgadmin.webkit.deps import AppState, QueuesDep, SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

FAILED_SHOWN = 50
# How many failed deliveries are searched for the job of a purchase waiting for a decision.
DELIVERIES_SEARCHED = 500


@dataclass(frozen=True)
class Undecided:
    """A purchase whose delivery stopped on a step of unknown outcome, and its failed job if found."""

    purchase_id: int
    step: str
    since: Any
    job: JobInfo | None


async def _undecided(
    session: SessionDep, monitor: QueueMonitor
) -> tuple[list[Undecided], list[JobInfo] | None]:
    """The deliveries waiting for a decision, and the failed bot-tasks jobs searched for theirs (the
    page shows the first of them rather than asking Redis for them again), None when not searched."""
    waiting = await purchases.awaiting_decision(session, 50)
    if not waiting:
        return [], None
    failed = await monitor.failed(QueueName.BOT_TASKS, 0, DELIVERIES_SEARCHED)
    jobs = {job.data.get("purchaseId"): job for job in failed if job.name == JobName.DELIVER_PURCHASE.value}
    return [
        Undecided(p.id, p.delivery_step_unknown or "", p.updated_at, jobs.get(p.id)) for p in waiting
    ], failed


async def _counts(queues: Queues) -> dict[QueueName, dict[str, int]]:
    return await QueueMonitor(queues, shared=True).counts()


async def _workers(queues: Queues, state: AppState) -> list[heartbeat.WorkerBeat]:
    """The workers alive, read at most once a second for all the pages, like the counts."""
    redis, prefix = state.redis, state.settings.redis_prefix
    if redis is None:
        return []
    return await queues.recent.get(("workers",), lambda: heartbeat.alive(redis, prefix))


@router.get("/queues")
async def queues_page(
    request: Request, session: SessionDep, queues: QueuesDep, state: StateDep, operator: ViewerDep
) -> HTMLResponse:
    # Open on many screens and refreshed every few seconds: one read of Redis a second serves them.
    monitor = QueueMonitor(queues, shared=True)
    undecided, searched = await _undecided(session, monitor)
    failed = {
        name: searched[:FAILED_SHOWN]
        if searched is not None and name is QueueName.BOT_TASKS
        else await monitor.failed(name, 0, FAILED_SHOWN)
        for name in QueueName
    }
    response = templates.TemplateResponse(
        request,
        "queues.html",
        {
            "operator": operator,
            "csrf": request.state.csrf,
            "counts": await monitor.counts(),
            "failed": failed,
            "undecided": undecided,
            "workers": await _workers(queues, state),
            "worker_ttl": heartbeat.TTL_SECONDS,
            "can_act": operator.role.value in ("operator", "admin"),
            "flash": read_flash(request),
        },
    )
    drop_flash(request, response, path="/queues")
    return response


@router.get("/queues/counts")
async def counts_fragment(request: Request, queues: QueuesDep, operator: ViewerDep) -> HTMLResponse:
    """The counts table alone; the page asks for it again every 3 seconds (htmx)."""
    return templates.TemplateResponse(request, "_queue_counts.html", {"counts": await _counts(queues)})


def _back(message: Flash | str, *, ok: bool) -> RedirectResponse:
    return redirect_with("/queues", message, ok=ok, path="/queues")


@router.post("/queues/{queue}/jobs/{job_id}/retry")
async def retry_page(
    queue: str,
    job_id: str,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        message = await retry_job(work.session, QueueMonitor(queues), operator, queue, job_id)
    except TgadminError as error:
        return _back(error.message, ok=False)
    return _back(message, ok=True)


@router.post("/queues/{queue}/retry-all")
async def retry_all_page(
    queue: str,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        count = await retry_all(work.session, QueueMonitor(queues), operator, queue)
    except TgadminError as error:
        return _back(error.message, ok=False)
    return _back(
        Flash("%(count)s failed job(s) of %(queue)s queued again", count=count, queue=queue), ok=True
    )


@router.post("/queues/{queue}/jobs/{job_id}/remove")
async def remove_page(
    queue: str,
    job_id: str,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        message = await remove_job(work.session, QueueMonitor(queues), operator, queue, job_id)
    except TgadminError as error:
        return _back(error.message, ok=False)
    return _back(message, ok=True)


@router.post("/queues/bot-tasks/jobs/{job_id}/delivery-step")
async def decide_page(
    job_id: str,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """The operator's decision on a delivery step in doubt: the JSON API's own handler decides."""
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        body = StepDecisionIn(decision=StepDecision(decision))
    except ValueError:
        return _back(Flash("no decision '%(decision)s': arrived or send_again", decision=decision), ok=False)
    try:
        decided = await purchase_api.decide_delivery_step(
            job_id, body, work, state, operator, None, QueueMonitor(queues)
        )
    except TgadminError as error:
        return _back(error.message, ok=False)
    return _back(purchase_api.step_decided(decided.purchase_id, decided.step, decided.decision), ok=True)
