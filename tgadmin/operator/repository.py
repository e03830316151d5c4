"""All SQL of the operator domain: operators, magic-link tokens, sessions, API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import ApiToken, MagicLinkToken, Operator, OperatorSession
from tgadmin.models.enums import OperatorRole


async def by_email(session: AsyncSession, email: str) -> Operator | None:
    result = await session.execute(select(Operator).where(Operator.email == email))
    return result.scalar_one_or_none()


async def by_id(session: AsyncSession, operator_id: int) -> Operator | None:
    return await session.get(Operator, operator_id)


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Operator))).scalar_one())


async def expire_unused_links(session: AsyncSession, operator_id: int, now: datetime) -> int:
    """End the operator's unused links. The operator's row is locked first (PostgreSQL), so two links
    issued at the same moment are issued in turn and the second one ends the first."""
    await session.execute(select(Operator.id).where(Operator.id == operator_id).with_for_update())
    result = await session.execute(
        update(MagicLinkToken)
        .where(
            MagicLinkToken.operator_id == operator_id,
            MagicLinkToken.used_at.is_(None),
            MagicLinkToken.expires_at > now,
        )
        .values(expires_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def use_magic_link(session: AsyncSession, token_hash: str, now: datetime) -> int | None:
    """Mark an unused, unexpired token used — one conditional UPDATE, so a link works once even
    when clicked twice at the same moment. Returns the operator id, or None."""
    result = await session.execute(
        update(MagicLinkToken)
        .where(
            MagicLinkToken.token_hash == token_hash,
            MagicLinkToken.used_at.is_(None),
            MagicLinkToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(MagicLinkToken.operator_id)
    )
    row = result.first()
    return None if row is None else int(row[0])


async def live_session(session: AsyncSession, token_hash: str, now: datetime) -> OperatorSession | None:
    result = await session.execute(
        select(OperatorSession).where(
            OperatorSession.token_hash == token_hash,
            OperatorSession.revoked_at.is_(None),
            OperatorSession.expires_at > now,
        )
    )
    return result.scalar_one_or_none()


async def live_session_with_operator(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[OperatorSession, Operator] | None:
    """The live session and its operator, in one round trip (every dashboard request asks)."""
    result = await session.execute(
        select(OperatorSession, Operator)
        .join(Operator, Operator.id == OperatorSession.operator_id)
        .where(
            OperatorSession.token_hash == token_hash,
            OperatorSession.revoked_at.is_(None),
            OperatorSession.expires_at > now,
        )
    )
    row = result.one_or_none()
    return None if row is None else (row[0], row[1])


async def revoke_sessions(session: AsyncSession, operator_id: int, now: datetime) -> int:
    result = await session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator_id, OperatorSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def all_operators(session: AsyncSession) -> list[Operator]:
    return list((await session.scalars(select(Operator).order_by(Operator.email))).all())


async def lock_active_admins(session: AsyncSession) -> list[int]:
    """Ids of the active admins, locked (PostgreSQL) so two admins demoting each other at the same
    moment are decided in turn, and one admin always remains."""
    found = await session.scalars(
        select(Operator.id)
        .where(Operator.role == OperatorRole.ADMIN, Operator.is_active.is_(True))
        .order_by(Operator.id)
        .with_for_update()
    )
    return [int(i) for i in found]


# --- API tokens -----------------------------------------------------------------------------------


async def tokens(session: AsyncSession, operator_id: int | None) -> list[tuple[ApiToken, str]]:
    """Tokens with their owner's e-mail, newest first; every owner's when `operator_id` is None."""
    query = select(ApiToken, Operator.email).join(Operator, Operator.id == ApiToken.operator_id)
    if operator_id is not None:
        query = query.where(ApiToken.operator_id == operator_id)
    rows = await session.execute(query.order_by(ApiToken.id.desc()))
    return [(token, str(email)) for token, email in rows.all()]


async def token_by_id(session: AsyncSession, token_id: int) -> ApiToken | None:
    return await session.get(ApiToken, token_id)


async def live_token(session: AsyncSession, token_hash: str) -> ApiToken | None:
    return await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    )


async def revoke_tokens(session: AsyncSession, operator_id: int, now: datetime) -> int:
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.operator_id == operator_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def touch_token(session: AsyncSession, token_id: int, now: datetime, before: datetime) -> None:
    """Record a use, unless one was recorded after `before`: at most one write a minute per token."""
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < before),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
