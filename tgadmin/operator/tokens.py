"""Personal API tokens: for scripts that call the JSON API as an operator.

A token is `tga_` + 32 random bytes (url-safe), shown once at creation; only its SHA-256 is stored
(the secret is long and random, so a plain hash cannot be reversed or guessed, and a lookup by hash
needs no key). A token acts with its owner's role at the moment of the call, so a role change applies
at once and a deactivated owner's tokens stop working (deactivation also revokes them). The time of
last use is written at most once a minute per token, so a busy script costs no write per call.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.crypto import random_token, token_hash
from tgadmin.errors import BadRequest, Forbidden, NotFound, Unauthorized
from tgadmin.models import ApiToken, Operator
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import repository

PREFIX = "tga_"
SHOWN_PREFIX = 8  # characters of the token kept in clear to tell tokens apart: `tga_` + 4
MAX_NAME = 100
TOUCH_EVERY = timedelta(minutes=1)
REFUSED = "this API token is unknown or revoked, or its owner is deactivated"


@dataclass(frozen=True)
class NewToken:
    row: ApiToken
    token: str  # the secret: shown once, never stored


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in cleaned):
        raise BadRequest("a token's name cannot hold control characters")
    if not cleaned:
        raise BadRequest("give the token a name, such as the script that will use it")
    if len(cleaned) > MAX_NAME:
        raise BadRequest(f"a token's name has at most {MAX_NAME} characters")
    return cleaned


async def create(session: AsyncSession, owner: Operator, name: str, actor: Actor) -> NewToken:
    secret = PREFIX + random_token(32)
    row = ApiToken(
        operator_id=owner.id, name=_name(name), prefix=secret[:SHOWN_PREFIX], token_hash=token_hash(secret)
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        actor,
        "api_token.create",
        "api_token",
        row.id,
        after={"name": row.name, "prefix": row.prefix},
    )
    return NewToken(row, secret)


async def listed(session: AsyncSession, viewer: Operator) -> list[tuple[ApiToken, str]]:
    """The viewer's own tokens; an admin sees everyone's."""
    everyone = viewer.role == OperatorRole.ADMIN
    return await repository.tokens(session, None if everyone else viewer.id)


async def revoke(session: AsyncSession, token_id: int, by: Operator, actor: Actor) -> ApiToken:
    """Revoke one token: its owner's, or any as an admin. Revoking twice is harmless."""
    row = await repository.token_by_id(session, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} does not exist")
    if row.operator_id != by.id and by.role != OperatorRole.ADMIN:
        raise Forbidden("only its owner or an admin can revoke this token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
        await record(session, actor, "api_token.revoke", "api_token", row.id, before={"name": row.name})
    return row


async def operator_for_token(session: AsyncSession, secret: str) -> Operator:
    """The live token's owner, as they are now (role and active flag); records the use."""
    if not secret.startswith(PREFIX):
        raise Unauthorized(REFUSED)
    row = await repository.live_token(session, token_hash(secret))
    owner = None if row is None else await repository.by_id(session, row.operator_id)
    if row is None or owner is None or not owner.is_active:
        raise Unauthorized(REFUSED)
    now = utcnow()
    await repository.touch_token(session, row.id, now, now - TOUCH_EVERY)
    return owner
