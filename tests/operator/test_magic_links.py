"""Operators log in with single-use, expiring magic links; sessions are revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor
from tgadmin.clock import frozen_at, utcnow
from tgadmin.crypto import token_hash
from tgadmin.errors import BadRequest, Conflict, NotFound, Unauthorized
from tgadmin.models import AuditLog, MagicLinkToken
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service

CLI = Actor.system("test")


async def test_magic_link_logs_in_once_and_never_again(session: AsyncSession) -> None:
    operator = await service.create_operator(session, "Ana@Example.com", OperatorRole.ADMIN, CLI)
    assert operator.email == "ana@example.com"
    link = await service.issue_magic_link(session, operator)
    login = await service.consume_magic_link(session, link.token)
    assert (await service.operator_for_session(session, login.token)).id == operator.id
    with pytest.raises(Unauthorized, match="already used"):
        await service.consume_magic_link(session, link.token)


async def test_only_the_hash_of_a_magic_link_is_stored(session: AsyncSession) -> None:
    operator = await service.create_operator(session, "hash@example.com", OperatorRole.VIEWER, CLI)
    link = await service.issue_magic_link(session, operator)
    stored = (await session.execute(text("select token_hash from magic_link_tokens"))).scalars().all()
    assert link.token not in stored and len(stored) == 1


async def test_expired_magic_link_is_refused(session: AsyncSession) -> None:
    operator = await service.create_operator(session, "late@example.com", OperatorRole.OPERATOR, CLI)
    link = await service.issue_magic_link(session, operator)
    with frozen_at(utcnow() + timedelta(minutes=16)), pytest.raises(Unauthorized):
        await service.consume_magic_link(session, link.token)


async def test_revoked_session_no_longer_authenticates(session: AsyncSession) -> None:
    operator = await service.create_operator(session, "rev@example.com", OperatorRole.OPERATOR, CLI)
    login = await service.consume_magic_link(
        session, (await service.issue_magic_link(session, operator)).token
    )
    assert await service.revoke_all_sessions(session, operator, CLI) == 1
    with pytest.raises(Unauthorized):
        await service.operator_for_session(session, login.token)


async def test_duplicate_or_malformed_email_is_refused_and_audited_creation_is_kept(
    session: AsyncSession,
) -> None:
    await service.create_operator(session, "dup@example.com", OperatorRole.OPERATOR, CLI)
    with pytest.raises(Conflict):
        await service.create_operator(session, "DUP@example.com", OperatorRole.ADMIN, CLI)
    with pytest.raises(BadRequest):
        await service.create_operator(session, "not-an-email", OperatorRole.ADMIN, CLI)
    actions = (await session.execute(select(AuditLog.action))).scalars().all()
    assert actions.count("operator.create") == 1


async def test_a_new_link_ends_the_earlier_unused_ones(session: AsyncSession) -> None:
    operator = await service.create_operator(session, "twice@example.com", OperatorRole.OPERATOR, CLI)
    first = await service.issue_magic_link(session, operator)
    second = await service.issue_magic_link(session, operator)
    with pytest.raises(Unauthorized, match="invalid, expired or already used"):
        await service.consume_magic_link(session, first.token)
    assert (await service.consume_magic_link(session, second.token)).operator.id == operator.id


async def test_a_link_row_written_without_the_secret_does_not_log_in(session: AsyncSession) -> None:
    """Write access to the database alone cannot mint a login link: rows are keyed by MAGIC_LINK_SECRET."""
    operator = await service.create_operator(session, "forged@example.com", OperatorRole.ADMIN, CLI)
    chosen = "attacker-chosen-token"
    session.add(
        MagicLinkToken(
            operator_id=operator.id, token_hash=token_hash(chosen), expires_at=utcnow() + timedelta(minutes=5)
        )
    )
    await session.flush()
    with pytest.raises(Unauthorized):
        await service.consume_magic_link(session, chosen)
    link = await service.issue_magic_link(session, operator)
    stored = (
        await session.execute(select(MagicLinkToken.token_hash).where(MagicLinkToken.used_at.is_(None)))
    ).scalars()
    assert token_hash(link.token) not in list(stored)


async def test_a_link_for_an_e_mail_needs_an_existing_active_operator(session: AsyncSession) -> None:
    with pytest.raises(NotFound, match=r"no operator has the e-mail nobody@example\.com"):
        await service.issue_magic_link_for(session, "Nobody@Example.com", CLI)
    operator = await service.create_operator(session, "gone@example.com", OperatorRole.VIEWER, CLI)
    operator.is_active = False
    with pytest.raises(Unauthorized, match=r"gone@example\.com is deactivated"):
        await service.issue_magic_link_for(session, "gone@example.com", CLI)
    operator.is_active = True
    link = await service.issue_magic_link_for(session, "gone@example.com", CLI)
    assert (await service.consume_magic_link(session, link.token)).operator.id == operator.id
    actions = (await session.execute(select(AuditLog.action))).scalars().all()
    assert actions.count("operator.login_link") == 1
