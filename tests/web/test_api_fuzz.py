"""Schemathesis over the whole JSON API, as its OpenAPI document describes it (fetched from the running
dashboard): anonymous, a viewer, an operator and an admin, and a program with each role's API token,
valid and invalid input. No answer may be a 500, nor outside the document: status code, content
type and body as documented.

The dashboard runs on uvicorn on loopback (PostgreSQL and SQLite, static PIX so that nothing leaves
the machine), with a few transactions to act on; Hypothesis is derandomized, so a run is repeatable.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from redis.asyncio import Redis
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Ok, Result
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import make_operator, make_purchase
from tests.fixtures.dashboard import serve_app
from tgadmin.audit.service import Actor
from tgadmin.config import load_settings
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service as operators
from tgadmin.operator import tokens
from tgadmin.operator.auth import CSRF_HEADER, SESSION_COOKIE, csrf_for_session
from tgadmin.payment import charges
from tgadmin.pix.providers.static import StaticPixProvider
from tgadmin.redis import free_port
from tgadmin.web.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation, identity and mode: about 1,000 calls per database in all.
MAX_EXAMPLES = 20
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
Operation = APIOperation[Any, Any, Any, Any]


@dataclass
class Identity:
    """Who calls: nobody, a logged-in role (`csrf` sent with every call when set), or a program with
    a role's API token (`bearer`, no cookie, no CSRF)."""

    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str | None = None
    bearer: str | None = None

    def headers(self) -> dict[str, str] | None:
        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        return {CSRF_HEADER: self.csrf} if self.csrf else None

    def session(self) -> requests.Session:
        http = requests.Session()
        http.trust_env = False
        for name, value in self.cookies.items():
            http.cookies.set(name, value)
        return http


@dataclass
class Api:
    url: str
    document: dict[str, Any]
    identities: list[Identity]
    transaction_ids: list[int]
    # Path parameters that, in positive mode, only ever name these rows.
    only_targets: dict[str, list[int]] = field(default_factory=dict)


@pytest.fixture
async def api(fresh_db_url: str, redis_url: str, redis_prefix: str, redis: Redis) -> AsyncIterator[Api]:
    """The dashboard as deployed: its database and Redis (queues under the test's own prefix)."""
    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"
    cfg = load_settings(
        database_url=fresh_db_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        public_url=f"http://127.0.0.1:{port}",
        pix_provider="static",
        pix_key="loja@example.com",
        pix_merchant_name="Loja Teste",
        pix_merchant_city="Recife",
        # Settings calls reach out (getMe, getWebhookInfo, a PSP's test call): only to a closed port.
        telegram_api_base_url=closed,
        mercadopago_api_url=closed,
    )
    app = create_app(cfg)
    static = StaticPixProvider(pix_key="loja@example.com", merchant_name="Loja Teste", merchant_city="Recife")
    identities = [Identity("anonymous")]
    async with session_scope(app.state.tgadmin.sessions) as session:
        # The viewer's CSRF header is left to Schemathesis (any text); the others send the right one.
        for role, csrf in (
            (OperatorRole.VIEWER, False),
            (OperatorRole.OPERATOR, True),
            (OperatorRole.ADMIN, True),
        ):
            operator = await make_operator(session, role)
            token = (
                await operators.consume_magic_link(
                    session, (await operators.issue_magic_link(session, operator)).token
                )
            ).token
            identities.append(
                Identity(role.value, {SESSION_COOKIE: token}, csrf_for_session(cfg, token) if csrf else None)
            )
        # Programs with a token of each role (their own operators: the session identities above
        # may be deactivated by the admin's fuzzing, and the other way round).
        for role in OperatorRole:
            owner = await make_operator(session, role)
            made = await tokens.create(session, owner, f"fuzz {role.value}", Actor.system("fuzz"))
            identities.append(Identity(f"{role.value} token", bearer=made.token))
        # Operators and tokens the fuzzing may change, deactivate and revoke.
        targets: dict[str, list[int]] = {"operator_id": [], "token_id": []}
        for _ in range(3):
            victim = await make_operator(session, OperatorRole.VIEWER)
            made = await tokens.create(session, victim, "fuzz target", Actor.system("fuzz"))
            targets["operator_id"].append(victim.id)
            targets["token_id"].append(made.row.id)
        ids = []
        for _ in range(3):
            purchase = await make_purchase(session)
            ids.append((await charges.create_pix_charge(session, static, purchase.id, expires_minutes=30)).id)
    async with serve_app(app, port) as url:
        async with httpx.AsyncClient(base_url=url, trust_env=False) as viewer:
            viewer.cookies.set(SESSION_COOKIE, identities[1].cookies[SESSION_COOKIE])
            document = (await viewer.get("/api/v1/openapi.json")).raise_for_status().json()
        yield Api(url, document, identities, ids, targets)


def loaded(result: Result[Operation, InvalidSchema]) -> Operation:
    """The operation, or the schema error that kept it from loading."""
    assert isinstance(result, Ok), result.err()
    return result.ok()


def fuzz(
    api: Api, operation: Operation, identity: Identity, mode: GenerationMode, seen: Counter[int]
) -> None:
    """Hypothesis over one operation: generated cases, some aimed at the transactions that exist;
    counts the answers' status codes in `seen`."""
    strategy = operation.as_strategy(generation_mode=mode)
    if "{transaction_id}" in operation.path and mode is GenerationMode.POSITIVE:
        existing = st.sampled_from(api.transaction_ids).flatmap(
            lambda tx_id: operation.as_strategy(
                generation_mode=mode, path_parameters={"transaction_id": tx_id}
            )
        )
        strategy = st.one_of(strategy, existing)
    for name, targets in api.only_targets.items():
        if f"{{{name}}}" in operation.path and mode is GenerationMode.POSITIVE:
            # Only the rows kept for this: an arbitrary id could deactivate or revoke the callers.
            strategy = st.sampled_from(targets).flatmap(
                lambda row_id, name=name: operation.as_strategy(  # type: ignore[misc]
                    generation_mode=mode, path_parameters={name: row_id}
                )
            )
    headers = identity.headers()
    http = identity.session()

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def calls(case: Case[Operation]) -> None:
        response = case.call_and_validate(
            base_url=api.url, session=http, headers=headers, checks=CHECKS, timeout=30
        )
        seen[response.status_code] += 1

    try:
        calls()
    except Unsatisfiable:
        # Nothing about this operation can be invalid (no parameters, or only free text): the
        # positive run covers it.
        if mode is not GenerationMode.NEGATIVE:
            raise
    except Exception as failure:
        failure.add_note(f"calling as {identity.name}, {mode.value} mode")
        raise
    finally:
        http.close()


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_no_input_gets_a_server_error_or_an_answer_outside_the_openapi_document(api: Api) -> None:
    schema = schemathesis.openapi.from_dict(api.document)
    operations = [loaded(result) for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/api/v1/transactions",
        "/api/v1/transactions/{transaction_id}",
        "/api/v1/transactions/{transaction_id}/refund",
    }
    started, seen = time.monotonic(), Counter[int]()
    for identity in api.identities:
        for operation in operations:
            for mode in MODES:
                # Blocking HTTP calls to the dashboard, which runs in this event loop.
                await asyncio.to_thread(fuzz, api, operation, identity, mode, seen)
    print(f"schemathesis: {sum(seen.values())} calls in {time.monotonic() - started:.0f}s: {dict(seen)}")
    # The calls got past login, roles, CSRF and validation to the actions themselves, and back.
    assert {200, 401, 403, 404, 409, 422} <= set(seen), seen
