"""Post history in the JSON API: the list, bulk delete, and clearing a group with filters (thin: see
actions.py). Reads need the viewer role, deletes the operator role; calls that change something
carry the session's CSRF token in the `X-CSRF-Token` header. Every refusal is `ErrorRead` JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from tgadmin.errors import ErrorRead
from tgadmin.models.enums import PostKind, PostStatus
from tgadmin.operator.auth import CsrfHeader, OperatorDep, ViewerDep
from tgadmin.post import actions, service
from tgadmin.post.schemas import (
    INT64_MAX,
    ClearCountRead,
    ClearRequest,
    ClearStarted,
    DeleteStarted,
    JobStarted,
    PostPage,
    PostRead,
    PostsDelete,
)
from tgadmin.post.service import MAX_AGE_DAYS
from tgadmin.webkit.deps import QueuesDep, SessionDep, UnitOfWorkDep
from tgadmin.webkit.params import Offset, RowId

_READ_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorRead, "description": "a reversed date range, or a date out of range"},
    401: {"model": ErrorRead, "description": "not logged in"},
}
_ACT_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_READ_REFUSALS,
    400: {"model": ErrorRead, "description": "filters that contradict themselves, or nothing selected"},
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    404: {"model": ErrorRead, "description": "no such group or post"},
    409: {
        "model": ErrorRead,
        "description": "the bot left the group or it is inactive, a post is no longer shown, "
        "or nothing matches",
    },
}

router = APIRouter(prefix="/api/v1", tags=["posts"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/posts", responses=_READ_REFUSALS)
async def list_posts(
    session: SessionDep,
    operator: ViewerDep,
    group_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    status: PostStatus | None = None,
    kind: PostKind | None = None,
    sent_from: Annotated[datetime | None, Query(description="sent at or after")] = None,
    sent_to: Annotated[datetime | None, Query(description="sent at or before")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> PostPage:
    """Post history across groups, newest first: what was sent, deleted, refused and why."""
    where = service.history_filter(
        group_id=group_id, status=status, kind=kind, sent_from=sent_from, sent_to=sent_to
    )
    rows, total = await service.history(session, where, limit=limit, offset=offset)
    return PostPage(items=[PostRead.of(row) for row in rows], total=total, limit=limit, offset=offset)


@router.post("/posts/delete", status_code=status.HTTP_202_ACCEPTED, responses=_ACT_REFUSALS)
async def delete_posts(
    body: PostsDelete,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    queues: QueuesDep,
) -> DeleteStarted:
    """Delete these posts from their chats: one `delete-messages-bulk` job per group. Telegram
    refuses messages older than 48 hours; those end up `undeletable`."""
    queued = await actions.delete_posts(
        work.session, work.after_commit, queues, actions.actor_of(operator, _ip(request)), body.post_ids
    )
    return DeleteStarted(jobs=[JobStarted.of(item) for item in queued])


@router.get("/groups/{group_id}/clear/count", responses=_ACT_REFUSALS)
async def count_clear(
    group_id: RowId,
    session: SessionDep,
    operator: ViewerDep,
    from_date: datetime | None = None,
    to_date: datetime | None = None,
    older_than_days: Annotated[int | None, Query(ge=0, le=MAX_AGE_DAYS)] = None,
    from_message_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    to_message_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
) -> ClearCountRead:
    """What clearing with these filters would delete now, and how many are past Telegram's 48
    hours (those will be marked undeletable instead)."""
    ask = ClearRequest(
        from_date=from_date,
        to_date=to_date,
        older_than_days=older_than_days,
        from_message_id=from_message_id,
        to_message_id=to_message_id,
    ).ask()
    return ClearCountRead.of(await actions.count_clear(session, group_id, ask))


@router.post("/groups/{group_id}/clear", status_code=status.HTTP_202_ACCEPTED, responses=_ACT_REFUSALS)
async def clear_group(
    group_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    queues: QueuesDep,
    body: ClearRequest | None = None,
) -> ClearStarted:
    """Delete what the group still shows of the platform's messages, narrowed by the filters (one
    `clear-all-messages` job). Nothing matching is refused (409), nothing enqueued."""
    queued, counted = await actions.clear_group(
        work.session,
        work.after_commit,
        queues,
        actions.actor_of(operator, _ip(request)),
        group_id,
        (body or ClearRequest()).ask(),
    )
    return ClearStarted(job=JobStarted.of(queued), count=ClearCountRead.of(counted))
