"""Operators (admin) and personal API tokens (everyone their own; an admin sees all) in the JSON API.

Calls that change something carry the session's CSRF token in `X-CSRF-Token`, or are made with an
API token (`Authorization: Bearer`). A new token can only be made from a logged-in session: a leaked
token must not be able to mint others that outlive its revocation.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from tgadmin.audit.service import Actor
from tgadmin.config import Settings
from tgadmin.errors import ErrorRead, Forbidden, ServiceUnavailable
from tgadmin.mail import send_login_link
from tgadmin.models import Operator
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service, tokens
from tgadmin.operator.auth import AdminDep, CsrfHeader, ViewerDep
from tgadmin.operator.schemas import (
    AccountRead,
    AccountUpdate,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    InviteRead,
    OperatorInvite,
    OperatorRead,
    OperatorRoleChange,
    operator_read,
)
from tgadmin.webkit.deps import SessionDep, StateDep, UnitOfWork, UnitOfWorkDep
from tgadmin.webkit.flash import Flash
from tgadmin.webkit.params import RowId

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["operators"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in, or the API token is unknown or revoked"},
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
}
_ONE: dict[int | str, dict[str, Any]] = {
    **_REFUSALS,
    404: {"model": ErrorRead, "description": "no such operator or token"},
    409: {"model": ErrorRead, "description": "it would leave no active admin"},
}


def actor_of(operator: Operator, request: Request) -> Actor:
    return Actor.operator(operator.id, operator.email, request.client.host if request.client else None)


async def invite_and_mail(
    work: UnitOfWork, settings: Settings, email: str, role: OperatorRole, actor: Actor
) -> tuple[Operator, bool, Flash]:
    """Create the operator, commit, then mail the login link: (operator, mailed, what happened)."""
    link = await service.invite(work.session, email, role, actor)
    operator = link.operator
    # The link must exist in the database before anyone can follow it.
    await work.checkpoint()
    try:
        await send_login_link(settings, operator.email, service.login_url(settings.public_url, link.token))
    except ServiceUnavailable as error:
        log.error("invitation for %s not mailed: %s", operator.email, error.message)
        return (
            operator,
            False,
            Flash(
                "%(email)s was invited as %(role)s, but the mail failed: %(why)s",
                email=operator.email,
                role=role.value,
                why=error.message,
            ),
        )
    said = "%(email)s was invited as %(role)s; a login link was mailed"
    return operator, True, Flash(said, email=operator.email, role=role.value)


async def refuse_tokens(request: Request, operator: ViewerDep) -> None:
    """Before the body is read: a call with a token is refused whatever it sends."""
    if request.state.via_token:
        raise Forbidden("API tokens are made from a logged-in dashboard session, not with another token")


SessionOnly = Annotated[None, Depends(refuse_tokens)]


@router.get("/operators", responses=_REFUSALS)
async def list_operators(session: SessionDep, admin: AdminDep) -> list[OperatorRead]:
    return [operator_read(o) for o in await service.list_operators(session)]


@router.post(
    "/operators",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_REFUSALS,
        400: {"model": ErrorRead, "description": "not an e-mail address"},
        409: _ONE[409],
    },
)
async def invite_operator(
    body: OperatorInvite,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    admin: AdminDep,
    _csrf: CsrfHeader,
) -> InviteRead:
    """Invite someone: a new operator with this role, and a login link mailed to them."""
    operator, mailed, message = await invite_and_mail(
        work, state.settings, body.email, body.role, actor_of(admin, request)
    )
    return InviteRead(operator=operator_read(operator), mailed=mailed, message=message.render("en"))


@router.patch("/operators/{operator_id}", responses=_ONE)
async def change_role(
    operator_id: RowId,
    body: OperatorRoleChange,
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    _csrf: CsrfHeader,
) -> OperatorRead:
    """Change the role; the last active admin cannot be demoted."""
    return operator_read(await service.change_role(session, operator_id, body.role, actor_of(admin, request)))


@router.post("/operators/{operator_id}/deactivate", responses=_ONE)
async def deactivate_operator(
    operator_id: RowId, request: Request, session: SessionDep, admin: AdminDep, _csrf: CsrfHeader
) -> OperatorRead:
    """Their sessions and API tokens stop working at once; the last active admin cannot be deactivated."""
    return operator_read(await service.deactivate(session, operator_id, actor_of(admin, request)))


@router.post("/operators/{operator_id}/reactivate", responses=_ONE)
async def reactivate_operator(
    operator_id: RowId, request: Request, session: SessionDep, admin: AdminDep, _csrf: CsrfHeader
) -> OperatorRead:
    """They may log in again with a new link (revoked sessions and tokens stay revoked)."""
    return operator_read(await service.reactivate(session, operator_id, actor_of(admin, request)))


@router.get("/account", responses=_REFUSALS)
async def get_account(operator: ViewerDep) -> AccountRead:
    """The caller's own account: who they are and the time zone their times are read in."""
    return AccountRead.model_validate(operator)


@router.put(
    "/account",
    responses={**_REFUSALS, 400: {"model": ErrorRead, "description": "not a time zone"}},
)
async def update_account(
    body: AccountUpdate, request: Request, session: SessionDep, operator: ViewerDep, _csrf: CsrfHeader
) -> AccountRead:
    """Choose the time zone (IANA, e.g. America/Sao_Paulo) the dashboard and the API's day filters
    and a campaign's "daily at" use for the caller."""
    changed = await service.set_time_zone(session, operator, body.time_zone, actor_of(operator, request))
    return AccountRead.model_validate(changed)


@router.get("/tokens", responses=_REFUSALS)
async def list_tokens(session: SessionDep, operator: ViewerDep) -> list[ApiTokenRead]:
    """Your API tokens (an admin: everyone's), newest first; never the secrets."""
    return [ApiTokenRead.of(row, email) for row, email in await tokens.listed(session, operator)]


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    responses={**_REFUSALS, 400: {"model": ErrorRead, "description": "no usable name"}},
)
async def create_token(
    body: ApiTokenCreate,
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    _session_only: SessionOnly,
    _csrf: CsrfHeader,
) -> ApiTokenCreated:
    """A new token acting with your role; the secret is in this answer only."""
    new = await tokens.create(session, operator, body.name, actor_of(operator, request))
    read = ApiTokenRead.of(new.row, operator.email)
    return ApiTokenCreated(**read.model_dump(), token=new.token)


@router.delete("/tokens/{token_id}", responses={**_REFUSALS, 404: _ONE[404]})
async def revoke_token(
    token_id: RowId, request: Request, session: SessionDep, operator: ViewerDep, _csrf: CsrfHeader
) -> ApiTokenRead:
    """Revoke a token (yours; an admin: anyone's). It stops working at once."""
    row = await tokens.revoke(session, token_id, operator, actor_of(operator, request))
    owner = await service.get_operator(session, row.operator_id)
    return ApiTokenRead.of(row, owner.email)
