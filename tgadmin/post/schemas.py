"""What the post API answers and accepts (`/api/v1/posts...`, `/api/v1/groups/{id}/clear...`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tgadmin.models.enums import PostKind, PostStatus
from tgadmin.post.actions import Queued
from tgadmin.post.repository import HistoryRow
from tgadmin.post.service import MAX_AGE_DAYS, MAX_SELECTED, ClearAsk, ClearCount

INT64_MAX = 2**63 - 1
UNDELETABLE_WHY = "Telegram lets a bot delete a message only within 48 hours of sending it; this one is older"


class PostRead(BaseModel):
    """One message the platform sent to a group, and what became of it."""

    id: int
    group_id: int
    group_title: str
    chat_id: int
    message_id: int
    kind: PostKind
    excerpt: str | None
    status: PostStatus
    sent_at: datetime
    deleted_at: datetime | None
    campaign_id: int | None
    job_id: str | None
    error: str | None = Field(description="what Telegram refused and why (failed or undeletable posts)")

    @classmethod
    def of(cls, row: HistoryRow) -> PostRead:
        post, title = row
        return cls(
            id=post.id,
            group_id=post.group_id,
            group_title=title,
            chat_id=post.chat_id,
            message_id=post.message_id,
            kind=post.kind,
            excerpt=post.excerpt,
            status=post.status,
            sent_at=post.sent_at,
            deleted_at=post.deleted_at,
            campaign_id=post.campaign_id,
            job_id=post.job_id,
            error=post.error,
        )


class PostPage(BaseModel):
    items: list[PostRead]
    total: int = Field(description="how many posts match the filters")
    limit: int
    offset: int


class PostsDelete(BaseModel):
    """Posts to delete (ids of post history rows, any groups: one job per group)."""

    model_config = ConfigDict(extra="forbid")

    post_ids: list[Annotated[int, Field(ge=1, le=INT64_MAX)]] = Field(min_length=1, max_length=MAX_SELECTED)


class JobStarted(BaseModel):
    """A job started for one group; follow it at GET /api/v1/jobs/{queue}/{job_id}."""

    group_id: int
    queue: str = "bot-tasks"
    job_id: str
    messages: int = Field(description="how many messages it was asked to delete")

    @classmethod
    def of(cls, queued: Queued) -> JobStarted:
        return cls(group_id=queued.group_id, job_id=queued.job_id, messages=queued.messages)


class DeleteStarted(BaseModel):
    jobs: list[JobStarted]


class ClearRequest(BaseModel):
    """Clear a group with filters (all optional; together they narrow; none clears every message
    the platform sent there and the chat still shows)."""

    model_config = ConfigDict(extra="forbid")

    from_date: datetime | None = Field(None, description="sent at or after (UTC unless an offset is given)")
    to_date: datetime | None = Field(None, description="sent at or before")
    older_than_days: int | None = Field(None, ge=0, le=MAX_AGE_DAYS)
    from_message_id: int | None = Field(None, ge=1, le=INT64_MAX)
    to_message_id: int | None = Field(None, ge=1, le=INT64_MAX)

    def ask(self) -> ClearAsk:
        return ClearAsk(
            from_date=self.from_date,
            to_date=self.to_date,
            older_than_days=self.older_than_days,
            from_message_id=self.from_message_id,
            to_message_id=self.to_message_id,
        )


class ClearCountRead(BaseModel):
    """What clearing with these filters would do now."""

    matched: int = Field(description="messages still shown that match")
    past_48_hours: int = Field(
        description="of those, sent more than 48 hours ago: Telegram refuses to delete them, so they "
        "will be marked undeletable instead"
    )
    deletable: int = Field(description="matched minus past_48_hours")

    @classmethod
    def of(cls, counted: ClearCount) -> ClearCountRead:
        return cls(matched=counted.matched, past_48_hours=counted.past_window, deletable=counted.deletable)


class ClearStarted(BaseModel):
    job: JobStarted
    count: ClearCountRead
