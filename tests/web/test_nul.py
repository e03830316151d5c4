"""A NUL character never reaches the database as text (PostgreSQL refuses it, which was a 500): a
JSON body, a form or a query carrying one is refused with 422 in the one error shape, nothing is
written, and everything else passes untouched — a file upload's binary bytes included."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.fixtures.dashboard import Desk, Person
from tgadmin.models import Creator
from tgadmin.models.enums import OperatorRole


async def test_a_nul_in_json_a_form_or_a_query_is_refused_and_nothing_is_written(
    desk: Desk, staff: dict[OperatorRole | None, Person]
) -> None:
    admin = staff[OperatorRole.ADMIN]
    refused = await admin.api("POST", "/api/v1/creators", json={"name": "Ana\u0000", "username": "ana_nul"})
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_input" and "NUL" in refused.json()["message"]
    form = await admin.submit("/creators/new", name="Ana\x00", username="ana_nul2")
    assert form.status_code == 422 and "NUL" in form.text
    query = await admin.http.get("/api/v1/audit", params={"actor": "a\x00b"})
    assert query.status_code == 422
    async with desk.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Creator)) == 0

    created = await admin.api("POST", "/api/v1/creators", json={"name": "Ana", "username": "ana_ok"})
    assert created.status_code == 201, created.text
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"  # binary with NULs: a file, not text
    upload = await admin.http.post(
        f"/api/v1/creators/{created.json()['id']}/previews",
        files={"file": ("a.png", png, "image/png")},
        headers={"X-CSRF-Token": admin.csrf},
    )
    assert upload.status_code != 422 or "NUL" not in upload.text  # judged as an image, not as text
