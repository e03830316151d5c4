"""The API docs: Swagger UI at /api/docs and the OpenAPI document, for logged-in operators only,
with every file served by the dashboard itself (from the npm package `swagger-ui-dist` installed by
`make install`), checked in headless Chromium with all network outside the dashboard blocked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Request, Route, async_playwright, expect

from tests.factories import make_operator
from tests.fixtures.dashboard import CHROMIUM_ARGS, serve_app
from tgadmin.config import load_settings
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service as operators
from tgadmin.operator.auth import SESSION_COOKIE
from tgadmin.redis import free_port
from tgadmin.web.app import create_app
from tgadmin.webkit.swagger import SWAGGER_UI_DIR


@dataclass
class Docs:
    url: str
    viewer_session: str


@pytest.fixture
async def docs(fresh_db_url: str) -> AsyncIterator[Docs]:
    """The dashboard served by uvicorn on loopback, and a viewer's session (the least role)."""
    port = free_port()
    settings = load_settings(database_url=fresh_db_url, public_url=f"http://127.0.0.1:{port}")
    app = create_app(settings)
    async with session_scope(app.state.tgadmin.sessions) as session:
        viewer = await make_operator(session, OperatorRole.VIEWER)
        login = await operators.consume_magic_link(
            session, (await operators.issue_magic_link(session, viewer)).token
        )
    async with serve_app(app, port) as url:
        yield Docs(url, login.token)


async def test_api_docs_and_the_openapi_document_need_a_login(docs: Docs) -> None:
    async with httpx.AsyncClient(base_url=docs.url, trust_env=False) as anonymous:
        for path in ("/api/docs", "/api/docs/assets/swagger-ui-bundle.js"):
            page = await anonymous.get(path)
            assert page.status_code == 303 and page.headers["location"] == "/login", path
        document = await anonymous.get("/api/v1/openapi.json")
        assert document.status_code == 401 and document.json()["error"] == "unauthorized"
        for off in ("/redoc", "/docs", "/openapi.json"):
            assert (await anonymous.get(off)).status_code == 404, off


async def test_swagger_ui_files_come_from_the_installed_npm_package(docs: Docs) -> None:
    async with httpx.AsyncClient(base_url=docs.url, trust_env=False) as viewer:
        viewer.cookies.set(SESSION_COOKIE, docs.viewer_session)
        page = await viewer.get("/api/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "http://" not in page.text and "https://" not in page.text and "<script>" not in page.text
        bundle = await viewer.get("/api/docs/assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("text/javascript")
        assert bundle.content == (SWAGGER_UI_DIR / "swagger-ui-bundle.js").read_bytes()
        css = await viewer.get("/api/docs/assets/swagger-ui.css")
        assert css.content == (SWAGGER_UI_DIR / "swagger-ui.css").read_bytes()
        # Only the files the page needs: nothing else from node_modules, and no way out of it.
        for name in ("package.json", "index.html", "..%2F..%2Fpackage.json", "swagger-ui.js.map"):
            assert (await viewer.get(f"/api/docs/assets/{name}")).status_code == 404, name
        document = await viewer.get("/api/v1/openapi.json")
        assert document.status_code == 200 and "/api/v1/transactions" in document.json()["paths"]


async def test_swagger_ui_renders_the_operations_in_chromium_with_the_internet_blocked(docs: Docs) -> None:
    outside: list[str] = []

    async def only_the_dashboard(route: Route, request: Request) -> None:
        if request.url.startswith(docs.url + "/"):
            await route.continue_()
        else:
            outside.append(request.url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            await context.route("**/*", only_the_dashboard)
            anonymous = await context.new_page()
            await anonymous.goto(f"{docs.url}/api/docs")
            assert anonymous.url == f"{docs.url}/login"

            await context.add_cookies(
                [{"name": SESSION_COOKIE, "value": docs.viewer_session, "url": docs.url}]
            )
            page = await context.new_page()
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            await page.goto(f"{docs.url}/api/docs")
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text("tgadmin")
            operations = page.locator(".opblock-summary-path")
            await expect(operations.first).to_be_visible()
            paths = set(await operations.all_inner_texts())
            assert {"/api/v1/transactions", "/api/v1/transactions/{transaction_id}/refund"} <= {
                path.replace("\u200b", "") for path in paths
            }
            # Opening an operation shows the one error shape among its answers.
            await page.locator(".opblock-get .opblock-summary").first.click()
            await expect(page.locator(".responses-table").first).to_contain_text("422")
        finally:
            await browser.close()
    assert outside == [] and failed == []
