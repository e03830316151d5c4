"""The Campaigns pages and their JSON twins over real HTTP (dashboard on uvicorn, PostgreSQL and
SQLite, Redis): compose with its preview and target count, refusals in words, the campaign's page
with each group's outcome, and pause / resume / cancel as each role may."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.factories import make_bot, make_group
from tests.fixtures.dashboard import Desk, Person
from tgadmin.campaign import service
from tgadmin.campaign.schemas import CampaignCreate
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.i18n import BRASILIA
from tgadmin.models import Campaign, Group
from tgadmin.models.enums import BotMemberStatus, CampaignStatus, OperatorRole
from tgadmin.queue.names import JobName

Staff = dict[OperatorRole | None, Person]
S = CampaignStatus


async def groups(desk: Desk) -> dict[str, Group]:
    """Four groups: two tagged vip (one of them inactive), one br, one where the bot is a member."""
    async with session_scope(desk.sessions) as session:
        bot = await make_bot(session)
        found = {
            "vip": await make_group(session, bot, title="VIP Ofertas"),
            "vip_off": await make_group(session, bot, title="VIP Antigo", is_active=False),
            "br": await make_group(session, bot, title="Brasil Promo"),
            "member": await make_group(session, bot, title="Só Membro", status=BotMemberStatus.MEMBER),
        }
        found["vip"].tags = ["vip"]
        found["vip_off"].tags = ["vip"]
        found["br"].tags = ["br"]
        found["vip"].bot_rights = {"can_delete_messages": True}
        return found


def local(moment: Any) -> str:
    return str(moment.astimezone(BRASILIA).strftime("%Y-%m-%dT%H:%M"))


async def stored(desk: Desk) -> list[Campaign]:
    async with desk.sessions() as session:
        return list((await session.execute(select(Campaign).order_by(Campaign.id))).scalars())


async def test_an_operator_composes_previews_and_schedules_a_campaign_to_tagged_groups(
    desk: Desk, staff: Staff
) -> None:
    found = await groups(desk)
    operator = staff[OperatorRole.OPERATOR]
    form = await operator.http.get("/campaigns/new")
    assert form.status_code == 200 and "VIP Ofertas" in form.text and 'value="vip"' in form.text
    fields: dict[str, Any] = {
        "name": "Black Friday",
        "text": "Promoção <b>hoje</b>",
        "targets": "filter",
        "active_only": "yes",
        "tag": ["vip", "br"],
        "when": "at",
        "at": local(utcnow() + timedelta(hours=2)),
        "button_text": ["Ver", "", ""],
        "button_url": ["https://example.com/oferta", "", ""],
        "button_creator": ["", "", ""],
    }
    preview = await operator.submit("/campaigns/preview", **fields)
    assert preview.status_code == 200
    assert "Promoção <b>hoje</b>" in preview.text and "2 groups" in preview.text
    created = await operator.submit("/campaigns", **fields)
    assert created.status_code == 303, created.text
    [campaign] = await stored(desk)
    assert created.headers["location"] == f"/campaigns/{campaign.id}"
    assert campaign.status is S.SCHEDULED and sorted(campaign.group_ids) == sorted(
        [found["vip"].id, found["br"].id]
    )
    assert campaign.target_filter == {"active_only": True, "tags": ["vip", "br"], "with_rights": False}
    page = await operator.http.get(created.headers["location"])
    assert "Campaign Black Friday scheduled." in page.text and "Starts at" in page.text
    listing = await staff[OperatorRole.VIEWER].http.get("/campaigns")
    assert f'id="campaign-{campaign.id}" data-status="scheduled"' in listing.text


async def test_bad_input_is_refused_in_words_and_nothing_is_created(desk: Desk, staff: Staff) -> None:
    found = await groups(desk)
    operator = staff[OperatorRole.OPERATOR]
    base: dict[str, Any] = {"name": "X", "text": "Oi", "group": [str(found["br"].id)]}
    cases: dict[str, dict[str, Any]] = {
        "the scheduled time is in the past": {"when": "at", "at": local(utcnow() - timedelta(hours=1))},
        "no group matches these targets": {"targets": "filter", "tag": ["nenhuma"]},
        "Telegram lets a bot delete its messages only within 48 hours": {"auto_delete_hours": "49"},
        "a repeating campaign needs an end date": {"repeat": "every", "every_hours": "2"},
        "is not a tag Telegram accepts": {"text": "<div>Oi</div>"},
        "no media with id 999 in the library": {"asset": ["999"]},
    }
    for expected, change in cases.items():
        refused = await operator.submit("/campaigns", **(base | change))
        assert refused.status_code in (400, 422), (expected, refused.status_code)
        assert expected in refused.text, expected
    async with session_scope(desk.sessions) as session:
        group = await session.get_one(Group, found["br"].id)
        group.cooldown_seconds = 3 * 3600
    slow: dict[str, Any] = {
        "repeat": "every",
        "every_hours": "2",
        "until": local(utcnow() + timedelta(days=1)),
    }
    refused = await operator.submit("/campaigns", **(base | slow))
    assert "shorter than the cooldown of 1 group(s): Brasil Promo (3 h)" in refused.text
    assert await stored(desk) == []


async def test_viewers_read_campaigns_and_only_operators_compose_or_act(desk: Desk, staff: Staff) -> None:
    found = await groups(desk)
    async with session_scope(desk.sessions) as session:
        campaign = await service.create_campaign(
            session,
            service.SYSTEM,
            CampaignCreate.model_validate(
                {
                    "name": "Natal",
                    "content": {"text": "Feliz Natal"},
                    "group_ids": [found["br"].id],
                    "scheduled_at": utcnow() + timedelta(days=1),
                }
            ),
        )
    viewer, operator = staff[OperatorRole.VIEWER], staff[OperatorRole.OPERATOR]
    page = await viewer.http.get(f"/campaigns/{campaign.id}")
    assert page.status_code == 200 and "Natal" in page.text and "Cancel" not in page.text
    assert (await viewer.http.get("/campaigns/new")).status_code == 403
    assert (await viewer.submit(f"/campaigns/{campaign.id}/cancel")).status_code == 403
    assert "Cancel" in (await operator.http.get(f"/campaigns/{campaign.id}")).text
    paused = await operator.submit(f"/campaigns/{campaign.id}/pause")
    after = await operator.http.get(paused.headers["location"])
    assert "cannot go from scheduled to paused" in after.text
    cancelled = await operator.submit(f"/campaigns/{campaign.id}/cancel")
    assert "Campaign Natal: cancelled" in (await operator.http.get(cancelled.headers["location"])).text
    api = await viewer.api("GET", f"/api/v1/campaigns/{campaign.id}")
    assert api.status_code == 200 and api.json()["status"] == "cancelled"


async def test_the_api_counts_creates_and_acts_with_the_same_checks(desk: Desk, staff: Staff) -> None:
    found = await groups(desk)
    operator, viewer = staff[OperatorRole.OPERATOR], staff[OperatorRole.VIEWER]
    body = {
        "name": "API",
        "content": {"text": "Oi", "parse_mode": "HTML"},
        "target_filter": {"active_only": True, "with_rights": True},
        "auto_delete_hours": 4,
        "scheduled_at": (utcnow() + timedelta(hours=1)).isoformat(),
    }
    # Auto-delete needs the right to delete: only the vip group's bot has it.
    counted = await viewer.api("POST", "/api/v1/campaigns/count", json=body)
    assert counted.status_code == 200 and counted.json() == {"groups": 1}
    assert (await viewer.api("POST", "/api/v1/campaigns", json=body)).status_code == 403
    created = await operator.api("POST", "/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["group_ids"] == [found["vip"].id]
    campaign_id = created.json()["id"]
    past = body | {"scheduled_at": (utcnow() - timedelta(hours=1)).isoformat()}
    refused = await operator.api("POST", "/api/v1/campaigns", json=past)
    assert refused.status_code == 400 and "in the past" in refused.json()["message"]
    wrong = await operator.api("POST", f"/api/v1/campaigns/{campaign_id}/resume")
    assert wrong.status_code == 409
    listed = await viewer.api("GET", "/api/v1/campaigns")
    assert [c["id"] for c in listed.json()["items"]] == [campaign_id]
    cancelled = await operator.api("POST", f"/api/v1/campaigns/{campaign_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert re.search(r"campaign", (await viewer.api("GET", "/api/v1/campaigns/999")).text)


async def test_tags_set_on_the_group_page_choose_the_groups_of_a_filter(desk: Desk, staff: Staff) -> None:
    found = await groups(desk)
    operator = staff[OperatorRole.OPERATOR]
    saved = await operator.submit(f"/groups/{found['member'].id}/settings", tags="Promo, vip")
    assert saved.status_code == 303
    async with desk.sessions() as session:
        assert (await session.get_one(Group, found["member"].id)).tags == ["promo", "vip"]
    refused = await operator.submit(f"/groups/{found['member'].id}/settings", tags="não vale")
    assert "is not" in (await operator.http.get(refused.headers["location"])).text
    fields: dict[str, Any] = {"text": "Oi", "targets": "filter", "active_only": "yes", "tag": ["vip"]}
    counted = await operator.submit("/campaigns/preview", **fields)
    assert "2 groups" in counted.text  # vip and member; the inactive vip group is left out
    rights = await operator.submit("/campaigns/preview", **fields, with_rights="yes", auto_delete_hours="3")
    assert "1 group" in rights.text  # only there may the bot delete its posts


async def test_a_test_send_queues_the_post_for_one_group_outside_any_campaign(
    desk: Desk, staff: Staff
) -> None:
    found = await groups(desk)
    operator = staff[OperatorRole.OPERATOR]
    page = await operator.submit(
        "/campaigns/test",
        name="Teste",
        text="Oi <i>grupo</i>",
        test_group=str(found["br"].id),
        button_text=["Ver"],
        button_url=["https://example.com"],
        button_creator=[""],
    )
    assert page.status_code == 200
    [job_id] = re.findall(r"campaign-test-[0-9a-f]{12}", page.text)[:1]
    assert "See the test in the sandbox" in page.text
    job = await desk.queues.queue(JobName.SEND_MESSAGE.queue).getJob(job_id)
    assert job is not None and job.data["groupDbId"] == found["br"].id and "campaignId" not in job.data
    assert job.data["replyMarkup"] == {"inline_keyboard": [[{"text": "Ver", "url": "https://example.com"}]]}
    assert await stored(desk) == []
    missing = await operator.submit("/campaigns/test", text="Oi")
    assert "Choose the group to send the test to." in missing.text
