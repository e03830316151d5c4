"""The Campaigns pages: the list (status and outcome), compose (text, photo or album, buttons,
targets with their count, schedule, auto-delete, with Telegram's preview), and each campaign's page
with live per-group progress (an htmx fragment polled while it runs) and pause / resume / cancel.
Thin: the work runs through actions.py, as the JSON API's does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tgadmin.campaign import actions, repository
from tgadmin.campaign.forms import ComposeForm, number
from tgadmin.campaign.schemas import MAX_AUTO_DELETE_HOURS, CampaignContent
from tgadmin.campaign.service import count_targets
from tgadmin.clock import DEFAULT_TIME_ZONE
from tgadmin.errors import InvalidInput, NotFound, TgadminError
from tgadmin.group import service as group_service
from tgadmin.models import Operator
from tgadmin.models.enums import CampaignStatus, CampaignTargetStatus, OperatorRole
from tgadmin.operator.auth import ROLE_RANK, OperatorDep, ViewerDep, check_csrf
from tgadmin.storage import get_storage
from tgadmin.webkit.deps import QueuesDep, SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.i18n import page_language, page_time_zone, translate
from tgadmin.webkit.params import PageNumber, RowId
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

Field = Annotated[str, Form()]
Fields = Annotated[list[str], Form()]
LIVE = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)
BUTTON_ROWS = 3
# How a campaign's status reads in a message (Flash texts are literals, so each has its Portuguese).
STATUS_WORDS = {
    CampaignStatus.DRAFT: Flash("draft"),
    CampaignStatus.SCHEDULED: Flash("scheduled"),
    CampaignStatus.RUNNING: Flash("running"),
    CampaignStatus.PAUSED: Flash("paused"),
    CampaignStatus.COMPLETED: Flash("completed"),
    CampaignStatus.FAILED: Flash("failed"),
    CampaignStatus.CANCELLED: Flash("cancelled"),
}


def speaker(request: Request) -> Callable[..., str]:
    """The page's language for messages built here: `say("%(n)s groups", n=2)`."""
    lang = page_language(request)

    def say(text: str, **values: Any) -> str:
        return translate(text, lang) % values if values else translate(text, lang)

    return say


def can_act(operator: Operator) -> bool:
    return ROLE_RANK[operator.role] >= ROLE_RANK[OperatorRole.OPERATOR]


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _form(
    name: str = "",
    text: str = "",
    asset: list[str] | None = None,
    button_text: list[str] | None = None,
    button_url: list[str] | None = None,
    button_creator: list[str] | None = None,
    targets: str = "selection",
    group: list[str] | None = None,
    active_only: str = "",
    tag: list[str] | None = None,
    with_rights: str = "",
    when: str = "now",
    at: str = "",
    repeat: str = "none",
    every_hours: str = "",
    daily_at: str = "",
    until: str = "",
    auto_delete_hours: str = "",
    time_zone: str = DEFAULT_TIME_ZONE,
) -> ComposeForm:
    return ComposeForm(
        time_zone=time_zone,
        name=name,
        text=text,
        assets=asset or [],
        button_text=button_text or [],
        button_url=button_url or [],
        button_creator=button_creator or [],
        targets=targets,
        groups=group or [],
        active_only=bool(active_only),
        tags=tag or [],
        with_rights=bool(with_rights),
        when=when,
        at=at,
        repeat=repeat,
        every_hours=every_hours,
        daily_at=daily_at,
        until=until,
        auto_delete_hours=auto_delete_hours,
    )


async def compose_form(request: Request) -> ComposeForm:
    """The compose form's fields (lists for the repeated ones)."""
    data = await request.form()

    def one(key: str, default: str = "") -> str:
        value = data.get(key)
        return value if isinstance(value, str) else default

    def many(key: str) -> list[str]:
        return [v for v in data.getlist(key) if isinstance(v, str)]

    return _form(
        **{key: one(key) for key in ("name", "text", "active_only", "with_rights", "at", "every_hours")},
        **{key: one(key) for key in ("daily_at", "until", "auto_delete_hours")},
        targets=one("targets", "selection"),
        when=one("when", "now"),
        repeat=one("repeat", "none"),
        asset=many("asset"),
        button_text=many("button_text"),
        button_url=many("button_url"),
        button_creator=many("button_creator"),
        group=many("group"),
        tag=many("tag"),
        time_zone=page_time_zone(request),
    )


