"""The dashboard in Portuguese by default and in English on request: the browser's language, then
the header's switch (a cookie), which also refuses to redirect anywhere but our own pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from babel.messages.pofile import read_po

from tgadmin.config import load_settings
from tgadmin.web.app import create_app
from tgadmin.webkit.i18n import CATALOG_DIR, LANG_COOKIE, portuguese


@pytest.fixture
async def client(fresh_db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(load_settings(database_url=fresh_db_url, redis_url=None))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://dashboard.test") as http,
    ):
        yield http


async def test_the_login_page_is_in_portuguese_unless_the_browser_asks_for_english(
    client: httpx.AsyncClient,
) -> None:
    plain = await client.get("/login")
    assert "Enviar link de acesso" in plain.text and 'lang="pt-BR"' in plain.text
    english = await client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Send me a login link" in english.text and 'lang="en"' in english.text


async def test_the_switch_remembers_the_choice_and_goes_back_only_to_our_pages(
    client: httpx.AsyncClient,
) -> None:
    switched = await client.get("/language/en", params={"next": "/login"})
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    assert client.cookies.get(LANG_COOKIE) == "en"
    assert "Send me a login link" in (await client.get("/login")).text
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        away = await client.get("/language/pt", params={"next": elsewhere})
        assert away.headers["location"] == "/"
    assert "Enviar link de acesso" in (await client.get("/login")).text
    unknown = await client.get("/language/xx")
    assert unknown.status_code == 404 and client.cookies.get(LANG_COOKIE) == "pt"


def test_every_catalog_entry_keeps_the_placeholders_of_its_english() -> None:
    for english, translated in portuguese().items():
        wanted = sorted(re.findall(r"%\(\w+\)s", english))
        assert sorted(re.findall(r"%\(\w+\)s", translated)) == wanted, english


async def test_the_vendored_libraries_are_served_from_node_modules(client: httpx.AsyncClient) -> None:
    htmx = await client.get("/assets/vendor/htmx.js")
    assert htmx.status_code == 200 and htmx.headers["content-type"].startswith("text/javascript")
    assert b"htmx" in htmx.content
    assert (await client.get("/assets/vendor/cropper.css")).headers["content-type"].startswith("text/css")
    assert (await client.get("/assets/vendor/../../pyproject.toml")).status_code == 404
    assert (await client.get("/assets/vendor/left-pad.js")).status_code == 404


def test_no_text_is_translated_two_ways_by_two_catalogs() -> None:
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted(CATALOG_DIR.glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="pt_BR"):
                if not isinstance(message.id, str) or not message.id or not message.string:
                    continue
                key = f"{message.context}|{message.id}" if message.context else message.id
                earlier = seen.setdefault(key, (path.name, str(message.string)))
                if earlier[1] != message.string:
                    clashes.append(
                        f"{message.id!r}: {earlier[0]} {earlier[1]!r} vs {path.name} {message.string!r}"
                    )
    assert clashes == []


def test_no_catalog_text_carries_markup() -> None:
    # A translated text is trusted HTML once rendered: tags in it would be rendered, not shown.
    tagged = [text for text in portuguese() if re.search(r"<[a-z/]", text)]
    tagged += [text for text in portuguese().values() if re.search(r"<[a-z/]", text)]
    assert tagged == []
