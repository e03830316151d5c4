"""A client of the sandbox's API Pix holding a token with every scope, and a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fixtures.sandbox import Sandbox
from tests.pix.servers import WebhookReceiver, serve
from tests.sandbox.pix.helpers import token


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.url, trust_env=False) as client:
        client.headers["Authorization"] = f"Bearer {await token(client)}"
        yield client


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    with serve(hook.app) as url:
        yield hook, url
