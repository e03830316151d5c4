"""The catalog's rules: what a `/start` payload names, which page of creators a buyer sees, what a
creator's page shows and when a creator waits for the buyer's 18+ confirmation; and the operators'
side: creating, editing, (de)activating a creator, and asking for a promo (audited, flushed only)."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.creator import repository
from tgadmin.creator.schemas import CreatorCreate, CreatorUpdate
from tgadmin.errors import Conflict, NotFound
from tgadmin.models import Creator, Group, MediaAsset, Operator, Product
from tgadmin.telegram.media import kind_of
from tgadmin.webkit.params import INT64_MAX

PAGE_SIZE = 8  # creators per page of the list: one button each, plus a row to move between pages
ALBUM_MAX = 10  # sendMediaGroup takes 2-10 items

# `model_<creatorId>` then optionally `_<source>`; the id is checked against the database's range.
_LINK = re.compile(r"model_([0-9]{1,19})(?:_(.*))?", re.DOTALL)
_SOURCE = re.compile(r"[A-Za-z0-9-]{1,32}")


@dataclass(frozen=True, slots=True)
class DeepLink:
    creator_id: int
    source: str | None


def parse_payload(payload: str) -> DeepLink | None:
    """The creator (and source tag) a `/start` payload names; None when it names none.

    A source tag that is not 1-32 letters, digits or '-' is dropped: the buyer still gets the
    creator they followed the link for, only the attribution is lost."""
    match = _LINK.fullmatch(payload.strip())
    if match is None or not valid_id(int(match.group(1))):
        return None
    tag = match.group(2)
    return DeepLink(int(match.group(1)), tag if tag is not None and _SOURCE.fullmatch(tag) else None)


def clean_source(source: str) -> str | None:
    """A source tag as a button carries it back ("" or tampered: none)."""
    return source if _SOURCE.fullmatch(source) else None


async def record_start(session: AsyncSession, link: DeepLink, user_id: int | None) -> None:
    """Count a `/start` through a creator's deep link (the conversion funnel's first step)."""
    await repository.add_start(session, link.creator_id, user_id, link.source)


def valid_id(creator_id: int) -> bool:
    """Ids outside a row id's range name nothing (and must not reach the driver)."""
    return 1 <= creator_id <= INT64_MAX


@dataclass(frozen=True, slots=True)
class Catalog:
    creators: list[Creator]
    page: int  # 0-based, within [0, pages)
    pages: int

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


async def catalog(session: AsyncSession, page: int) -> Catalog:
    """A page of active creators by name; a page past the end (creators went away) shows the last."""
    total = await repository.count_active(session)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    creators = await repository.active_page(session, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    return Catalog(creators, page, pages)


async def active_creator(session: AsyncSession, creator_id: int) -> Creator | None:
    """The creator if it exists and is active; None for anything a buyer must not see."""
    if not valid_id(creator_id):
        return None
    creator = await repository.get(session, creator_id)
    return creator if creator is not None and creator.is_active else None


def needs_age_confirmation(creator: Creator, age_confirmed_at: datetime | None) -> bool:
    return creator.is_adult and age_confirmed_at is None


@dataclass(frozen=True, slots=True)
class Showcase:
    """What a creator's page shows: previews (each with this bot's file_id, if any), products."""

    creator: Creator
    previews: list[tuple[MediaAsset, str | None]]
    products: list[Product]


async def showcase(session: AsyncSession, creator: Creator, bot_id: int) -> Showcase:
    previews = [
        (asset, file_id)
        for asset, file_id in await repository.previews(session, creator.id, bot_id)
        if kind_of(asset.content_type) != "document"  # an album of photos and videos only
    ]
    products = await repository.active_products(session, creator.id)
    return Showcase(creator, previews[:ALBUM_MAX], products)


# --- the operators' side -------------------------------------------------------------------------

EDITABLE = ("name", "username", "bio", "tier", "country", "is_adult", "is_active")


def actor_of(operator: Operator, ip: str | None = None) -> Actor:
    return Actor.operator(operator.id, operator.email, ip)


def snapshot(creator: Creator) -> dict[str, Any]:
    return {field: getattr(creator, field) for field in EDITABLE}


async def get_creator(session: AsyncSession, creator_id: int) -> Creator:
    """The creator, active or not; NotFound otherwise."""
    creator = await repository.get(session, creator_id) if valid_id(creator_id) else None
    if creator is None:
        raise NotFound(f"no creator with id {creator_id}")
    return creator


async def _unique(session: AsyncSession, username: str, other_than: int | None = None) -> None:
    if await repository.username_taken(session, username, other_than=other_than):
        raise Conflict(f"the username @{username} is already taken by another creator; choose another")


async def _flush(session: AsyncSession, username: str) -> None:
    """Flush in a savepoint: a duplicate that slipped past the check (two operators at once) is the
    same clear refusal, and the request's other work survives it."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            f"the username @{username} is already taken by another creator; choose another"
        ) from None


async def create(session: AsyncSession, data: CreatorCreate, actor: Actor) -> Creator:
    await _unique(session, data.username)
    creator = Creator(**data.model_dump(), is_active=True)
    session.add(creator)
    await _flush(session, data.username)
    await record(session, actor, "creator.created", "creator", creator.id, after=snapshot(creator))
    return creator


async def update(session: AsyncSession, creator: Creator, data: CreatorUpdate, actor: Actor) -> Creator:
    """Change the fields given; nothing given, or nothing different, records nothing."""
    changes = {key: value for key, value in data.model_dump(exclude_unset=True).items() if key in EDITABLE}
    for required in ("name", "username", "tier", "is_adult", "is_active"):
        if required in changes and changes[required] is None:
            del changes[required]  # an explicit null cannot blank a required field
    changes = {key: value for key, value in changes.items() if getattr(creator, key) != value}
    if not changes:
        return creator
    if "username" in changes:
        await _unique(session, changes["username"], other_than=creator.id)
    before = snapshot(creator)
    for key, value in changes.items():
        setattr(creator, key, value)
    await _flush(session, creator.username)
    action = "creator.updated"
    if set(changes) == {"is_active"}:
        action = "creator.activated" if creator.is_active else "creator.deactivated"
    await record(session, actor, action, "creator", creator.id, before=before, after=snapshot(creator))
    return creator


async def promo_groups(session: AsyncSession) -> list[Group]:
    """Where a promo can go: active groups where the bot is an administrator."""
    return await repository.promo_groups(session)


async def request_promo(session: AsyncSession, creator: Creator, group_id: int, actor: Actor) -> str:
    """Check the promo can be posted and record the request; returns the job id to enqueue it under
    (after the commit) so that the operator is told which job it is."""
    if not creator.is_active:
        raise Conflict(f"{creator.name} is inactive: activate her before sending a promo")
    group = next((g for g in await repository.promo_groups(session) if g.id == group_id), None)
    if group is None:
        raise Conflict(f"group {group_id} is not an active group where the bot is an administrator")
    if not await repository.preview_asset_ids(session, creator.id):
        raise Conflict(f"{creator.name} has no preview photo to post: upload one first")
    job_id = f"send-promo-{creator.id}-{group.id}-{uuid.uuid4().hex[:12]}"
    after = {"group_id": group.id, "group": group.title, "job_id": job_id}
    await record(session, actor, "creator.promo_requested", "creator", creator.id, after=after)
    return job_id
