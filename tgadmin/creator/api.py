"""Creators in the JSON API (thin: rules in service.py and media.py).

Reads need the viewer role; every change the operator role (admins may everything). Calls that
change something carry the session's CSRF token in the `X-CSRF-Token` header. Every refusal is
`ErrorRead` JSON. Preview uploads are multipart (`file`), images only, at most 10 MB.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile, status
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.creator import media, repository, service
from tgadmin.creator.enqueue import enqueue_promo
from tgadmin.creator.jobs import deep_link
from tgadmin.creator.schemas import (
    CreatorCreate,
    CreatorDetail,
    CreatorPage,
    CreatorRead,
    CreatorUpdate,
    CropBox,
    PreviewOrder,
    PreviewRead,
    ProductRow,
    PromoRead,
    PromoRequest,
)
from tgadmin.errors import ErrorRead, PayloadTooLarge
from tgadmin.models import Creator, MediaAsset
from tgadmin.operator.auth import CsrfHeader, OperatorDep, ViewerDep
from tgadmin.storage import get_storage
from tgadmin.telegram import bots
from tgadmin.webkit.deps import SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.params import PLAIN_TEXT, Offset, RowId

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in"},
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    404: {"model": ErrorRead, "description": "no such creator (or preview)"},
}
_CHANGE_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_REFUSALS,
    400: {"model": ErrorRead, "description": "bad input: not an image, a crop box outside the image..."},
    409: {"model": ErrorRead, "description": "a username already taken, or not possible in this state"},
}
_UPLOAD_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_CHANGE_REFUSALS,
    413: {"model": ErrorRead, "description": f"the file is larger than {media.MAX_UPLOAD_TEXT}"},
}

router = APIRouter(prefix="/api/v1", tags=["creators"])


def preview_url(creator_id: int, asset: MediaAsset) -> str:
    # The address changes with the picture and its crop, so a browser never shows an old framing.
    crop = asset.crop
    framing = "-".join(str(crop[key]) for key in ("x", "y", "width", "height")) if crop else "whole"
    version = f"{asset.sha256[:12]}-{framing}"
    return f"/creators/{creator_id}/previews/{asset.id}.jpg?v={version}"


def preview_read(creator_id: int, asset: MediaAsset, position: int) -> PreviewRead:
    return PreviewRead(
        asset_id=asset.id,
        position=position,
        content_type=asset.content_type,
        size_bytes=asset.size_bytes,
        width=asset.width,
        height=asset.height,
        sha256=asset.sha256,
        crop=CropBox.model_validate(asset.crop) if asset.crop else None,
        url=preview_url(creator_id, asset),
    )


def creator_read(creator: Creator) -> CreatorRead:
    return CreatorRead.model_validate(creator, from_attributes=True)


async def previews_read(session: AsyncSession, creator_id: int) -> list[PreviewRead]:
    rows = await repository.preview_rows(session, creator_id)
    return [preview_read(creator_id, asset, index) for index, (asset, _position) in enumerate(rows)]


async def creator_detail(session: AsyncSession, creator: Creator) -> CreatorDetail:
    products = await repository.products_of(session, creator.id)
    active = await bots.active_bots(session)
    return CreatorDetail(
        **creator_read(creator).model_dump(),
        previews=await previews_read(session, creator.id),
        products=[ProductRow.model_validate(p, from_attributes=True) for p in products],
        deep_link=deep_link(active[0].username, creator.id) if active else None,
    )


async def read_upload(request: Request, file: UploadFile) -> bytes:
    """The uploaded bytes, refused as soon as they pass the limit (the stated size first)."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > media.MAX_UPLOAD_BYTES + 64 * 1024 or (file.size or 0) > media.MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the file is larger than {media.MAX_UPLOAD_TEXT}; upload a smaller image")
    return await file.read(media.MAX_UPLOAD_BYTES + 1)


