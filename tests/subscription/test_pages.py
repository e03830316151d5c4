"""The Subscriptions page and /api/v1/subscriptions over HTTP: the three views, the warnings sent, what
the end of an access left behind (undeletable messages, a failed access-chat removal, as expiry
records them), server-side pages, every role."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import make_product, make_purchase
from tests.fixtures.dashboard import Desk, Person
from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole, ProductType, PurchaseStatus
from tgadmin.subscription.service import Removal

Staff = dict[OperatorRole | None, Person]
CANT_DELETE = "Bad Request: message can't be deleted for everyone"
CANT_BAN = "Bad Request: not enough rights to restrict/ban chat member"


async def seed(desk: Desk, extra_active: int = 0) -> dict[str, int]:
    now = utcnow()
    async with session_scope(desk.sessions) as session:
        vip = await make_product(
            session, kind=ProductType.SUBSCRIPTION, title="Assinatura VIP", access_chat_id=-100
        )
        pack = await make_product(session, title="Pack Verão")
        live = PurchaseStatus.COMPLETED
        active = await make_purchase(
            session, product=vip, status=live, access_expires_at=now + timedelta(days=20)
        )
        soon = await make_purchase(
            session,
            product=vip,
            status=live,
            access_expires_at=now + timedelta(days=3),
            expiration_notified_7_days=True,
        )
        await make_purchase(
            session,
            product=vip,
            status=live,
            access_expires_at=now + timedelta(days=2),
            renews_purchase_id=soon.id,
        )
        await make_purchase(session, product=pack, status=live)
        ended = await make_purchase(
            session,
            product=vip,
            status=PurchaseStatus.EXPIRED,
            access_expires_at=now - timedelta(days=1),
            expiration_notified_7_days=True,
            expiration_notified_1_day=True,
        )
        removal = Removal(access_chat_id=-100, access_error=CANT_BAN)
        removal.mark_deleted(555, [10])
        removal.mark_undeletable(555, [11, 12], CANT_DELETE)
        after = {"status": "expired", **removal.describe(), "buyer": "told"}
        await record(
            session,
            Actor.system("subscription-sweep"),
            "subscription.expired",
            "purchase",
            ended.id,
            after=after,
        )
        for n in range(extra_active):
            await make_purchase(
                session, product=vip, status=live, access_expires_at=now + timedelta(days=30, minutes=n)
            )
    return {"active": active.id, "soon": soon.id, "ended": ended.id}


async def test_the_three_views_show_warnings_and_what_expiry_left_behind(desk: Desk, staff: Staff) -> None:
    ids = await seed(desk)
    viewer = staff[OperatorRole.VIEWER]
    active = (await viewer.http.get("/api/v1/subscriptions")).json()
    assert [s["purchase_id"] for s in active["items"]] == [ids["soon"], ids["active"]]  # soonest end first
    expiring = (await viewer.http.get("/api/v1/subscriptions", params={"view": "expiring"})).json()
    [soon] = expiring["items"]
    assert soon["purchase_id"] == ids["soon"] and soon["warned_7_days"] and not soon["warned_1_day"]
    expired = (await viewer.http.get("/api/v1/subscriptions", params={"view": "expired"})).json()
    [ended] = expired["items"]
    assert ended["undeletable"] == [{"chat_id": 555, "message_ids": [11, 12], "reason": CANT_DELETE}]
    assert ended["access_chat_failure"] == CANT_BAN and ended["product_title"] == "Assinatura VIP"

    page = await viewer.http.get("/subscriptions", params={"view": "expired"})
    assert page.status_code == 200 and f'id="sub-{ids["ended"]}"' in page.text
    assert "2 undeletable" in page.text and "messages 11, 12" in page.text
    assert "still in the access chat" in page.text and "not enough rights" in page.text
    assert "48 hours" in page.text


async def test_pages_are_cut_on_the_server(desk: Desk, staff: Staff) -> None:
    await seed(desk, extra_active=60)
    viewer = staff[OperatorRole.VIEWER]
    first = await viewer.http.get("/subscriptions")
    assert first.text.count('id="sub-') == 50 and "page 1 of 2" in first.text
    second = await viewer.http.get("/subscriptions", params={"page": 2})
    assert second.text.count('id="sub-') == 12 and "page 2 of 2" in second.text
    api = (await viewer.http.get("/api/v1/subscriptions", params={"limit": 10, "offset": 55})).json()
    assert api["total"] == 62 and len(api["items"]) == 7


async def test_every_role_reads_and_bad_input_is_refused_clearly(desk: Desk, staff: Staff) -> None:
    anonymous = staff[None]
    page = await anonymous.http.get("/subscriptions")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert (await anonymous.http.get("/api/v1/subscriptions")).status_code == 401
    for role in (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN):
        assert (await staff[role].http.get("/subscriptions")).status_code == 200
        assert (await staff[role].http.get("/api/v1/subscriptions")).status_code == 200
    viewer = staff[OperatorRole.VIEWER]
    bad = await viewer.http.get("/subscriptions", params={"view": "forever"})
    assert bad.status_code == 400 and "no view" in bad.text
    assert (await viewer.http.get("/api/v1/subscriptions", params={"view": "forever"})).status_code == 422
