"""Operators and their logins: magic links (single use, expiring, a newer one ends the older ones,
stored as a keyed hash) and revocable sessions."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.clock import ensure_utc, time_zones, utcnow
from tgadmin.config import Settings, get_settings
from tgadmin.crypto import random_token, token_hash
from tgadmin.errors import BadRequest, ConfigError, Conflict, NotFound, Unauthorized
from tgadmin.models import MagicLinkToken, Operator, OperatorSession
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import repository
from tgadmin.ratelimit import FixedWindows, Limit

log = logging.getLogger(__name__)

MAGIC_LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(days=14)
# `last_seen_at` is exact to a minute: a page polling a job every second then writes nothing. On
# SQLite a request's write fails at once when another process (a worker) committed since the
# request first read, so a read-only request must not write.
SEEN_PRECISION = timedelta(minutes=1)


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise BadRequest(f"{email!r} is not a valid e-mail address: {error}") from None


async def create_operator(session: AsyncSession, email: str, role: OperatorRole, actor: Actor) -> Operator:
    address = normalize_email(email)
    if await repository.by_email(session, address) is not None:
        raise Conflict(f"an operator with e-mail {address} already exists")
    operator = Operator(email=address, role=role, is_active=True)
    session.add(operator)
    await session.flush()
    await record(
        session,
        actor,
        "operator.create",
        "operator",
        operator.id,
        after={"email": address, "role": role.value},
    )
    return operator


def magic_link_hash(token: str) -> str:
    """What is stored of a login link: HMAC(MAGIC_LINK_SECRET, token). A plain hash would let anyone
    who can write to the database (a restored dump, an injected INSERT) mint a link for any operator;
    without the secret, a stored row can neither be forged nor matched to a link."""
    secret = get_settings().magic_link_secret
    if secret is None or not secret.get_secret_value():
        raise ConfigError("MAGIC_LINK_SECRET: is required for login links but not set")
    return hmac.new(
        secret.get_secret_value().encode(), b"magic-link:" + token.encode(), hashlib.sha256
    ).hexdigest()


def login_url(public_url: str, token: str) -> str:
    return f"{public_url}/auth/magic?token={token}"


@dataclass(frozen=True)
class IssuedLink:
    operator: Operator
    token: str  # shown once (e-mailed or printed); only its keyed hash is stored


async def issue_magic_link(session: AsyncSession, operator: Operator, ip: str | None = None) -> IssuedLink:
    """A fresh single-use link; the operator's earlier unused links stop working."""
    if not operator.is_active:
        raise Unauthorized(f"operator {operator.email} is deactivated")
    token = random_token()
    now = utcnow()
    await repository.expire_unused_links(session, operator.id, now)
    session.add(
        MagicLinkToken(
            operator_id=operator.id, token_hash=magic_link_hash(token), expires_at=now + MAGIC_LINK_TTL, ip=ip
        )
    )
    await session.flush()
    return IssuedLink(operator, token)


async def issue_magic_link_for(session: AsyncSession, email: str, actor: Actor) -> IssuedLink:
    """A login link for an existing, active operator, handed out by someone other than the operator
    (the CLI); recorded in the audit log."""
    address = normalize_email(email)
    operator = await repository.by_email(session, address)
    if operator is None:
        raise NotFound(f"no operator has the e-mail {address}; `tgadmin operators create` makes one")
    link = await issue_magic_link(session, operator)
    await record(session, actor, "operator.login_link", "operator", operator.id)
    return link


