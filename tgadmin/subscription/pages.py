"""The Subscriptions page: tabs active / expiring within 7 days / expired, paginated on the server
(thin: the rows are the JSON API's, api.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tgadmin.errors import BadRequest
from tgadmin.operator.auth import ViewerDep
from tgadmin.subscription.api import View, subscription_page
from tgadmin.webkit.deps import SessionDep
from tgadmin.webkit.params import PageNumber
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


def _view(text: str) -> View:
    try:
        return View(text)
    except ValueError:
        raise BadRequest(f"no view {text!r}; views: {', '.join(View)}") from None


@router.get("/subscriptions")
async def subscriptions(
    request: Request, session: SessionDep, operator: ViewerDep, view: str = "active", page: PageNumber = 1
) -> HTMLResponse:
    chosen = _view(view)
    listing = await subscription_page(session, chosen, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    context = {
        "operator": operator,
        "csrf": request.state.csrf,
        "listing": listing,
        "views": list(View),
        "page": page,
        "pages": max((listing.total + PER_PAGE - 1) // PER_PAGE, 1),
    }
    return templates.TemplateResponse(request, "subscriptions.html", context)
