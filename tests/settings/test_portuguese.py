"""The Operators, API tokens and Settings pages speak Portuguese by default: every text they wrap
has its translation in locale/pt/admin.po."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.fixtures.dashboard import Desk, Person
from tgadmin.models.enums import OperatorRole
from tgadmin.operator.auth import SESSION_COOKIE
from tgadmin.webkit.i18n import portuguese

TEMPLATES = Path(__file__).resolve().parents[2] / "tgadmin" / "templates"
WRAPPED = re.compile(r"""_\((?:"([^"]+)"|'([^']+)')\)""")


def test_every_wrapped_text_of_these_pages_has_its_portuguese() -> None:
    catalog = portuguese()
    missing = [
        text
        for name in ("operators.html", "tokens.html", "settings.html")
        for found in WRAPPED.findall((TEMPLATES / name).read_text())
        for text in found
        if text and text not in catalog
    ]
    assert missing == []


async def test_the_pages_are_in_portuguese_without_an_english_browser(
    desk: Desk, staff: dict[OperatorRole | None, Person]
) -> None:
    admin = staff[OperatorRole.ADMIN]
    async with httpx.AsyncClient(base_url=desk.base_url, trust_env=False) as plain:
        plain.cookies.set(SESSION_COOKIE, admin.session_token)
        assert "Convidar um operador" in (await plain.get("/operators")).text
        assert "Criar um token" in (await plain.get("/account/tokens")).text
        assert "Formas de pagamento" in (await plain.get("/settings")).text
