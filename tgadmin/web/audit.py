"""The audit log: a page and its JSON twin, filtered by actor, action, entity and date, newest first,
each entry's before and after shown as a diff (the keys that changed marked).

Top floor, not audit/: the operator domain records its own mutations through audit, so audit cannot
import operator's role checks back. Dates are days in Brasília time (the operators' clock).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from tgadmin.audit.repository import AuditFilter, page
from tgadmin.clock import zone
from tgadmin.errors import BadRequest, ErrorRead, TgadminError
from tgadmin.models import AuditLog
from tgadmin.operator.auth import ViewerDep
from tgadmin.webkit.deps import SessionDep
from tgadmin.webkit.params import INT64_MAX, PLAIN_TEXT, FilterText
from tgadmin.webkit.templating import templates

PER_PAGE = 50
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["audit"])
Text = FilterText
Before = Annotated[int | None, Query(ge=1, le=INT64_MAX, description="show entries older than this id")]


class ChangeRead(BaseModel):
    key: str
    before: Any = None
    after: Any = None
    changed: bool


class AuditEntryRead(BaseModel):
    id: int
    created_at: datetime
    actor_type: str
    actor_id: str | None
    actor_label: str | None
    action: str
    entity_type: str
    entity_id: str | None
    ip: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changes: list[ChangeRead]

    @classmethod
    def of(cls, row: AuditLog) -> AuditEntryRead:
        return cls(
            id=row.id,
            created_at=row.created_at,
            actor_type=row.actor_type.value,
            actor_id=row.actor_id,
            actor_label=row.actor_label,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            ip=row.ip,
            before=row.before,
            after=row.after,
            changes=diff(row.before, row.after),
        )


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    # Pass as `before` for the next (older) page; null on the last page.
    next_before: int | None


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[ChangeRead]:
    """Every key of either side, sorted (JSONB keeps no order), with whether its value changed."""
    old, new = before or {}, after or {}
    keys = sorted({*old, *new})
    return [
        ChangeRead(key=k, before=old.get(k), after=new.get(k), changed=old.get(k) != new.get(k)) for k in keys
    ]


def day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{field}: {text!r} is not a date like 2026-11-30") from None


def audit_filter(
    actor: str, action: str, entity_type: str, entity_id: str, since: str, until: str, time_zone: str
) -> AuditFilter:
    """Days are the operator's (their time zone)."""
    first, last = day(since, "from"), day(until, "to")
    tz = zone(time_zone)
    if first and last and first > last:
        raise BadRequest(f"from {first} is after to {last}")
    return AuditFilter(
        actor=actor.strip() or None,
        action=action.strip() or None,
        entity_type=entity_type.strip() or None,
        entity_id=entity_id.strip() or None,
        since=None if first is None else datetime.combine(first, time(), tz),
        until=None if last is None else datetime.combine(last + timedelta(days=1), time(), tz),
    )


async def audit_page(session: SessionDep, wanted: AuditFilter, before: int | None, limit: int) -> AuditPage:
    rows = await page(session, wanted, before=before, limit=limit)
    shown = rows[:limit]
    more = len(rows) > limit
    return AuditPage(items=[AuditEntryRead.of(r) for r in shown], next_before=shown[-1].id if more else None)


@api.get(
    "/audit",
    responses={
        400: {"model": ErrorRead, "description": "a date that is not YYYY-MM-DD, or from after to"},
        401: {"model": ErrorRead, "description": "not logged in"},
    },
)
async def list_audit(
    session: SessionDep,
    operator: ViewerDep,
    actor: Text = "",
    action: Annotated[
        str, Query(max_length=200, pattern=PLAIN_TEXT, description='exact, or a prefix ending in "*"')
    ] = "",
    entity_type: Text = "",
    entity_id: Text = "",
    date_from: Annotated[str, Query(alias="from", max_length=40, description="YYYY-MM-DD")] = "",
    date_to: Annotated[str, Query(alias="to", max_length=40, description="YYYY-MM-DD, inclusive")] = "",
    before: Before = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PER_PAGE,
) -> AuditPage:
    """Audit entries, newest first, with each one's changed keys."""
    wanted = audit_filter(actor, action, entity_type, entity_id, date_from, date_to, operator.time_zone)
    return await audit_page(session, wanted, before, limit)


@pages.get("/audit")
async def audit_log_page(
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    actor: Text = "",
    action: Text = "",
    entity_type: Text = "",
    entity_id: Text = "",
    date_from: Annotated[str, Query(alias="from", max_length=40)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=40)] = "",
    before: Before = None,
) -> HTMLResponse:
    query = {
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "from": date_from,
        "to": date_to,
    }
    error, listing = None, AuditPage(items=[], next_before=None)
    try:
        wanted = audit_filter(actor, action, entity_type, entity_id, date_from, date_to, operator.time_zone)
        listing = await audit_page(session, wanted, before, PER_PAGE)
    except TgadminError as refused:
        error = refused.message
    context = {
        "operator": operator,
        "csrf": request.state.csrf,
        "listing": listing,
        "query": query,
        "kept": {key: value for key, value in query.items() if value},
        "error": error,
        "paged": before is not None,
    }
    return templates.TemplateResponse(request, "audit.html", context, status_code=400 if error else 200)