def _address_key(address: str | None) -> str:
    """The client address a limit counts against; IPv6 by /64, as one host is usually given a whole one."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


async def request_magic_link(
    session: AsyncSession, windows: FixedWindows, settings: Settings, email: str, address: str | None
) -> IssuedLink | None:
    """A login link asked for on /login: issued only for an active operator, and only within the
    limits per e-mail and per client address (every request counts, known e-mail or not).
    `email` is already normalized; None means nothing is to be sent."""
    email_key = hashlib.sha256(email.encode()).hexdigest()[:32]
    refused = await windows.hit(
        [
            Limit(f"login:email:{email_key}", settings.login_limit_per_email),
            Limit(f"login:addr:{_address_key(address)}", settings.login_limit_per_address),
        ],
        settings.login_limit_window_seconds,
    )
    if refused is not None:
        per = "e-mail" if refused.key.startswith("login:email:") else "address"
        log.warning(
            "login link not sent to %s (asked from %s): more than %d per %s in %d s",
            email,
            address,
            refused.limit,
            per,
            settings.login_limit_window_seconds,
        )
        return None
    operator = await repository.by_email(session, email)
    if operator is None or not operator.is_active:
        return None
    return await issue_magic_link(session, operator, ip=address)


@dataclass(frozen=True)
class NewSession:
    operator: Operator
    token: str  # goes into the session cookie; only its hash is stored


async def consume_magic_link(
    session: AsyncSession, token: str, ip: str | None = None, user_agent: str | None = None
) -> NewSession:
    """Trade a magic-link token for a session; a used, expired or unknown token is refused."""
    now = utcnow()
    operator_id = await repository.use_magic_link(session, magic_link_hash(token), now)
    operator = None if operator_id is None else await repository.by_id(session, operator_id)
    if operator is None or not operator.is_active:
        raise Unauthorized("this login link is invalid, expired or already used; ask for a new one")
    cookie = random_token()
    session.add(
        OperatorSession(
            operator_id=operator.id,
            token_hash=token_hash(cookie),
            expires_at=now + SESSION_TTL,
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    operator.last_login_at = now
    await session.flush()
    await record(
        session, Actor.operator(operator.id, operator.email, ip), "operator.login", "operator", operator.id
    )
    return NewSession(operator, cookie)


async def operator_for_session(session: AsyncSession, cookie: str) -> Operator:
    now = utcnow()
    found = await repository.live_session_with_operator(session, token_hash(cookie), now)
    if found is None or not found[1].is_active:
        raise Unauthorized("please log in again")
    live, operator = found
    if now - ensure_utc(live.last_seen_at) >= SEEN_PRECISION:
        live.last_seen_at = now
    return operator


async def revoke_all_sessions(session: AsyncSession, operator: Operator, actor: Actor) -> int:
    revoked = await repository.revoke_sessions(session, operator.id, utcnow())
    await record(
        session, actor, "operator.sessions_revoked", "operator", operator.id, after={"revoked": revoked}
    )
    return revoked


async def end_session(session: AsyncSession, cookie: str) -> None:
    """Log out: this session only."""
    live = await repository.live_session(session, token_hash(cookie), utcnow())
    if live is not None:
        live.revoked_at = utcnow()
        await session.flush()


# --- administration (the Operators page) ---------------------------------------------------------


async def list_operators(session: AsyncSession) -> list[Operator]:
    return await repository.all_operators(session)


async def get_operator(session: AsyncSession, operator_id: int) -> Operator:
    operator = await repository.by_id(session, operator_id)
    if operator is None:
        raise NotFound(f"operator {operator_id} does not exist")
    return operator


async def invite(session: AsyncSession, email: str, role: OperatorRole, actor: Actor) -> IssuedLink:
    """A new operator and a login link for them (the caller mails it after the commit)."""
    operator = await create_operator(session, email, role, actor)
    return await issue_magic_link(session, operator)


async def _keep_an_admin(session: AsyncSession, operator: Operator, doing: str) -> None:
    """Refuse to leave the dashboard without an active admin: nobody could manage it any more."""
    if operator.role != OperatorRole.ADMIN or not operator.is_active:
        return
    admins = await repository.lock_active_admins(session)
    if admins == [operator.id]:
        raise Conflict(
            f"{operator.email} is the last active admin; {doing} would leave nobody able to manage "
            "operators and settings. Make another operator admin first."
        )


async def set_time_zone(session: AsyncSession, operator: Operator, name: str, actor: Actor) -> Operator:
    """The zone the dashboard shows this operator's times in and reads the times they type in."""
    name = name.strip()
    if name not in time_zones():
        raise BadRequest(f"{name!r} is not a time zone: choose one like America/Sao_Paulo or Europe/Lisbon")
    if operator.time_zone == name:
        return operator
    before = operator.time_zone
    operator.time_zone = name
    await session.flush()
    await record(
        session,
        actor,
        "operator.time_zone",
        "operator",
        operator.id,
        before={"time_zone": before},
        after={"time_zone": name},
    )
    return operator


async def change_role(session: AsyncSession, operator_id: int, role: OperatorRole, actor: Actor) -> Operator:
    operator = await get_operator(session, operator_id)
    if operator.role == role:
        return operator
    if role != OperatorRole.ADMIN:
        await _keep_an_admin(session, operator, f"making them {role.value}")
    before = operator.role.value
    operator.role = role
    await session.flush()
    await record(
        session,
        actor,
        "operator.role",
        "operator",
        operator.id,
        before={"role": before},
        after={"role": role.value},
    )
    return operator


async def deactivate(session: AsyncSession, operator_id: int, actor: Actor) -> Operator:
    """Deactivate an operator: their sessions, API tokens and unused login links end at once."""
    operator = await get_operator(session, operator_id)
    if not operator.is_active:
        return operator
    await _keep_an_admin(session, operator, "deactivating them")
    now = utcnow()
    operator.is_active = False
    sessions = await repository.revoke_sessions(session, operator.id, now)
    tokens = await repository.revoke_tokens(session, operator.id, now)
    await repository.expire_unused_links(session, operator.id, now)
    await session.flush()
    await record(
        session,
        actor,
        "operator.deactivate",
        "operator",
        operator.id,
        before={"active": True},
        after={"active": False, "sessions_revoked": sessions, "tokens_revoked": tokens},
    )
    return operator


async def reactivate(session: AsyncSession, operator_id: int, actor: Actor) -> Operator:
    """Let a deactivated operator log in again (with a new link: old sessions and tokens stay revoked)."""
    operator = await get_operator(session, operator_id)
    if operator.is_active:
        return operator
    operator.is_active = True
    await session.flush()
    await record(
        session,
        actor,
        "operator.reactivate",
        "operator",
        operator.id,
        before={"active": False},
        after={"active": True},
    )
    return operator
