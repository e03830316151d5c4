"""The sandbox PSP end to end: provider `sandbox` (the API Pix client) creates a charge on the Telegram
sandbox, the sandbox's bank pays the copy-paste code, and our webhook receives API Pix's notification."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fixtures.sandbox import Sandbox
from tests.pix.servers import WebhookReceiver, serve
from tgadmin.config import load_settings
from tgadmin.errors import BadRequest, Conflict, Forbidden
from tgadmin.pix.brcode import build_brcode, parse_brcode
from tgadmin.pix.providers import get_provider
from tgadmin.pix.providers.base import ChargeRequest, ChargeState, new_txid
from tgadmin.pix.providers.sandbox import SandboxProvider

SECRET = "webhook-shared-secret"


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    with serve(hook.app) as url:
        yield hook, url


@pytest.fixture
async def provider(sandbox: Sandbox) -> AsyncIterator[SandboxProvider]:
    settings = load_settings(pix_provider="sandbox", pix_api_url=sandbox.url, pix_webhook_secret=SECRET)
    chosen = get_provider(settings)
    assert isinstance(chosen, SandboxProvider)
    yield chosen
    await chosen.aclose()


def _request(amount_cents: int = 1990, expires: int = 1800) -> ChargeRequest:
    return ChargeRequest(
        txid=new_txid(), amount_cents=amount_cents, expires_in_seconds=expires, description="Pack Ana"
    )


async def test_charge_paid_in_the_bank_app_reaches_our_webhook_in_api_pix_format(
    sandbox: Sandbox, provider: SandboxProvider, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, hook_url = receiver
    await provider.register_webhook(provider.webhook_url(hook_url))
    charge = await provider.create_charge(_request())
    assert charge.state == ChargeState.ACTIVE and charge.amount_cents == 1990
    code = parse_brcode(charge.copy_paste)
    assert code.is_dynamic and code.point_of_initiation == "12"
    assert code.url is not None and code.url.startswith(sandbox.url.removeprefix("http://"))

    paid = await sandbox.control.post("/sandbox/pix/pay", json={"code": charge.copy_paste})
    assert paid.status_code == 200, paid.text

    (post,) = await hook.wait(1)
    # API Pix appends /pix to the registered URL; the secret is the path segment before it.
    assert post.path == f"/webhooks/pix/sandbox/{SECRET}/pix"
    (note,) = provider.parse_notification(post.body, post.headers, post.query, path_secret=SECRET)
    assert (note.txid, note.amount_cents, note.end_to_end_id) == (
        charge.txid,
        None,  # a notification's amount is never money: the charge is re-read
        paid.json()["endToEndId"],
    )
    assert note.external_id == note.end_to_end_id and len(note.end_to_end_id or "") == 32
    assert set(note.payload) >= {"endToEndId", "txid", "valor", "horario"}

    reread = await provider.get_charge(charge.txid)
    assert reread.state == ChargeState.PAID
    assert (reread.end_to_end_id, reread.paid_amount_cents) == (note.end_to_end_id, 1990)
    assert reread.paid_at is not None

    again = await sandbox.control.post("/sandbox/pix/pay", json={"code": charge.copy_paste})
    assert again.status_code == 400 and "already paid" in again.json()["error"]


async def test_forged_notification_is_refused(provider: SandboxProvider) -> None:
    body = b'{"pix": [{"endToEndId": "E9999999920261123100012345678901", "txid": "x", "valor": "19.90"}]}'
    with pytest.raises(Forbidden):
        provider.parse_notification(body, {}, {}, path_secret="guess")
    with pytest.raises(Forbidden):
        provider.parse_notification(body, {}, {"secret": SECRET})  # a query string is not a place
    with pytest.raises(Forbidden):
        provider.parse_notification(body, {}, {})
    (note,) = provider.parse_notification(body, {"X-Webhook-Secret": SECRET}, {})
    assert note.txid == "x"
    (note,) = provider.parse_notification(body, {}, {}, path_secret=SECRET)
    assert note.end_to_end_id == "E9999999920261123100012345678901"


async def test_webhook_is_retried_until_our_side_answers(
    sandbox: Sandbox, provider: SandboxProvider, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, hook_url = receiver
    hook.failures = 2
    await provider.register_webhook(provider.webhook_url(hook_url))
    charge = await provider.create_charge(_request())
    (await sandbox.control.post("/sandbox/pix/pay", json={"code": charge.copy_paste})).raise_for_status()
    posts = await hook.wait(3)
    assert len({post.body for post in posts}) == 1  # the same notification, three times
    listing = (await sandbox.control.get("/sandbox/pix/charges")).json()
    attempts = [(n["attempt"], n.get("status_code")) for n in listing["notifications"]]
    assert attempts == [(1, 500), (2, 500), (3, 200)]


async def test_expired_charge_stays_active_but_cannot_be_paid_then_is_cancelled(
    sandbox: Sandbox, provider: SandboxProvider
) -> None:
    charge = await provider.create_charge(_request(expires=60))
    assert charge.expires_at is not None
    await sandbox.advance(61)
    refused = await sandbox.control.post("/sandbox/pix/pay", json={"code": charge.copy_paste})
    assert refused.status_code == 400 and "expired" in refused.json()["error"]
    # API Pix: the status alone does not expire; we must cancel.
    assert (await provider.get_charge(charge.txid)).state == ChargeState.ACTIVE
    listed = (await sandbox.control.get("/sandbox/pix/charges")).json()["charges"]
    assert [(c["txid"], c["status"], c["expired"]) for c in listed] == [(charge.txid, "ATIVA", True)]
    cancelled = await provider.cancel_charge(charge.txid)
    assert cancelled.state == ChargeState.CANCELLED
    assert cancelled.raw["status"] == "REMOVIDA_PELO_USUARIO_RECEBEDOR"


async def test_cancelled_unknown_and_static_codes_are_refused_with_a_reason(
    sandbox: Sandbox, provider: SandboxProvider
) -> None:
    charge = await provider.create_charge(_request())
    await provider.cancel_charge(charge.txid)
    cases = {
        charge.copy_paste: "removed (REMOVIDA_PELO_USUARIO_RECEBEDOR)",
        build_brcode(url="127.0.0.1:1/sandbox/pix/qr/nothing", name="X", city="Y"): "unknown charge",
        build_brcode(key="fulano@example.com", name="X", city="Y", amount_cents=100): "static code",
        charge.copy_paste[:-4] + "0000": "wrong CRC",
        "hello": "not a valid PIX code",
    }
    for code, reason in cases.items():
        answer = await sandbox.control.post("/sandbox/pix/pay", json={"code": code})
        assert answer.status_code == 400
        assert reason in answer.json()["error"], answer.json()


async def test_refund_is_confirmed_and_safe_to_retry(sandbox: Sandbox, provider: SandboxProvider) -> None:
    charge = await provider.create_charge(_request(amount_cents=5000))
    paid = (await sandbox.control.post("/sandbox/pix/pay", json={"code": charge.copy_paste})).json()
    e2e = paid["endToEndId"]
    partial = await provider.refund(e2e, "R1", 2000)
    assert (partial.confirmed, partial.amount_cents) == (True, 2000)
    assert (await provider.refund(e2e, "R1", 2000)).raw == partial.raw  # same id: same refund
    assert (await provider.get_charge(charge.txid)).state == ChargeState.PAID
    with pytest.raises(BadRequest, match="excede"):
        await provider.refund(e2e, "R2", 3001)
    await provider.refund(e2e, "R2", 3000)
    assert (await provider.get_charge(charge.txid)).state == ChargeState.REFUNDED


async def test_create_is_safe_to_retry_with_the_same_txid(provider: SandboxProvider) -> None:
    request = _request()
    first = await provider.create_charge(request)
    again = await provider.create_charge(request)
    assert (again.txid, again.copy_paste) == (first.txid, first.copy_paste)
    with pytest.raises(Conflict):
        await provider.create_charge(ChargeRequest(request.txid, 999, 1800, "other"))


async def test_api_pix_requires_a_token_and_valid_fields(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        txid = new_txid()
        denied = await client.get(f"/v2/cob/{txid}")
        assert denied.status_code == 403 and denied.json()["type"].endswith("/AcessoNegado")
        assert denied.headers["content-type"] == "application/problem+json"
        token = (
            await client.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=("id", "secret")
            )
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        missing = await client.get(f"/v2/cob/{txid}", headers=auth)
        assert missing.status_code == 404 and missing.json()["type"].endswith("/CobNaoEncontrado")
        body = {
            "calendario": {"expiracao": 3600},
            "valor": {"original": "10.005"},
            "chave": "fulano@example.com",
        }
        bad = await client.put(f"/v2/cob/{txid}", json=body, headers=auth)
        assert bad.status_code == 400
        assert bad.json()["violacoes"][0]["propriedade"] == "valor.original"
        short = await client.put(
            "/v2/cob/tooshort", json={**body, "valor": {"original": "10.00"}}, headers=auth
        )
        assert short.status_code == 400 and short.json()["violacoes"][0]["propriedade"] == "txid"


async def test_reset_forgets_charges(sandbox: Sandbox, provider: SandboxProvider) -> None:
    await provider.create_charge(_request())
    assert len((await sandbox.control.get("/sandbox/pix/charges")).json()["charges"]) == 1
    (await sandbox.control.post("/sandbox/reset")).raise_for_status()
    assert (await sandbox.control.get("/sandbox/pix/charges")).json()["charges"] == []
