"""Delivery in the JSON API (thin: see service.py).

A `deliver-purchase` job that stopped on a step of unknown outcome (the request to Telegram left
and no answer came) is failed in the queue monitor with a reason naming the step. An operator looks
at the buyer's chat and decides, on that failed job: the step arrived (recorded as done) or it must
be sent again (its ledger mark cleared); either way the job is retried at once and goes on from there.
Reads need the viewer role; the decision the operator role and the session's CSRF token in the
`X-CSRF-Token` header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from tgadmin.audit.service import Actor
from tgadmin.errors import ConfigError, Conflict, ErrorRead, NotFound, ServiceUnavailable
from tgadmin.operator.auth import CsrfHeader, OperatorDep, ViewerDep
from tgadmin.purchase import repository, service
from tgadmin.purchase.schemas import StepDecisionIn, StepDecisionRead, UnknownStepRead
from tgadmin.queue.client import Queues
from tgadmin.queue.monitor import QueueMonitor
from tgadmin.queue.names import JobName, QueueName
from tgadmin.telegram.ledger import SendLedger
from tgadmin.webkit.deps import SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.flash import Flash

router = APIRouter(prefix="/api/v1", tags=["delivery"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in"},
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    404: {"model": ErrorRead, "description": "no such job"},
    409: {"model": ErrorRead, "description": "the job is not a failed delivery with a step in doubt"},
    503: {"model": ErrorRead, "description": "Redis did not answer"},
}


async def monitor(state: StateDep) -> AsyncIterator[QueueMonitor]:
    try:
        queues = Queues(state.settings)
    except ConfigError as error:
        raise ServiceUnavailable(f"the queues cannot be reached: {error.message}") from error
    try:
        yield QueueMonitor(queues)
    finally:
        await queues.close()


MonitorDep = Annotated[QueueMonitor, Depends(monitor)]


@router.get("/deliveries/unknown-steps", responses=_REFUSALS)
async def unknown_steps(
    session: SessionDep, operator: ViewerDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[UnknownStepRead]:
    """Purchases whose delivery stopped on a step of unknown outcome, waiting for a decision."""
    found = await repository.awaiting_decision(session, limit)
    return [
        UnknownStepRead(purchase_id=p.id, step=p.delivery_step_unknown or "", since=p.updated_at)
        for p in found
    ]


@router.post("/queues/bot-tasks/jobs/{job_id}/delivery-step", responses=_REFUSALS)
async def decide_delivery_step(
    job_id: str,
    body: StepDecisionIn,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    jobs: MonitorDep,
) -> StepDecisionRead:
    """The operator's decision about the step in doubt of a failed `deliver-purchase` job; the job
    is retried at once (a step that arrived is not sent again; one to send again is sent once)."""
    job = await jobs.get(QueueName.BOT_TASKS, job_id)
    purchase_id = job.data.get("purchaseId")
    if job.name != JobName.DELIVER_PURCHASE.value or not isinstance(purchase_id, int):
        raise NotFound(f"job {job_id} is not a deliver-purchase job")
    if await jobs.state(QueueName.BOT_TASKS, job_id) != "failed":
        raise Conflict(f"job {job_id} has not failed: only a stopped delivery is decided on")
    if state.redis is None:
        raise ServiceUnavailable("no Redis configured: the step's send record cannot be cleared")
    actor = Actor.operator(operator.id, operator.email)
    step = await service.resolve_unknown_step(work.session, purchase_id, body.decision, actor)
    # Once decided in the database (what delivery reads first), the Redis mark goes too, so that
    # "send again" does not find the old "pending" and stop once more; then the job is retried.
    ledger = SendLedger(state.redis, state.settings.redis_prefix, service.step_key(purchase_id, step))
    work.after_commit.add(ledger.forget)
    work.after_commit.add(partial(jobs.retry, QueueName.BOT_TASKS, job_id))
    return StepDecisionRead(
        purchase_id=purchase_id,
        step=step,
        decision=body.decision,
        job_id=job_id,
        message=step_decided(purchase_id, step, body.decision).render("en"),
    )


def step_decided(purchase_id: int, step: str, decision: service.StepDecision) -> Flash:
    """What a decision on a step in doubt did, to be said in the operator's language."""
    said = (
        "delivery step %(step)s of purchase %(purchase)s recorded as arrived; the delivery job is retried"
        if decision is service.StepDecision.ARRIVED
        else "delivery step %(step)s of purchase %(purchase)s to be sent again; the delivery job is retried"
    )
    return Flash(said, step=step, purchase=purchase_id)
