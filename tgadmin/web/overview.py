"""The overview page: the business at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from tgadmin.models import Creator, Group, Purchase
from tgadmin.models.enums import PurchaseStatus
from tgadmin.operator.auth import ViewerDep
from tgadmin.webkit.deps import SessionDep
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/")
async def overview(request: Request, session: SessionDep, operator: ViewerDep) -> HTMLResponse:
    async def count(query: object) -> int:
        return int((await session.execute(query)).scalar_one())  # type: ignore[call-overload]

    stats = [
        (
            "Active groups",
            await count(select(func.count()).select_from(Group).where(Group.is_active.is_(True))),
        ),
        ("Creators", await count(select(func.count()).select_from(Creator))),
        (
            "Paid purchases",
            await count(
                select(func.count())
                .select_from(Purchase)
                .where(Purchase.status.in_([PurchaseStatus.PAID, PurchaseStatus.COMPLETED]))
            ),
        ),
        (
            "Pending checkouts",
            await count(
                select(func.count()).select_from(Purchase).where(Purchase.status == PurchaseStatus.PENDING)
            ),
        ),
    ]
    return templates.TemplateResponse(
        request, "overview.html", {"operator": operator, "csrf": request.state.csrf, "stats": stats}
    )
