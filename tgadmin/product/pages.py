"""The Products pages: the list, a creator's "new product" form, and a product's page (its fields,
its media in delivery order, which files are previews). Thin: the rules are in service.py, the same
as the JSON API's.

Every form posts the session's CSRF token. A change that worked redirects (303) with a one-time
message; one that was refused shows the page again with the reason and what was typed (nothing is
lost, nothing was saved)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.errors import InvalidInput, NotFound, TgadminError
from tgadmin.models import Operator
from tgadmin.models.enums import ProductType
from tgadmin.models.transaction import MAX_AMOUNT_CENTS
from tgadmin.operator.auth import OperatorDep, ViewerDep, check_csrf
from tgadmin.product import media as files
from tgadmin.product import service
from tgadmin.product.api import actor_of
from tgadmin.product.schemas import ProductCreate, ProductUpdate
from tgadmin.storage import get_storage
from tgadmin.webkit.deps import SessionDep, StateDep, UnitOfWork, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.money import parse_brl
from tgadmin.webkit.params import PageNumber, RowId
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
FIELD_NAMES = (
    "title",
    "description",
    "type",
    "price",
    "stars_price",
    "subscription_days",
    "access_chat_id",
    "is_active",
)
Text = Annotated[str, Form()]


def _whole(name: str, text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9 or int(text) == 0:
        raise InvalidInput(f"{name} must be a whole number above 0, not {text!r}")
    return int(text)


async def typed(request: Request) -> dict[str, str]:
    """The product form's fields as typed (kept to show again if they are refused)."""
    posted = await request.form()
    return {name: value[:5000] for name in FIELD_NAMES if isinstance(value := posted.get(name, ""), str)}


def parse_form(form: dict[str, str]) -> ProductCreate:
    """The product form as the operator typed it (price in reais) -> checked fields."""
    price = parse_brl(form.get("price", ""))
    if price is None:
        raise InvalidInput("price is required, in reais like 29,90")
    if price > MAX_AMOUNT_CENTS:
        raise InvalidInput(f"{form['price']!r} is more than a price may be (R$ 21.474.836,47)")
    try:
        return ProductCreate(
            title=form.get("title", ""),
            description=form.get("description", "").strip() or None,
            type=form.get("type", ""),  # validated by pydantic
            price_cents=price,
            stars_price=_whole("Stars price", form.get("stars_price", "")),
            subscription_days=_whole("subscription days", form.get("subscription_days", "")),
            access_chat_id=int(form["access_chat_id"]) if form.get("access_chat_id", "").strip() else None,
            is_active=form.get("is_active") == "1",
        )
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:3])
        raise InvalidInput(f"the product was not saved: {problems}") from None
    except ValueError:
        raise InvalidInput("access chat must be one of the groups listed") from None


async def _form_page(
    request: Request,
    session: AsyncSession,
    operator: Operator,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        template,
        {
            "operator": operator,
            "csrf": request.state.csrf,
            "types": list(ProductType),
            # The access-chat choice, on the forms only.
            "chats": await service.access_chats(session) if template != "products.html" else [],
            "flash": read_flash(request),
            "limits": files.LIMITS_TEXT,
            **context,
        },
        status_code=status_code,
    )
    drop_flash(request, response)
    return response


