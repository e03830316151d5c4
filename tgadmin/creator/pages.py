"""The Creators pages: the list (search, pages), a creator's detail (edit, activate, preview photos
with the cropper, products, deep link, promo) and the new-creator form (thin: rules in service.py and
media.py, the same the JSON API runs).

Forms post with the session's CSRF token. A refused form is shown again with what was typed and
why (status 400/409/413), so nothing is lost; a done action redirects (303) with a one-time message.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from tgadmin.creator import media, repository, service
from tgadmin.creator.api import creator_detail, read_upload
from tgadmin.creator.enqueue import enqueue_promo
from tgadmin.creator.schemas import CreatorCreate, CreatorUpdate, CropBox
from tgadmin.errors import InvalidInput, TgadminError
from tgadmin.models import Operator
from tgadmin.models.enums import CreatorTier
from tgadmin.operator.auth import OperatorDep, ViewerDep, check_csrf
from tgadmin.storage import get_storage
from tgadmin.webkit.deps import SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.params import PageNumber, RowId
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
Text = Annotated[str, Form()]


def _invalid(error: ValidationError) -> InvalidInput:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "form"
    return InvalidInput(f"{field}: {first['msg']}")


def _fields(name: str, username: str, bio: str, tier: str, country: str, is_adult: str) -> dict[str, Any]:
    return {
        "name": name,
        "username": username,
        "bio": bio.strip() or None,
        "tier": tier or CreatorTier.BRONZE.value,
        "country": country.strip() or None,
        "is_adult": bool(is_adult),
    }


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200, path: str = "/creators"
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        name,
        {"csrf": request.state.csrf, "flash": read_flash(request), "tiers": list(CreatorTier), **context},
        status_code=status_code,
    )
    drop_flash(request, response, path=path)
    return response


@router.get("/creators")
async def creators(
    request: Request, session: SessionDep, operator: ViewerDep, q: str = "", page: PageNumber = 1
) -> HTMLResponse:
    q = q.strip()[:100]
    rows, total = await repository.search_page(session, q, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    context = {
        "operator": operator,
        "creators": rows,
        "total": total,
        "q": q,
        "page": page,
        "pages": max(math.ceil(total / PER_PAGE), 1),
    }
    return _render(request, "creators.html", context)


def _form(
    request: Request, operator: Operator, values: dict[str, Any], error: str | None, code: int
) -> HTMLResponse:
    context = {"operator": operator, "values": values, "error": error}
    return _render(request, "creator_new.html", context, code)


@router.get("/creators/new")
async def new_creator(request: Request, operator: OperatorDep) -> HTMLResponse:
    return _form(request, operator, _fields("", "", "", "", "", ""), None, 200)


@router.post("/creators/new")
async def create_creator(
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    name: Text = "",
    username: Text = "",
    bio: Text = "",
    tier: Text = "",
    country: Text = "",
    is_adult: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    values = _fields(name, username, bio, tier, country, is_adult)
    try:
        try:
            data = CreatorCreate.model_validate(values)
        except ValidationError as error:
            raise _invalid(error) from None
        creator = await service.create(work.session, data, service.actor_of(operator))
    except TgadminError as error:
        return _form(request, operator, values, error.message, error.status_code)
    return redirect_with(
        f"/creators/{creator.id}", Flash("%(name)s was created", name=creator.name), ok=True, path="/creators"
    )


async def _detail(
    request: Request,
    work: UnitOfWorkDep,
    operator: Operator,
    creator_id: int,
    error: TgadminError | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    creator = await service.get_creator(work.session, creator_id)
    if error is not None:
        await work.session.refresh(creator)  # the refused action's savepoint expired what it touched
    context = {
        "operator": operator,
        "creator": await creator_detail(work.session, creator),
        "groups": await service.promo_groups(work.session),
        "values": values or service.snapshot(creator),
        "error": error.message if error else None,
        "max_upload": media.MAX_UPLOAD_TEXT,
        "can_act": operator.role.value != "viewer",
    }
    return _render(request, "creator_detail.html", context, error.status_code if error else 200)


@router.get("/creators/{creator_id}")
async def creator_page(
    creator_id: RowId, request: Request, work: UnitOfWorkDep, operator: ViewerDep
) -> HTMLResponse:
    return await _detail(request, work, operator, creator_id)


@router.get("/creators/{creator_id}/previews/{asset_id}.jpg")
async def preview_image(
    creator_id: RowId, asset_id: RowId, session: SessionDep, state: StateDep, operator: ViewerDep
) -> Response:
    """The preview as buyers receive it (cropped)."""
    asset = await media.find_preview(session, await service.get_creator(session, creator_id), asset_id)
    data = await media.preview_bytes(get_storage(state.settings), asset)
    return Response(
        data, media_type=media.delivered_type(asset), headers={"Cache-Control": "private, max-age=300"}
    )


@router.get("/creators/{creator_id}/previews/{asset_id}/original")
async def original_image(
    creator_id: RowId, asset_id: RowId, session: SessionDep, state: StateDep, operator: ViewerDep
) -> Response:
    """The uploaded picture, whole: what the cropper frames."""
    asset = await media.find_preview(session, await service.get_creator(session, creator_id), asset_id)
    data = await get_storage(state.settings).get(asset.storage_key)
    return Response(data, media_type=asset.content_type, headers={"Cache-Control": "private, max-age=300"})


def _done(creator_id: int, message: Flash | str) -> RedirectResponse:
    return redirect_with(f"/creators/{creator_id}", message, ok=True, path="/creators")


@router.post("/creators/{creator_id}")
async def edit_creator(
    creator_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    name: Text = "",
    username: Text = "",
    bio: Text = "",
    tier: Text = "",
    country: Text = "",
    is_adult: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    values = _fields(name, username, bio, tier, country, is_adult)
    try:
        creator = await service.get_creator(work.session, creator_id)
        try:
            data = CreatorUpdate.model_validate(values)
        except ValidationError as error:
            raise _invalid(error) from None
        async with work.session.begin_nested():
            await service.update(work.session, creator, data, service.actor_of(operator))
    except TgadminError as error:
        return await _detail(request, work, operator, creator_id, error, values)
    return _done(creator_id, Flash("saved"))


@router.post("/creators/{creator_id}/active")
async def set_active(
    creator_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    active: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    creator = await service.get_creator(work.session, creator_id)
    wanted = active == "1"
    await service.update(work.session, creator, CreatorUpdate(is_active=wanted), service.actor_of(operator))
    return _done(
        creator_id, Flash("activated: buyers see her again" if wanted else "deactivated: hidden from buyers")
    )


@router.post("/creators/{creator_id}/previews")
async def upload_preview(
    creator_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    file: Annotated[UploadFile | None, File()] = None,
    csrf: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        creator = await service.get_creator(work.session, creator_id)
        if file is None:
            raise InvalidInput("choose an image file to upload")
        data = await read_upload(request, file)
        async with work.session.begin_nested():
            storage = get_storage(state.settings)
            await media.upload(work.session, storage, creator, data, service.actor_of(operator))
    except TgadminError as error:
        return await _detail(request, work, operator, creator_id, error)
    return _done(creator_id, Flash("preview photo added"))


@router.post("/creators/{creator_id}/previews/{asset_id}/crop")
async def crop_preview(
    creator_id: RowId,
    asset_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    x: Text = "",
    y: Text = "",
    width: Text = "",
    height: Text = "",
    reset: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        creator = await service.get_creator(work.session, creator_id)
        try:
            box = (
                None if reset else CropBox.model_validate({"x": x, "y": y, "width": width, "height": height})
            )
        except ValidationError as error:
            raise _invalid(error) from None
        async with work.session.begin_nested():
            await media.set_crop(work.session, creator, asset_id, box, service.actor_of(operator))
    except TgadminError as error:
        return await _detail(request, work, operator, creator_id, error)
    return _done(
        creator_id, Flash("crop removed" if box is None else "crop saved: buyers get the cropped picture")
    )


@router.post("/creators/{creator_id}/previews/{asset_id}/move")
async def move_preview(
    creator_id: RowId,
    asset_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    direction: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    creator = await service.get_creator(work.session, creator_id)
    step = -1 if direction == "up" else 1
    await media.move(work.session, creator, asset_id, step, service.actor_of(operator))
    return _done(creator_id, Flash("order saved"))


@router.post("/creators/{creator_id}/previews/{asset_id}/remove")
async def remove_preview(
    creator_id: RowId,
    asset_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    creator = await service.get_creator(work.session, creator_id)
    storage = get_storage(state.settings)
    await media.remove(
        work.session, storage, work.after_commit, creator, asset_id, service.actor_of(operator)
    )
    return _done(creator_id, Flash("preview photo removed"))


@router.post("/creators/{creator_id}/promo")
async def send_promo(
    creator_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    group_id: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        creator = await service.get_creator(work.session, creator_id)
        if not group_id.isdigit() or not service.valid_id(int(group_id)):
            raise InvalidInput("choose a group for the promo")
        async with work.session.begin_nested():
            actor = service.actor_of(operator)
            job_id = await service.request_promo(work.session, creator, int(group_id), actor)
        await work.checkpoint()  # the worker must find the request committed
        queued = await enqueue_promo(state.settings, creator_id, int(group_id), job_id)
    except TgadminError as error:
        return await _detail(request, work, operator, creator_id, error)
    return _done(creator_id, Flash("promo queued as job %(job)s; the worker posts it", job=queued))
