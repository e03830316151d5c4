"""Provider `apipix` against a local server that follows Banco Central's API Pix spec, over real mTLS
(a throwaway CA, server and client certificate; the server demands the client certificate)."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.pix.servers import Pki, make_pki, serve
from tgadmin.config import load_settings
from tgadmin.errors import BadRequest, ConfigError, NotFound, ServiceUnavailable
from tgadmin.pix.brcode import parse_brcode
from tgadmin.pix.providers import get_provider
from tgadmin.pix.providers.apipix import ApiPixProvider
from tgadmin.pix.providers.base import ChargeRequest, ChargeState, new_txid
from tgadmin.redis import free_port

CLIENT_ID, CLIENT_SECRET = "client-abc", "secret-xyz"
PIX_KEY = "11222333000181"
E2E = "E12345678202611231000abcdefghijk"


@dataclass
class FakeApiPix:
    """API Pix as the spec describes it, with knobs for the failures a PSP produces."""

    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    token_seconds: int = 3600
    cobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    fail_next: tuple[int, dict[str, Any]] | None = None
    delay: float = 0.0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/oauth/token")
        async def token(request: Request) -> JSONResponse:
            form = dict(await request.form())
            self.requests.append(("POST", "/oauth/token", dict(request.headers), form))
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if (
                request.headers.get("authorization") != expected
                or form.get("grant_type") != "client_credentials"
            ):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            self.tokens_issued += 1
            value = f"token-{self.tokens_issued}"
            self.valid_tokens.add(value)
            return JSONResponse(
                {"access_token": value, "token_type": "Bearer", "expires_in": self.token_seconds}
            )

        @app.api_route("/v2/{path:path}", methods=["GET", "PUT", "PATCH"])
        async def api(request: Request, path: str) -> JSONResponse:
            body = json.loads(await request.body() or b"null")
            self.requests.append((request.method, "/v2/" + path, dict(request.headers), body))
            await asyncio.sleep(self.delay)
            if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
                return JSONResponse(
                    {"title": "Não autorizado", "status": 401, "detail": "token"}, status_code=401
                )
            if self.fail_next:
                (status, problem), self.fail_next = self.fail_next, None
                return JSONResponse(problem, status_code=status, media_type="application/problem+json")
            return self.route(request.method, path.split("/"), body)

        return app

    def route(self, method: str, parts: list[str], body: Any) -> JSONResponse:
        if parts[0] == "cob" and method == "PUT":
            cob = {
                "calendario": {"criacao": "2026-11-23T10:00:00.000Z", **body["calendario"]},
                "txid": parts[1],
                "revisao": 0,
                "loc": {"id": 7, "location": f"pix.example.com/qr/v2/{parts[1]}", "tipoCob": "cob"},
                "location": f"pix.example.com/qr/v2/{parts[1]}",
                "status": "ATIVA",
                "valor": body["valor"],
                "chave": body["chave"],
                "solicitacaoPagador": body.get("solicitacaoPagador"),
            }  # no pixCopiaECola: as API Pix 2.0 PSPs answer, the client builds the code from `location`
            self.cobs[parts[1]] = cob
            return JSONResponse(cob, status_code=201)
        if parts[0] == "cob":
            found = self.cobs.get(parts[1])
            if found is None:
                return _problem(404, "CobNaoEncontrado", "Cobrança não encontrada.")
            if method == "PATCH":
                found["status"] = body["status"]
                found["revisao"] += 1
            return JSONResponse(found)
        key = "/".join(parts)
        if method == "PUT" and key in self.refunds:
            return _problem(409, "DevolucaoInvalida", "devolução já existe")
        if method == "PUT":
            self.refunds[key] = {
                "id": parts[3],
                "rtrId": "D1",
                "valor": body["valor"],
                "status": "EM_PROCESSAMENTO",
            }
            return JSONResponse(self.refunds[key], status_code=201)
        self.refunds[key]["status"] = "DEVOLVIDO"  # settled by the time anyone asks again
        return JSONResponse(self.refunds[key])


def _problem(status: int, kind: str, detail: str) -> JSONResponse:
    body = {
        "type": f"https://pix.bcb.gov.br/api/v2/error/{kind}",
        "title": kind,
        "status": status,
        "detail": detail,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


@dataclass
class Psp:
    url: str
    fake: FakeApiPix
    pki: Pki


@pytest.fixture(scope="module")
def psp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Psp]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    fake = FakeApiPix()
    tls = {
        "ssl_certfile": str(pki.server_cert),
        "ssl_keyfile": str(pki.server_key),
        "ssl_ca_certs": str(pki.ca),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }
    with serve(fake.app(), **tls) as url:
        yield Psp(url, fake, pki)


@pytest.fixture
def psp(psp_server: Psp) -> Psp:
    psp_server.fake.reset()
    return psp_server


def make_provider(
    psp: Psp, cert: Path | None = None, key: Path | None = None, **kwargs: Any
) -> ApiPixProvider:
    return ApiPixProvider(
        base_url=psp.url,
        client_id=kwargs.pop("client_id", CLIENT_ID),
        client_secret=CLIENT_SECRET,
        pix_key="11.222.333/0001-81",
        merchant_name="Loja da Ana",
        merchant_city="São Paulo",
        cert_file=cert or psp.pki.client_cert,
        key_file=key or psp.pki.client_key,
        ca_file=psp.pki.ca,
        **kwargs,
    )


@pytest.fixture
async def provider(psp: Psp) -> AsyncIterator[ApiPixProvider]:
    client = make_provider(psp, webhook_secret="hook")
    yield client
    await client.aclose()


async def test_charge_lifecycle_over_mtls_follows_the_spec(psp: Psp, provider: ApiPixProvider) -> None:
    txid = new_txid()
    request = ChargeRequest(txid=txid, amount_cents=1990, expires_in_seconds=1800, description="Pack da Ana")
    charge = await provider.create_charge(request)
    method, path, headers, body = psp.fake.requests[1]
    assert (method, path) == ("PUT", f"/v2/cob/{txid}")
    assert body == {
        "calendario": {"expiracao": 1800},
        "valor": {"original": "19.90"},
        "chave": PIX_KEY,
        "solicitacaoPagador": "Pack da Ana",
    }
    assert headers["authorization"] == "Bearer token-1"
    assert charge.state == ChargeState.ACTIVE and charge.amount_cents == 1990
    assert charge.expires_at is not None and charge.expires_at.isoformat() == "2026-11-23T10:30:00+00:00"
    code = parse_brcode(charge.copy_paste)  # built from `location`: the PSP sent no pixCopiaECola
    assert (code.url, code.merchant_name, code.merchant_city) == (
        f"pix.example.com/qr/v2/{txid}",
        "Loja da Ana",
        "Sao Paulo",
    )

    psp.fake.cobs[txid].update(
        status="CONCLUIDA",
        pix=[{"endToEndId": E2E, "txid": txid, "valor": "19.90", "horario": "2026-11-23T10:05:00.000-03:00"}],
    )
    paid = await provider.get_charge(txid)
    assert (paid.state, paid.end_to_end_id, paid.paid_amount_cents) == (ChargeState.PAID, E2E, 1990)
    assert paid.paid_at is not None and paid.paid_at.isoformat() == "2026-11-23T13:05:00+00:00"

    refund = await provider.refund(E2E, "R1", 1990)
    assert (refund.confirmed, refund.amount_cents) == (False, 1990)  # EM_PROCESSAMENTO
    retried = await provider.refund(E2E, "R1", 1990)  # 409: already requested -> read its state
    assert retried.confirmed is True
    assert psp.fake.requests[-1][:2] == ("GET", f"/v2/pix/{E2E}/devolucao/R1")
    # One token per scope, each asked for once and cached: the retried PUT reused pix.write's.
    scopes = [form["scope"] for _, path, _, form in psp.fake.requests if path == "/oauth/token"]
    assert scopes == ["cob.write", "cob.read", "pix.write", "pix.read"]


async def test_cancel_patches_the_status(psp: Psp, provider: ApiPixProvider) -> None:
    txid = new_txid()
    await provider.create_charge(ChargeRequest(txid, 500, 60, "x"))
    cancelled = await provider.cancel_charge(txid)
    assert cancelled.state == ChargeState.CANCELLED
    assert psp.fake.requests[-1][::3] == ("PATCH", {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"})
    psp.fake.cobs[txid]["status"] = "REMOVIDA_PELO_PSP"
    assert (await provider.get_charge(txid)).state == ChargeState.CANCELLED


async def test_without_our_client_certificate_the_psp_is_unreachable(psp: Psp) -> None:
    no_cert = ApiPixProvider(
        base_url=psp.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, pix_key=PIX_KEY,
        merchant_name="A", merchant_city="B", ca_file=psp.pki.ca,
    )  # fmt: skip
    stranger = make_provider(psp, psp.pki.stranger_cert, psp.pki.stranger_key)
    for client in (no_cert, stranger):
        with pytest.raises(ServiceUnavailable, match="apipix: POST"):
            await client.get_charge(new_txid())
        await client.aclose()
    assert psp.fake.requests == []


async def test_psp_problem_detail_reaches_the_operator(psp: Psp, provider: ApiPixProvider) -> None:
    psp.fake.fail_next = (
        400,
        {
            "type": "https://pix.bcb.gov.br/api/v2/error/CobOperacaoInvalida",
            "title": "Cobrança inválida.",
            "status": 400,
            "detail": "A requisição que busca alterar ou criar uma cobrança não respeita o schema.",
            "violacoes": [{"razao": "O objeto cob.chave não respeita o schema.", "propriedade": "cob.chave"}],
        },
    )
    with pytest.raises(BadRequest) as caught:
        await provider.create_charge(ChargeRequest(new_txid(), 100, 60, "x"))
    assert "não respeita o schema" in caught.value.message
    assert "cob.chave: O objeto cob.chave" in caught.value.message
    psp.fake.fail_next = (503, {"title": "Serviço indisponível", "status": 503, "detail": "manutenção"})
    with pytest.raises(ServiceUnavailable, match="manutenção"):
        await provider.get_charge(new_txid())
    with pytest.raises(NotFound, match="Cobrança não encontrada"):
        await provider.get_charge(new_txid())


async def test_slow_psp_times_out_and_a_closed_port_is_unavailable(psp: Psp) -> None:
    psp.fake.delay = 2.0
    slow = make_provider(psp, timeout=0.5)
    with pytest.raises(ServiceUnavailable, match="timed out"):
        await slow.get_charge(new_txid())
    await slow.aclose()
    closed = ApiPixProvider(
        base_url=f"http://127.0.0.1:{free_port()}", client_id="a", client_secret="b", pix_key=PIX_KEY,
        merchant_name="A", merchant_city="B",
    )  # fmt: skip
    with pytest.raises(ServiceUnavailable, match="ConnectError"):
        await closed.get_charge(new_txid())
    await closed.aclose()


async def test_a_revoked_token_is_replaced_once(psp: Psp, provider: ApiPixProvider) -> None:
    txid = new_txid()
    await provider.create_charge(ChargeRequest(txid, 100, 60, "x"))
    await provider.get_charge(txid)
    assert psp.fake.tokens_issued == 2  # cob.write, cob.read
    psp.fake.valid_tokens.clear()  # the PSP revoked them before their expiry
    assert (await provider.get_charge(txid)).txid == txid
    assert psp.fake.tokens_issued == 3


async def test_buyers_checking_out_at_once_share_one_token_request(
    psp: Psp, provider: ApiPixProvider
) -> None:
    requests = [ChargeRequest(new_txid(), 100 + n, 60, "x") for n in range(20)]
    charges = await asyncio.gather(*(provider.create_charge(r) for r in requests))
    assert [c.txid for c in charges] == [r.txid for r in requests]
    assert psp.fake.tokens_issued == 1
    assert [r[1] for r in psp.fake.requests].count("/oauth/token") == 1


async def test_an_expiring_token_is_renewed_before_use(psp: Psp, provider: ApiPixProvider) -> None:
    psp.fake.token_seconds = 31  # cached for expires_in - 30 s
    txid = new_txid()
    await provider.create_charge(ChargeRequest(txid, 100, 60, "x"))
    await provider.get_charge(txid)
    await asyncio.sleep(1.1)
    await provider.get_charge(txid)
    assert psp.fake.tokens_issued == 3  # cob.write, then cob.read twice
    assert [r[1] for r in psp.fake.requests].count("/oauth/token") == 3
    assert psp.fake.requests[-1][2]["authorization"] == "Bearer token-3"


async def test_wrong_credentials_are_reported(psp: Psp) -> None:
    client = make_provider(psp, client_id="someone-else")
    with pytest.raises(ServiceUnavailable, match="refused our credentials"):
        await client.get_charge(new_txid())
    await client.aclose()


async def test_txid_outside_26_to_35_alphanumerics_is_refused_locally(
    psp: Psp, provider: ApiPixProvider
) -> None:
    for txid in ("a" * 25, "a" * 36, "a" * 25 + "-"):
        with pytest.raises(BadRequest, match="26-35 letters and digits"):
            await provider.create_charge(ChargeRequest(txid, 100, 60, "x"))
    with pytest.raises(BadRequest, match="greater than zero"):
        await provider.create_charge(ChargeRequest(new_txid(), 0, 60, "x"))
    assert psp.fake.requests == []


def test_notifications_parse_payments_and_refund_updates(provider: ApiPixProvider) -> None:
    body = {
        "pix": [
            {"endToEndId": E2E, "txid": "t" * 26, "valor": "19.90", "horario": "2026-11-23T10:05:00.000Z"},
            {
                "endToEndId": E2E,
                "txid": "t" * 26,
                "valor": "19.90",
                "horario": "2026-11-23T10:05:00.000Z",
                "devolucoes": [{"id": "R1", "rtrId": "D1", "valor": "19.90", "status": "DEVOLVIDO"}],
            },
        ]
    }
    secret = {"X-Webhook-Secret": "hook"}
    payment, refund = provider.parse_notification(json.dumps(body).encode(), secret, {})
    # Amounts in a notification are never money: the charge is re-read from the PSP.
    assert (payment.external_id, payment.amount_cents, payment.txid) == (E2E, None, "t" * 26)
    assert refund.external_id == f"{E2E}:R1:DEVOLVIDO"
    with pytest.raises(BadRequest, match="not JSON"):
        provider.parse_notification(b"{", secret, {})
    with pytest.raises(BadRequest, match="lacks endToEndId"):
        provider.parse_notification(b'{"pix": [{"txid": "x"}]}', secret, {})


def test_get_provider_names_the_missing_setting() -> None:
    with pytest.raises(ConfigError, match="PIX_API_URL: is required"):
        get_provider(load_settings(pix_provider="apipix", pix_api_url=None))
    settings = load_settings(
        pix_provider="apipix", pix_api_url="https://pix.example.com", pix_client_id="a",
        pix_client_secret="b", pix_key="nonsense",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="PIX_KEY: key 'nonsense' is not a PIX key"):
        get_provider(settings)
    with pytest.raises(ConfigError, match="PIX_KEY_FILE: is required"):
        get_provider(
            load_settings(**{**settings.model_dump(), "pix_key": "a@b.co", "pix_cert_file": "/x.pem"})
        )