@router.get("/products")
async def products(
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    creator_id: str = "",
    type: str = "",
    active: str = "",
    page: PageNumber = 1,
) -> HTMLResponse:
    creator = int(creator_id) if creator_id.isdigit() and len(creator_id) < 19 else None
    kind = type if type in {t.value for t in ProductType} else ""
    shown = {"1": True, "0": False}.get(active)
    listing = await service.listing(
        session,
        creator_id=creator,
        kind=ProductType(kind) if kind else None,
        active=shown,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    query = {k: v for k, v in (("creator_id", str(creator or "")), ("type", kind), ("active", active)) if v}
    return await _form_page(
        request,
        session,
        operator,
        "products.html",
        {
            "listing": listing,
            "chosen": {
                "creator_id": creator or "",
                "type": kind,
                "active": active if shown is not None else "",
            },
            "page": page,
            "pages": max((listing.total + PER_PAGE - 1) // PER_PAGE, 1),
            "query": urlencode(query),
        },
    )


@router.get("/creators/{creator_id}/products/new")
async def new_product(
    creator_id: RowId, request: Request, session: SessionDep, operator: ViewerDep
) -> HTMLResponse:
    name = await service.creator_name(session, creator_id)
    form = {"type": ProductType.CONTENT.value, "is_active": "1"}
    context = {"creator_id": creator_id, "creator_name": name, "form": form, "error": None}
    return await _form_page(request, session, operator, "products_new.html", context)


@router.post("/creators/{creator_id}/products/new")
async def create_product(
    creator_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    form = await typed(request)
    name = await service.creator_name(work.session, creator_id)
    try:
        created = await service.create(
            work.session, creator_id, parse_form(form), actor_of(request, operator)
        )
    except TgadminError as error:
        await _roll_back(request, work, operator, None, error)
        context = {"creator_id": creator_id, "creator_name": name, "form": form, "error": error.message}
        return await _form_page(
            request, work.session, operator, "products_new.html", context, error.status_code
        )
    return redirect_with(
        f"/products/{created.id}", Flash("Product “%(title)s” created", title=created.title), ok=True
    )


async def _detail_page(
    request: Request,
    work: UnitOfWork,
    operator: Operator,
    product_id: int,
    *,
    form: dict[str, str] | None = None,
    error: TgadminError | None = None,
) -> HTMLResponse:
    product = await service.detail(work.session, product_id)
    if form is None:
        form = {
            "title": product.title,
            "description": product.description or "",
            "type": product.type.value,
            "price": f"{product.price_cents // 100},{product.price_cents % 100:02d}",
            "stars_price": str(product.stars_price or ""),
            "subscription_days": str(product.subscription_days or ""),
            "access_chat_id": str(product.access_chat_id or ""),
            "is_active": "1" if product.is_active else "",
        }
    context = {"product": product, "form": form, "error": error.message if error else None}
    return await _form_page(
        request, work.session, operator, "products_detail.html", context, error.status_code if error else 200
    )


@router.get("/products/{product_id}")
async def product_page(
    product_id: RowId, request: Request, work: UnitOfWorkDep, operator: ViewerDep
) -> HTMLResponse:
    return await _detail_page(request, work, operator, product_id)


async def _roll_back(
    request: Request, work: UnitOfWork, operator: Operator, product_id: int | None, error: TgadminError
) -> None:
    """Undo the refused change (the request's unit of work would commit it otherwise) and audit the
    attempt; the rollback expired what the session had loaded, so the page's operator is read again."""
    await work.session.rollback()
    await work.session.refresh(operator)
    attempted = f"{request.method} {request.url.path}"
    await service.refused(work.session, actor_of(request, operator), product_id, attempted, error.message)


async def _refused(
    request: Request, work: UnitOfWork, operator: Operator, product_id: int, error: TgadminError, **kw: Any
) -> HTMLResponse:
    """The product's page again, saying why not; the refused change is rolled back whole."""
    await _roll_back(request, work, operator, product_id, error)
    if isinstance(error, NotFound) and "product" in error.message:
        raise error
    return await _detail_page(request, work, operator, product_id, error=error, **kw)


@router.post("/products/{product_id}")
async def update_product(
    product_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    form = await typed(request)
    try:
        changes = ProductUpdate(**parse_form(form).model_dump())
        saved = await service.update(work.session, product_id, changes, actor_of(request, operator))
    except TgadminError as error:
        return await _refused(request, work, operator, product_id, error, form=form)
    return redirect_with(
        f"/products/{product_id}", Flash("Product “%(title)s” saved", title=saved.title), ok=True
    )


@router.post("/products/{product_id}/active")
async def set_active(
    product_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    active: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    changes = ProductUpdate(is_active=active == "1")
    saved = await service.update(work.session, product_id, changes, actor_of(request, operator))
    message = Flash(
        "Product activated: the bot offers it"
        if saved.is_active
        else "Product deactivated: the bot no longer offers it"
    )
    return redirect_with(f"/products/{product_id}", message, ok=True)


@router.post("/products/{product_id}/media")
async def upload_media(
    product_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    media: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        uploads = await files.read_uploads([f for f in media or [] if f.filename])
        done = await service.add_media(
            work.session, get_storage(state.settings), product_id, uploads, actor_of(request, operator)
        )
    except TgadminError as error:
        return await _refused(request, work, operator, product_id, error)
    message = Flash("%(added)s file(s) added", added=len(done.added))
    if done.already_in_pack:
        message = Flash(
            "%(added)s file(s) added; %(kept)s already in this pack, left where they were",
            added=len(done.added),
            kept=len(done.already_in_pack),
        )
    return redirect_with(f"/products/{product_id}#media", message, ok=True)


@router.post("/products/{product_id}/media/previews")
async def set_previews(
    product_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    preview: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        chosen = [int(value) for value in preview or [] if value.isdigit() and len(value) < 19]
        await service.set_previews(work.session, product_id, chosen, actor_of(request, operator))
    except TgadminError as error:
        return await _refused(request, work, operator, product_id, error)
    return redirect_with(f"/products/{product_id}#media", Flash("Previews saved"), ok=True)


@router.post("/products/{product_id}/media/{asset_id}/move")
async def move_media(
    product_id: RowId,
    asset_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
    direction: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    step = {"up": -1, "down": 1}.get(direction)
    try:
        if step is None:
            raise InvalidInput("direction must be up or down")
        await service.move(work.session, product_id, asset_id, step, actor_of(request, operator))
    except TgadminError as error:
        return await _refused(request, work, operator, product_id, error)
    return redirect_with(f"/products/{product_id}#media", Flash("Order saved"), ok=True)


@router.post("/products/{product_id}/media/{asset_id}/remove")
async def remove_media(
    product_id: RowId,
    asset_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Text = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        await service.remove_media(work.session, product_id, asset_id, actor_of(request, operator))
    except TgadminError as error:
        return await _refused(request, work, operator, product_id, error)
    return redirect_with(f"/products/{product_id}#media", Flash("File removed from the pack"), ok=True)


@router.get("/products/{product_id}/media/{asset_id}")
async def media_file(
    product_id: RowId, asset_id: RowId, session: SessionDep, state: StateDep, _operator: ViewerDep
) -> Response:
    data, content_type = await service.media_file(session, get_storage(state.settings), product_id, asset_id)
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


__all__ = ["RedirectResponse", "router"]
