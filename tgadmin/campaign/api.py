"""Campaigns in the JSON API: list, detail with each group's outcome, the target count, create,
pause, resume and cancel (thin: see actions.py). Reads need the viewer role, the rest the operator
role; calls that change something carry the session's CSRF token in the `X-CSRF-Token` header
(Bearer API tokens need none). Every refusal is `ErrorRead` JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from tgadmin.campaign import actions, repository, service
from tgadmin.campaign.schemas import (
    CampaignCreate,
    CampaignDetail,
    CampaignPage,
    CampaignRead,
    TargetCount,
    TargetRead,
)
from tgadmin.errors import ErrorRead
from tgadmin.operator.auth import CsrfHeader, OperatorDep, ViewerDep
from tgadmin.webkit.deps import QueuesDep, SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.params import Offset, RowId

_READ_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in"},
    404: {"model": ErrorRead, "description": "no such campaign"},
}
_ACT_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_READ_REFUSALS,
    400: {
        "model": ErrorRead,
        "description": "a time in the past, no group matching, a repeat faster than a group's "
        "cooldown, media missing from the library",
    },
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    409: {
        "model": ErrorRead,
        "description": "the campaign's status does not allow it (or changed meanwhile)",
    },
}

router = APIRouter(prefix="/api/v1", tags=["campaigns"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/campaigns", responses=_READ_REFUSALS)
async def list_campaigns(
    session: SessionDep,
    operator: ViewerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> CampaignPage:
    """Campaigns, newest first, with status and outcome counters."""
    items, total = await repository.page(session, limit=limit, offset=offset)
    return CampaignPage(items=[CampaignRead.of(c) for c in items], total=total, limit=limit, offset=offset)


@router.get("/campaigns/{campaign_id}", responses=_READ_REFUSALS)
async def get_campaign(campaign_id: RowId, session: SessionDep, operator: ViewerDep) -> CampaignDetail:
    """The campaign and each group's outcome: sent (with the message), pending, failed (with the
    reason) or deleted."""
    found = await actions.progress(session, campaign_id)
    targets = [
        TargetRead(
            group_id=t.group_id,
            group_title=t.title,
            status=t.status.value,
            message_id=t.message_id,
            reason=t.reason,
        )
        for t in found.targets
    ]
    return CampaignDetail(**CampaignRead.of(found.campaign).model_dump(), targets=targets)


@router.post("/campaigns/count", responses=_ACT_REFUSALS)
async def count_targets(body: CampaignCreate, session: SessionDep, operator: ViewerDep) -> TargetCount:
    """How many groups this campaign would reach now (nothing is created)."""
    return TargetCount(groups=await service.count_targets(session, body))


@router.post("/campaigns", status_code=status.HTTP_201_CREATED, responses=_ACT_REFUSALS)
async def create_campaign(
    body: CampaignCreate,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    queues: QueuesDep,
) -> CampaignRead:
    """Create and schedule a campaign (`scheduled_at` absent: now). A filter is resolved to its
    groups now; buttons with a `creator_id` become the creator's deep link with the campaign as
    source; `repeat_daily_at` is in `repeat_timezone`, else in the caller's own time zone."""
    actor = actions.actor_of(operator, _ip(request))
    data = actions.in_zone_of(body, operator)
    campaign = await actions.create(work.session, work.after_commit, queues, actor, data)
    return CampaignRead.of(campaign)


@router.post("/campaigns/{campaign_id}/pause", responses=_ACT_REFUSALS)
async def pause_campaign(
    campaign_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    state: StateDep,
    _csrf: CsrfHeader,
) -> CampaignRead:
    """Stop sending: posts already queued check the status right before their Telegram call."""
    return CampaignRead.of(
        await actions.pause(
            work.session, work.after_commit, state, actions.actor_of(operator, _ip(request)), campaign_id
        )
    )


@router.post("/campaigns/{campaign_id}/resume", responses=_ACT_REFUSALS)
async def resume_campaign(
    campaign_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    state: StateDep,
    _csrf: CsrfHeader,
) -> CampaignRead:
    """Send the posts still pending of a paused campaign."""
    actor = actions.actor_of(operator, _ip(request))
    return CampaignRead.of(await actions.resume(work.session, work.after_commit, state, actor, campaign_id))


@router.post("/campaigns/{campaign_id}/cancel", responses=_ACT_REFUSALS)
async def cancel_campaign(
    campaign_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    state: StateDep,
    _csrf: CsrfHeader,
) -> CampaignRead:
    """Stop for good: groups not yet posted to are failed with the reason."""
    return CampaignRead.of(
        await actions.cancel(
            work.session, work.after_commit, state, actions.actor_of(operator, _ip(request)), campaign_id
        )
    )
