"""Groups in the JSON API (thin: the rules are in actions.py, shared with the pages).

Reads need the viewer role; syncing, changing a group's settings, uploading a photo and sending a
message the operator role, with the session's CSRF token in the `X-CSRF-Token` header. Actions that
run as jobs answer 202 with the job to follow at GET /api/v1/jobs/{queue}/{job_id}.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile, status

from tgadmin.errors import ErrorRead
from tgadmin.group import actions
from tgadmin.group.repository import GroupFilter
from tgadmin.group.schemas import (
    GroupPage,
    GroupRead,
    GroupUpdate,
    JobStarted,
    MessageCreate,
    PhotoRead,
    PreviewRead,
)
from tgadmin.operator.auth import CsrfHeader, OperatorDep, ViewerDep
from tgadmin.storage import get_storage
from tgadmin.webkit.deps import QueuesDep, SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.params import INT64_MAX, PLAIN_TEXT, Offset, RowId

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in"},
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    404: {"model": ErrorRead, "description": "no such group"},
}
_ACTION_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_REFUSALS,
    409: {"model": ErrorRead, "description": "the bot has left the group, or the group is inactive"},
    422: {"model": ErrorRead, "description": "the fields are malformed (formatting, buttons, caption)"},
}
TitleSearch = Annotated[
    str | None, Query(max_length=255, pattern=PLAIN_TEXT, description="part of the title, any case")
]

router = APIRouter(prefix="/api/v1", tags=["groups"])


@router.get("/groups", responses=_REFUSALS)
async def list_groups(
    session: SessionDep,
    operator: ViewerDep,
    active: bool | None = None,
    admin: Annotated[bool | None, Query(description="the bot is an administrator (or not)")] = None,
    missing_rights: Annotated[bool, Query(description="only where the bot lacks a right we use")] = False,
    q: TitleSearch = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> GroupPage:
    """Groups, newest first."""
    where = GroupFilter(active=active, admin=admin, missing_rights=missing_rights, title=q)
    rows, total = await actions.list_groups(session, where, limit=limit, offset=offset)
    return GroupPage(items=[GroupRead.of(g) for g in rows], total=total, limit=limit, offset=offset)


@router.get("/groups/{group_id}", responses=_REFUSALS)
async def get_group(group_id: RowId, session: SessionDep, operator: ViewerDep) -> GroupRead:
    return GroupRead.of(await actions.load(session, group_id))


@router.patch("/groups/{group_id}", responses=_ACTION_REFUSALS)
async def update_group(
    group_id: RowId, change: GroupUpdate, work: UnitOfWorkDep, operator: OperatorDep, _csrf: CsrfHeader
) -> GroupRead:
    """Activate or deactivate the group, set its cooldown (audited)."""
    return GroupRead.of(await actions.update(work.session, operator, group_id, change))


@router.post("/groups/sync", status_code=status.HTTP_202_ACCEPTED, responses=_REFUSALS)
async def sync_all_groups(
    work: UnitOfWorkDep,
    queues: QueuesDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    bot_id: Annotated[int | None, Query(ge=1, le=INT64_MAX, description="only this bot's groups")] = None,
) -> JobStarted:
    """Refresh every active group from Telegram (a `sync-groups` job)."""
    return await actions.sync_all(work.session, work.after_commit, queues, operator, bot_id=bot_id)


@router.post("/groups/{group_id}/sync", status_code=status.HTTP_202_ACCEPTED, responses=_ACTION_REFUSALS)
async def sync_group(
    group_id: RowId, work: UnitOfWorkDep, queues: QueuesDep, operator: OperatorDep, _csrf: CsrfHeader
) -> JobStarted:
    """Refresh this group's facts and the bot's rights from Telegram (a `sync-single-group` job)."""
    return await actions.sync_one(work.session, work.after_commit, queues, operator, group_id)


@router.post("/groups/{group_id}/messages/preview", responses=_ACTION_REFUSALS)
async def preview_message(
    group_id: RowId, message: MessageCreate, session: SessionDep, operator: OperatorDep, _csrf: CsrfHeader
) -> PreviewRead:
    """The message checked as Telegram will check it, and its body as Telegram will show it."""
    await actions.load(session, group_id)
    return await actions.preview(session, message)


@router.post("/groups/{group_id}/messages", status_code=status.HTTP_202_ACCEPTED, responses=_ACTION_REFUSALS)
async def send_message(
    group_id: RowId,
    message: MessageCreate,
    work: UnitOfWorkDep,
    queues: QueuesDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> JobStarted:
    """Post the message to the group (a `send-message` job, sent once whatever happens)."""
    return await actions.send(work.session, work.after_commit, queues, operator, group_id, message)


@router.post(
    "/groups/photos",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_REFUSALS,
        400: {"model": ErrorRead, "description": "not a JPEG, PNG or WebP photo"},
        413: {"model": ErrorRead, "description": "larger than Telegram's 10 MB for photos"},
    },
)
async def upload_photo(
    photo: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 10 MB")],
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> PhotoRead:
    """Keep a photo for a message (`photo_asset_id` of MessageCreate)."""
    data = await photo.read(actions.PHOTO_LIMIT_BYTES + 1)
    asset = await actions.store_photo(work.session, get_storage(state.settings), operator, data)
    return PhotoRead(
        asset_id=asset.id,
        content_type=asset.content_type,
        size_bytes=asset.size_bytes,
        width=asset.width,
        height=asset.height,
    )