@router.get("/campaigns")
async def campaigns(
    request: Request, session: SessionDep, operator: ViewerDep, page: PageNumber = 1
) -> HTMLResponse:
    items, total, live = await actions.listing(session, page)
    response = templates.TemplateResponse(
        request,
        "campaigns.html",
        {
            "operator": operator,
            "csrf": request.state.csrf,
            "can_act": can_act(operator),
            "items": items,
            "total": total,
            "live": live,
            "page": page,
            "pages": max((total + actions.PER_PAGE - 1) // actions.PER_PAGE, 1),
            "flash": read_flash(request),
        },
    )
    drop_flash(request, response, path="/campaigns")
    return response


async def _compose(
    request: Request,
    session: SessionDep,
    operator: Operator,
    form: ComposeForm,
    *,
    error: str | None = None,
    status_code: int = 200,
    test_job: str | None = None,
    sandbox_url: str | None = None,
) -> HTMLResponse:
    groups, tags = await actions.choices(session)
    return templates.TemplateResponse(
        request,
        "campaigns_new.html",
        {
            "operator": operator,
            "csrf": request.state.csrf,
            "form": form,
            "groups": groups,
            "tags": tags,
            "assets": await repository.image_assets(session),
            "creators": await repository.creator_choices(session),
            "button_rows": BUTTON_ROWS,
            "max_delete": MAX_AUTO_DELETE_HOURS,
            "error": error,
            "test_job": test_job,
            "sandbox_url": sandbox_url,
        },
        status_code=status_code,
    )


@router.get("/campaigns/new")
async def new_campaign(request: Request, session: SessionDep, operator: OperatorDep) -> HTMLResponse:
    return await _compose(request, session, operator, ComposeForm(time_zone=operator.time_zone))


def _preview(content: CampaignContent) -> dict[str, Any]:
    html, length = ("", 0)
    if content.text:
        html, length = group_service.telegram_html(content.text, caption=content.has_media)
    return {
        "html": html,
        "length": length,
        "limit": 1024 if content.has_media else 4096,
        "media": content.asset_ids(),
        "buttons": content.buttons,
    }


@router.post("/campaigns/preview")
async def preview(
    request: Request, session: SessionDep, state: StateDep, operator: OperatorDep, csrf: Field = ""
) -> HTMLResponse:
    """The htmx fragment beside the form: the post as Telegram will show it, and how many groups
    the targets reach now (or why the form would be refused)."""
    check_csrf(state.settings, request.state.session_token, csrf)
    context: dict[str, Any] = {}
    try:
        data = (await compose_form(request)).create()
        context["preview"] = _preview(data.content)
        context["count"] = await count_targets(session, data)
    except TgadminError as error:
        context["error"] = error.message
    return templates.TemplateResponse(request, "campaigns_preview.html", context)


def _checked(content: CampaignContent) -> None:
    if content.text:
        group_service.telegram_html(content.text, caption=content.has_media)


@router.post("/campaigns")
async def create(
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Field = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    form = await compose_form(request)
    try:
        data = form.create()
        _checked(data.content)
        campaign = await actions.create(
            work.session, work.after_commit, queues, actions.actor_of(operator, _ip(request)), data
        )
    except TgadminError as error:
        # Every refusal comes before anything is written (service.create_campaign checks first).
        return await _compose(
            request, work.session, operator, form, error=error.message, status_code=error.status_code
        )
    return redirect_with(
        f"/campaigns/{campaign.id}",
        Flash("Campaign %(name)s scheduled.", name=campaign.name),
        ok=True,
        path=f"/campaigns/{campaign.id}",
    )


def _progress_context(request: Request, operator: Operator, found: actions.Progress) -> dict[str, Any]:
    counts = {status: found.count(status) for status in CampaignTargetStatus}
    return {
        "operator": operator,
        "csrf": request.state.csrf,
        "can_act": can_act(operator),
        "campaign": found.campaign,
        "targets": found.targets,
        "counts": counts,
        "live": found.campaign.status in LIVE,
        "content": found.campaign.content,
    }


@router.post("/campaigns/test")
async def send_test(
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Field = "",
    test_group: Field = "",
) -> HTMLResponse:
    """Send the post as composed to one group now (nothing is scheduled), and follow the job; with
    the sandbox, its chat page shows the post as a member sees it."""
    check_csrf(state.settings, request.state.session_token, csrf)
    form = await compose_form(request)
    say = speaker(request)
    try:
        content = form.content()
        _checked(content)
        group_id = number(test_group, "test group")
        if group_id is None:
            raise InvalidInput(say("Choose the group to send the test to."))
        job_id = await actions.send_test(work.session, work.after_commit, queues, content, group_id)
    except TgadminError as error:
        return await _compose(
            request, work.session, operator, form, error=error.message, status_code=error.status_code
        )
    base = state.settings.telegram_api_base_url.rstrip("/")
    sandbox = None if "api.telegram.org" in base else f"{base}/"
    return await _compose(request, work.session, operator, form, test_job=job_id, sandbox_url=sandbox)


@router.get("/campaigns/{campaign_id}")
async def campaign_page(
    campaign_id: RowId, request: Request, session: SessionDep, operator: ViewerDep
) -> HTMLResponse:
    found = await actions.progress(session, campaign_id)
    context = _progress_context(request, operator, found) | {"flash": read_flash(request)}
    try:
        context["preview"] = _preview(CampaignContent.model_validate(found.campaign.content))
    except (TgadminError, ValueError):
        context["preview"] = None
    response = templates.TemplateResponse(request, "campaigns_detail.html", context)
    drop_flash(request, response, path=f"/campaigns/{campaign_id}")
    return response


@router.get("/campaigns/{campaign_id}/progress")
async def campaign_progress(
    campaign_id: RowId, request: Request, session: SessionDep, operator: ViewerDep
) -> HTMLResponse:
    """The per-group progress fragment the campaign's page polls while the campaign is live."""
    found = await actions.progress(session, campaign_id)
    return templates.TemplateResponse(
        request, "_campaign_progress.html", _progress_context(request, operator, found)
    )


def _back(campaign_id: int, message: Flash | str, *, ok: bool) -> RedirectResponse:
    return redirect_with(f"/campaigns/{campaign_id}", message, ok=ok, path=f"/campaigns/{campaign_id}")


@router.post("/campaigns/{campaign_id}/{action}")
async def act(
    campaign_id: RowId,
    action: str,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Field = "",
) -> Response:
    """pause, resume or cancel."""
    check_csrf(state.settings, request.state.session_token, csrf)
    actor = actions.actor_of(operator, _ip(request))
    try:
        if action == "pause":
            campaign = await actions.pause(work.session, work.after_commit, state, actor, campaign_id)
        elif action == "resume":
            campaign = await actions.resume(work.session, work.after_commit, state, actor, campaign_id)
        elif action == "cancel":
            campaign = await actions.cancel(work.session, work.after_commit, state, actor, campaign_id)
        else:
            raise NotFound(f"no campaign action {action!r}")
    except TgadminError as error:
        if isinstance(error, NotFound):
            raise
        return _back(campaign_id, error.message, ok=False)
    text = Flash("Campaign %(name)s: %(status)s", name=campaign.name, status=STATUS_WORDS[campaign.status])
    return _back(campaign_id, text, ok=True)


@router.get("/campaigns/media/{asset_id}")
async def media_file(asset_id: RowId, session: SessionDep, state: StateDep, _operator: ViewerDep) -> Response:
    """A library image, as the compose form and the preview show it."""
    asset = await repository.image_asset(session, asset_id)
    if asset is None:
        raise NotFound(f"no image with id {asset_id}")
    data = await get_storage(state.settings).get(asset.storage_key)
    return Response(data, media_type=asset.content_type, headers={"Cache-Control": "private, max-age=3600"})
