"""Provider `apipix` against `StrictPsp`: a PSP that follows API Pix 2.9.0 to the letter and uses
every freedom it allows (no 409s, 204s without bodies, scoped tokens, https locations, new enum
values, `devolucoes` as one object)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping

import pytest

from tests.pix.servers import serve
from tests.pix.strict_psp import CLIENT_ID, CLIENT_SECRET, StrictPsp
from tgadmin.errors import BadRequest, Conflict, Forbidden, ServiceUnavailable
from tgadmin.pix.brcode import parse_brcode
from tgadmin.pix.providers.apipix import ApiPixProvider, webhook_url
from tgadmin.pix.providers.base import ChargeRequest, ChargeState, new_txid
from tgadmin.pix.providers.mercadopago import MercadoPagoProvider

SECRET = "strict-webhook-secret"
PIX_KEY = "11.222.333/0001-81"


@pytest.fixture(scope="module")
def strict_server() -> Iterator[tuple[StrictPsp, str]]:
    psp = StrictPsp()
    with serve(psp.app()) as url:
        yield psp, url


@pytest.fixture
def strict(strict_server: tuple[StrictPsp, str]) -> StrictPsp:
    strict_server[0].reset()
    return strict_server[0]


@pytest.fixture
async def client(strict_server: tuple[StrictPsp, str], strict: StrictPsp) -> AsyncIterator[ApiPixProvider]:
    provider = ApiPixProvider(
        base_url=strict_server[1],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        pix_key=PIX_KEY,
        merchant_name="Loja Strict",
        merchant_city="Recife",
        webhook_secret=SECRET,
    )
    yield provider
    await provider.aclose()


def _request(amount_cents: int = 1990, txid: str | None = None) -> ChargeRequest:
    return ChargeRequest(txid or new_txid(), amount_cents, 1800, "Pack")


async def test_register_webhook_accepts_204_and_an_empty_200(
    strict: StrictPsp, client: ApiPixProvider
) -> None:
    url = client.webhook_url("https://shop.example.com")
    assert url == f"https://shop.example.com/webhooks/pix/apipix/{SECRET}"
    await client.register_webhook(url)  # 204, no body
    strict.webhook_status = 200  # 200 with an empty body
    await client.register_webhook(url)
    assert strict.webhooks == {"11222333000181": url}
    assert [c for c in strict.calls if c[1].startswith("/v2/webhook")] == [
        ("PUT", "/v2/webhook/11222333000181", 204),
        ("PUT", "/v2/webhook/11222333000181", 200),
    ]


def test_the_webhook_secret_is_a_path_segment_escaped() -> None:
    assert webhook_url("http://h:1/", "apipix", "a/b c") == "http://h:1/webhooks/pix/apipix/a%2Fb%20c"


async def test_each_call_asks_for_the_scope_it_needs(strict: StrictPsp, client: ApiPixProvider) -> None:
    txid = new_txid()
    await client.create_charge(_request(txid=txid))
    await client.get_charge(txid)
    await client.cancel_charge(txid)
    await client.register_webhook(client.webhook_url("https://shop.example.com"))
    assert strict.scopes_asked == ["cob.write", "cob.read", "webhook.write"]  # cob.write reused by PATCH


async def test_a_403_acesso_negado_refreshes_the_token_once(
    strict: StrictPsp, client: ApiPixProvider
) -> None:
    txid = new_txid()
    await client.create_charge(_request(txid=txid))
    strict.deny_next = 1  # the PSP revoked the token early
    assert (await client.get_charge(txid)).txid == txid
    assert strict.scopes_asked == ["cob.write", "cob.read", "cob.read"]
    strict.deny_next = 5  # denied for good: asked twice, then reported
    with pytest.raises(ServiceUnavailable, match=r"refused our credentials \(403\).*token revogado"):
        await client.get_charge(txid)
    assert strict.deny_next == 3


async def test_a_retried_create_answered_400_reads_the_cob_back(
    strict: StrictPsp, client: ApiPixProvider
) -> None:
    request = _request()
    first = await client.create_charge(request)
    again = await client.create_charge(request)  # our retry after a lost answer
    assert again == first and len(strict.cobs) == 1
    assert strict.calls[-2:] == [
        ("PUT", f"/v2/cob/{request.txid}", 400),
        ("GET", f"/v2/cob/{request.txid}", 200),
    ]
    with pytest.raises(Conflict, match="already names a different charge"):
        await client.create_charge(_request(2990, txid=request.txid))


async def test_a_create_refused_for_its_content_still_reports_the_psp_reason(
    strict: StrictPsp, client: ApiPixProvider
) -> None:
    client.pix_key = "00000000000"  # a key that is not the receiver's
    with pytest.raises(BadRequest, match="A chave não pertence ao recebedor"):
        await client.create_charge(_request())
    assert strict.cobs == {}


@pytest.mark.parametrize("variant", ["https_location", "field"])
async def test_the_copy_paste_code_comes_from_the_field_or_an_https_location(
    strict: StrictPsp, client: ApiPixProvider, variant: str
) -> None:
    strict.copy_paste = variant  # type: ignore[assignment]
    charge = await client.create_charge(_request())
    cob = strict.cobs[charge.txid]
    if variant == "field":
        assert charge.copy_paste == cob["pixCopiaECola"]
        assert parse_brcode(charge.copy_paste).merchant_name == "PSP MERCHANT"  # not rebuilt by us
    else:
        code = parse_brcode(charge.copy_paste)
        assert code.url == cob["location"].removeprefix("https://")
        assert (code.merchant_name, code.merchant_city) == ("Loja Strict", "Recife")


async def test_a_cob_without_code_or_location_is_an_error_not_an_empty_code(
    strict: StrictPsp, client: ApiPixProvider
) -> None:
    strict.copy_paste = "none"
    with pytest.raises(ServiceUnavailable, match="without pixCopiaECola or location"):
        await client.create_charge(_request())


async def test_a_status_from_the_future_is_unknown_and_logged(
    strict: StrictPsp, client: ApiPixProvider, caplog: pytest.LogCaptureFixture
) -> None:
    charge = await client.create_charge(_request())
    strict.cobs[charge.txid]["status"] = "EM_ANALISE_ANTIFRAUDE"
    with caplog.at_level(logging.WARNING, logger="tgadmin.pix.providers.apipix"):
        read = await client.get_charge(charge.txid)
    assert read.state == ChargeState.UNKNOWN
    assert "EM_ANALISE_ANTIFRAUDE" in caplog.text
    strict.cobs[charge.txid]["valor"] = {"original": "NaN"}
    with pytest.raises(ServiceUnavailable, match="does not parse"):
        await client.get_charge(charge.txid)


async def test_a_refund_left_in_processing_is_read_back_until_it_settles(
    strict: StrictPsp, client: ApiPixProvider
) -> None:
    charge = await client.create_charge(_request())
    e2e = strict.pay(charge.txid)["endToEndId"]
    first = await client.refund(e2e, "R1", 1990)
    assert (first.confirmed, first.amount_cents) == (False, 1990)
    pending = await client.refund(e2e, "R1", 1990)  # 400 PixDevolucaoInvalida -> read back
    assert pending.confirmed is False
    assert strict.calls[-2:] == [
        ("PUT", f"/v2/pix/{e2e}/devolucao/R1", 400),
        ("GET", f"/v2/pix/{e2e}/devolucao/R1", 200),
    ]
    strict.settle_refund(e2e, "R1")
    assert (await client.refund(e2e, "R1", 1990)).confirmed is True
    assert (await client.get_charge(charge.txid)).state == ChargeState.REFUNDED
    with pytest.raises(BadRequest, match="valor excede"):  # a 400 about the request itself stays one
        await client.refund(e2e, "R2", 5000)


def _body(*entries: Mapping[str, object]) -> bytes:
    return json.dumps({"pix": list(entries)}).encode()


E2E = "E12345678202611301000abcdefghijk"
REFUND = {"id": "R1", "rtrId": "D" + "1" * 31, "valor": "19.90", "status": "DEVOLVIDO", "horario": {}}


@pytest.mark.parametrize("shape", ["object", "array"])
def test_devolucoes_parse_as_object_or_array_and_the_refund_event_is_its_own(
    client: ApiPixProvider, shape: str
) -> None:
    payment = {"endToEndId": E2E, "txid": "t" * 26, "valor": "19.90", "horario": "2026-11-30T10:05:00Z"}
    refund = {**payment, "devolucoes": REFUND if shape == "object" else [REFUND]}
    paid, refunded = client.parse_notification(_body(payment, refund), {}, {}, path_secret=SECRET)
    assert paid.external_id == E2E
    assert refunded.external_id == f"{E2E}:R1:DEVOLVIDO" != paid.external_id
    assert paid.amount_cents is None and refunded.amount_cents is None  # hints, never money


def test_the_secret_comes_in_the_path_or_a_header_never_the_query(client: ApiPixProvider) -> None:
    body = _body({"endToEndId": E2E, "txid": "t" * 26, "valor": "19.90", "horario": "x"})
    assert client.parse_notification(body, {}, {}, path_secret=SECRET)
    assert client.parse_notification(body, {"X-Webhook-Secret": SECRET}, {})
    for headers, query, path in (
        ({}, {"secret": SECRET}, None),
        ({}, {}, "wrong"),
        ({}, {}, "sécret-não-ascii\udcff"),
        ({"X-Webhook-Secret": "ñ" * 40}, {}, None),
        ({"X-Webhook-Secret": SECRET}, {}, "wrong"),  # the path, when given, is what counts
    ):
        with pytest.raises(Forbidden):
            client.parse_notification(body, headers, query, path_secret=path)


def test_without_a_webhook_secret_every_notification_is_refused(client: ApiPixProvider) -> None:
    client._webhook_secret = None
    with pytest.raises(Forbidden, match="PIX_WEBHOOK_SECRET is not set"):
        client.parse_notification(_body(), {}, {}, path_secret="")
    with pytest.raises(BadRequest, match="PIX_WEBHOOK_SECRET"):
        client.webhook_url("https://shop.example.com")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"pix": [{"endToEndId": "%s", "txid": "t", "valor": "1e400000"}]}' % E2E.encode(),
        b'{"pix": [{"endToEndId": "%s", "txid": "t", "valor": NaN}]}' % E2E.encode(),
        b'{"pix": [{"endToEndId": "%s", "txid": "t", "valor": Infinity}]}' % E2E.encode(),
        b'{"pix": [{"endToEndId": "%s", "txid": "t", "valor": "NaN"}]}' % E2E.encode(),
        b'{"pix": [{"endToEndId": "%s", "txid": "t", "valor": 1%s}]}' % (E2E.encode(), b"0" * 5000),
        b'{"pix": [{"endToEndId": "%s", "txid": "t", "valor": "\xd9\xa1.\xd9\xa0\xd9\xa0"}]}' % E2E.encode(),
        b'{"pix": [{"endToEndId": "short", "txid": "t", "valor": "1.00"}]}',
        b'{"pix": [%s]}' % b",".join([b"{}"] * 101),
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_hostile_bodies_are_bad_requests(client: ApiPixProvider, raw: bytes) -> None:
    with pytest.raises(BadRequest):
        client.parse_notification(raw, {}, {}, path_secret=SECRET)


def test_mercado_pago_signature_with_non_ascii_is_forbidden_not_a_crash() -> None:
    provider = MercadoPagoProvider(access_token="t", webhook_secret="mp-secret")
    for header in ("ts=1700000000,v1=ñ" + "a" * 63, "ts=²³,v1=abc", "ts=1700000000,v1=\udcff"):
        with pytest.raises(Forbidden):
            provider.verify_signature(header, "req-ñ", "123")
