"""The catalog's rules: what a `/start` payload names, which page of creators a buyer sees, what a
creator's page shows and when a creator waits for the buyer's 18+ confirmation."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.creator import repository
from tgadmin.models import Creator, MediaAsset, Product
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
