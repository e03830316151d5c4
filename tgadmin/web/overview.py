"""The overview page: the business at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tgadmin.analytics import service as analytics_service
from tgadmin.operator.auth import ViewerDep
from tgadmin.webkit.deps import SessionDep
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/")
async def overview(request: Request, session: SessionDep, operator: ViewerDep) -> HTMLResponse:
    glance = await analytics_service.overview(session)
    stats = [
        ("Active groups", glance.active_groups),
        ("Creators", glance.creators),
        ("Paid purchases", glance.paid_purchases),
        ("Pending checkouts", glance.pending_checkouts),
    ]
    return templates.TemplateResponse(
        request, "overview.html", {"operator": operator, "csrf": request.state.csrf, "stats": stats}
    )