@router.get("/creators", responses=_REFUSALS)
async def list_creators(
    session: SessionDep,
    operator: ViewerDep,
    q: Annotated[
        str, Query(max_length=100, pattern=PLAIN_TEXT, description="part of the name or username")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> CreatorPage:
    """Creators (active or not) by name."""
    rows, total = await repository.search_page(session, q.strip(), offset=offset, limit=limit)
    return CreatorPage(items=[creator_read(c) for c in rows], total=total, limit=limit, offset=offset)


@router.post("/creators", status_code=status.HTTP_201_CREATED, responses=_CHANGE_REFUSALS)
async def create_creator(
    body: CreatorCreate, work: UnitOfWorkDep, operator: OperatorDep, _csrf: CsrfHeader
) -> CreatorRead:
    creator = await service.create(work.session, body, service.actor_of(operator))
    return creator_read(creator)


@router.get("/creators/{creator_id}", responses=_REFUSALS)
async def get_creator(creator_id: RowId, session: SessionDep, operator: ViewerDep) -> CreatorDetail:
    """The creator with previews, products and deep link."""
    return await creator_detail(session, await service.get_creator(session, creator_id))


@router.patch("/creators/{creator_id}", responses=_CHANGE_REFUSALS)
async def update_creator(
    creator_id: RowId, body: CreatorUpdate, work: UnitOfWorkDep, operator: OperatorDep, _csrf: CsrfHeader
) -> CreatorRead:
    """Change the fields given; `is_active` false deactivates (buyers no longer see the creator)."""
    creator = await service.get_creator(work.session, creator_id)
    return creator_read(await service.update(work.session, creator, body, service.actor_of(operator)))


@router.post(
    "/creators/{creator_id}/previews", status_code=status.HTTP_201_CREATED, responses=_UPLOAD_REFUSALS
)
async def upload_preview(
    creator_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP image, at most 10 MB")],
) -> PreviewRead:
    """Add a preview photo at the end of the creator's previews."""
    creator = await service.get_creator(work.session, creator_id)
    data = await read_upload(request, file)
    storage = get_storage(state.settings)
    asset = await media.upload(work.session, storage, creator, data, service.actor_of(operator))
    count = len(await repository.preview_asset_ids(work.session, creator.id))
    return preview_read(creator.id, asset, count - 1)


@router.put("/creators/{creator_id}/previews/order", responses=_CHANGE_REFUSALS)
async def order_previews(
    creator_id: RowId, body: PreviewOrder, work: UnitOfWorkDep, operator: OperatorDep, _csrf: CsrfHeader
) -> list[PreviewRead]:
    """Put the previews in this order (each of them once); the bot shows them so."""
    creator = await service.get_creator(work.session, creator_id)
    await media.reorder(work.session, creator, body.asset_ids, service.actor_of(operator))
    return await previews_read(work.session, creator.id)


@router.put("/creators/{creator_id}/previews/{asset_id}/crop", responses=_CHANGE_REFUSALS)
async def crop_preview(
    creator_id: RowId,
    asset_id: RowId,
    body: CropBox,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> PreviewRead:
    """Crop what buyers receive to this box (pixels of the original, which is kept)."""
    creator = await service.get_creator(work.session, creator_id)
    await media.set_crop(work.session, creator, asset_id, body, service.actor_of(operator))
    return await _one_preview(work.session, creator.id, asset_id)


@router.delete("/creators/{creator_id}/previews/{asset_id}/crop", responses=_CHANGE_REFUSALS)
async def uncrop_preview(
    creator_id: RowId, asset_id: RowId, work: UnitOfWorkDep, operator: OperatorDep, _csrf: CsrfHeader
) -> PreviewRead:
    """Send the whole picture again."""
    creator = await service.get_creator(work.session, creator_id)
    await media.set_crop(work.session, creator, asset_id, None, service.actor_of(operator))
    return await _one_preview(work.session, creator.id, asset_id)


async def _one_preview(session: AsyncSession, creator_id: int, asset_id: int) -> PreviewRead:
    return next(p for p in await previews_read(session, creator_id) if p.asset_id == asset_id)


@router.delete(
    "/creators/{creator_id}/previews/{asset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_CHANGE_REFUSALS,
)
async def delete_preview(
    creator_id: RowId,
    asset_id: RowId,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> Response:
    creator = await service.get_creator(work.session, creator_id)
    storage = get_storage(state.settings)
    actor = service.actor_of(operator)
    await media.remove(work.session, storage, work.after_commit, creator, asset_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/creators/{creator_id}/promo",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_CHANGE_REFUSALS, 503: {"model": ErrorRead, "description": "the queue did not answer"}},
)
async def send_promo(
    creator_id: RowId,
    body: PromoRequest,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> PromoRead:
    """Queue the `send-promo` job: the creator's first preview, a caption and the deep link button."""
    creator = await service.get_creator(work.session, creator_id)
    job_id = await service.request_promo(work.session, creator, body.group_id, service.actor_of(operator))
    await work.checkpoint()  # the worker must find the request committed
    queued = await enqueue_promo(state.settings, creator_id, body.group_id, job_id)
    message = f"promo queued as job {queued}; the worker posts it"
    return PromoRead(job_id=queued, creator_id=creator_id, group_id=body.group_id, message=message)
