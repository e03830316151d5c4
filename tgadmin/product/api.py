"""Products in the JSON API (thin: the rules are in service.py, the same as the pages').

Reads need the viewer role, changes the operator role (admins may do everything). Calls that change
something carry the session's CSRF token in the `X-CSRF-Token` header. Every refusal is `ErrorRead`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile, status

from tgadmin.audit.service import Actor
from tgadmin.errors import ErrorRead, TgadminError
from tgadmin.models import Operator
from tgadmin.models.enums import ProductType
from tgadmin.operator.auth import CsrfHeader, OperatorDep, ViewerDep
from tgadmin.product import media as files
from tgadmin.product import service
from tgadmin.product.schemas import (
    MediaOrder,
    PreviewSet,
    ProductCreate,
    ProductDetail,
    ProductPage,
    ProductUpdate,
    UploadRead,
)
from tgadmin.storage import get_storage
from tgadmin.webkit.deps import SessionDep, StateDep, UnitOfWork, UnitOfWorkDep
from tgadmin.webkit.params import Offset, RowId

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in"},
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    404: {"model": ErrorRead, "description": "no such product, creator or file"},
}
_CHANGE_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_REFUSALS,
    422: {"model": ErrorRead, "description": "a field is invalid (price, days, access chat...)"},
}
_UPLOAD_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_CHANGE_REFUSALS,
    409: {
        "model": ErrorRead,
        "description": "the same new file was being stored by another upload; try again",
    },
    413: {"model": ErrorRead, "description": f"a file is too large: {files.LIMITS_TEXT}"},
    503: {"model": ErrorRead, "description": "the file storage did not answer; nothing was saved"},
}

router = APIRouter(prefix="/api/v1", tags=["products"])
Limit = Annotated[int, Query(ge=1, le=200)]


def actor_of(request: Request, operator: Operator) -> Actor:
    return Actor.operator(operator.id, operator.email, request.client.host if request.client else None)


@asynccontextmanager
async def audited(
    request: Request, work: UnitOfWork, operator: Operator, product_id: int | None = None
) -> AsyncIterator[Actor]:
    """Run a change; if it is refused, undo it, keep the attempt in the audit trail (committed on its
    own, as the refusal rolls the request back) and answer the refusal."""
    actor = actor_of(request, operator)
    try:
        yield actor
    except TgadminError as error:
        await work.session.rollback()
        attempted = f"{request.method} {request.url.path}"
        await service.refused(work.session, actor, product_id, attempted, error.message)
        await work.checkpoint()
        raise


@router.get("/products", responses=_REFUSALS)
async def list_products(
    session: SessionDep,
    _operator: ViewerDep,
    creator_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    type: ProductType | None = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProductPage:
    """Products newest first, filtered by creator, type and active flag."""
    return await service.listing(
        session, creator_id=creator_id, kind=type, active=active, limit=limit, offset=offset
    )


@router.get("/creators/{creator_id}/products", responses=_REFUSALS)
async def list_creator_products(
    creator_id: RowId,
    session: SessionDep,
    _operator: ViewerDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProductPage:
    """One creator's products, newest first."""
    await service.creator_name(session, creator_id)
    return await service.listing(session, creator_id=creator_id, limit=limit, offset=offset)


@router.post(
    "/creators/{creator_id}/products", status_code=status.HTTP_201_CREATED, responses=_CHANGE_REFUSALS
)
async def create_product(
    creator_id: RowId,
    body: ProductCreate,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> ProductDetail:
    """A new product of this creator (a subscription needs `subscription_days`)."""
    async with audited(request, work, operator) as actor:
        return await service.create(work.session, creator_id, body, actor)


@router.get("/products/{product_id}", responses=_REFUSALS)
async def get_product(product_id: RowId, session: SessionDep, _operator: ViewerDep) -> ProductDetail:
    return await service.detail(session, product_id)


@router.patch("/products/{product_id}", responses=_CHANGE_REFUSALS)
async def update_product(
    product_id: RowId,
    body: ProductUpdate,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> ProductDetail:
    """Change the fields sent; `{"is_active": false}` deactivates."""
    async with audited(request, work, operator, product_id) as actor:
        return await service.update(work.session, product_id, body, actor)


@router.post("/products/{product_id}/media", responses=_UPLOAD_REFUSALS)
async def upload_media(
    product_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    media: Annotated[list[UploadFile], File(description=f"one or more files: {files.LIMITS_TEXT}")],
) -> UploadRead:
    """Append files to the pack, in the order sent; a file already stored (same SHA-256) is reused.
    One refused file refuses them all."""
    async with audited(request, work, operator, product_id) as actor:
        uploads = await files.read_uploads(media)
        storage = get_storage(state.settings)
        return await service.add_media(work.session, storage, product_id, uploads, actor)


@router.put("/products/{product_id}/media/order", responses=_CHANGE_REFUSALS)
async def reorder_media(
    product_id: RowId,
    body: MediaOrder,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> ProductDetail:
    """Delivery follows this order."""
    async with audited(request, work, operator, product_id) as actor:
        return await service.reorder(work.session, product_id, body.asset_ids, actor)


@router.put("/products/{product_id}/media/previews", responses=_CHANGE_REFUSALS)
async def set_previews(
    product_id: RowId,
    body: PreviewSet,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> ProductDetail:
    async with audited(request, work, operator, product_id) as actor:
        return await service.set_previews(work.session, product_id, body.asset_ids, actor)


@router.delete("/products/{product_id}/media/{asset_id}", responses=_REFUSALS)
async def remove_media(
    product_id: RowId,
    asset_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
) -> ProductDetail:
    """Take the file out of the pack (the stored file stays for other uses)."""
    async with audited(request, work, operator, product_id) as actor:
        return await service.remove_media(work.session, product_id, asset_id, actor)
