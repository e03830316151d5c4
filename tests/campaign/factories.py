"""Typed helpers for campaign tests: campaigns made through the service, as an operator would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import audit_actions, make_operator
from tgadmin.audit.service import Actor
from tgadmin.campaign import service
from tgadmin.campaign.schemas import CampaignContent, CampaignCreate
from tgadmin.clock import utcnow
from tgadmin.models import Campaign, CampaignTarget
from tgadmin.models.enums import OperatorRole

BUTTONS = [
    {"text": "🔥 Quero Ver Mais", "url": "https://t.me/shop_bot?start=model_1"},
    {"text": "Canal", "url": "https://example.com/canal"},
]


async def operator_actor(session: AsyncSession, email: str = "ops@example.com") -> Actor:
    """An operator, as the audit trail names them."""
    operator = await make_operator(session, OperatorRole.OPERATOR, email)
    return Actor.operator(operator.id, email)


async def make_campaign(
    session: AsyncSession,
    group_ids: list[int],
    *,
    text: str | None = "Promoção <b>hoje</b>",
    buttons: list[dict[str, str]] | None = None,
    at: datetime | None = None,
    schedule: bool = True,
    actor: Actor | None = None,
    **content: Any,
) -> Campaign:
    """A campaign scheduled a minute ago (due) unless `at` says otherwise or `schedule` is False."""
    data = CampaignCreate(
        name="Black Friday",
        content=CampaignContent.model_validate(
            {
                "text": text,
                "parse_mode": "HTML",
                "buttons": BUTTONS if buttons is None else buttons,
                **content,
            }
        ),
        group_ids=group_ids,
        scheduled_at=(at or utcnow() - timedelta(minutes=1)) if schedule else None,
    )
    return await service.create_campaign(session, actor or Actor.system("tests"), data)


async def targets_of(session: AsyncSession, campaign_id: int) -> dict[int, CampaignTarget]:
    return {t.group_id: t for t in await service.campaign_targets(session, campaign_id)}


async def campaign_audit(session: AsyncSession, campaign_id: int) -> list[str]:
    return await audit_actions(session, "campaign", campaign_id)
