"""A second API Pix double: strict where the spec is strict, and using every freedom it allows.

Where `test_apipix.FakeApiPix` answers as lenient PSPs do (409 on a repeated PUT, `location` without
a scheme), this one answers as API Pix 2.9.0 permits a PSP to:
- the token endpoint wants a `scope`, and a token works only for the scopes it was issued for
  (403 `AcessoNegado` otherwise, also for a token revoked early: `deny_next`);
- a repeated `PUT /cob/{txid}` is 400 `CobOperacaoInvalida`, a repeated `PUT .../devolucao/{id}` is
  400 `PixDevolucaoInvalida` (no 409 anywhere);
- `location` comes with `https://`, `pixCopiaECola` may be absent (`copy_paste` knob), answers carry
  fields the client has never heard of;
- refunds stay `EM_PROCESSAMENTO` until `settle_refund`;
- `PUT /webhook/{chave}` answers 204 without a body (or `webhook_status`), and notifications go to
  `webhookUrl + "/pix"`, appended as a string, with `devolucoes` as one object when
  `devolucoes_as_object` (some PSPs do; the spec says array).
Tests drive the PSP's side directly (`pay`, `settle_refund`, `notify`).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tgadmin.pix.brcode import build_brcode

CLIENT_ID, CLIENT_SECRET = "strict-client", "strict-secret"
SCOPES = {"cob.write", "cob.read", "pix.write", "pix.read", "webhook.write", "webhook.read"}
AMOUNT = re.compile(r"\d{1,10}\.\d{2}")


def problem(status: int, kind: str, detail: str, where: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://pix.bcb.gov.br/api/v2/error/{kind}",
        "title": kind,
        "status": status,
        "detail": detail,
    }
    if where:
        body["violacoes"] = [{"razao": detail, "propriedade": where}]
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _scope_for(method: str, parts: list[str]) -> str:
    kind = {"cob": "cob", "pix": "pix", "webhook": "webhook"}[parts[0]]
    return f"{kind}.{'read' if method == 'GET' else 'write'}"


@dataclass
class StrictPsp:
    copy_paste: Literal["field", "https_location", "none"] = "https_location"
    webhook_status: int = 204
    devolucoes_as_object: bool = True
    deny_next: int = 0  # answer 403 AcessoNegado to this many API calls, whatever the token
    tokens: dict[str, set[str]] = field(default_factory=dict)
    scopes_asked: list[str] = field(default_factory=list)
    cobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    # --- the PSP's own side -----------------------------------------------------------------------

    def pay(self, txid: str) -> dict[str, Any]:
        """The buyer paid the cob: CONCLUIDA with one pix entry."""
        cob = self.cobs[txid]
        entry = {
            "endToEndId": "E" + uuid.uuid4().hex[:31],
            "txid": txid,
            "valor": cob["valor"]["original"],
            "horario": "2026-11-30T10:05:00.123-03:00",
            "infoPagador": "obrigado",
        }
        cob.update(status="CONCLUIDA", pix=[entry])
        return entry

    def settle_refund(self, e2e: str, refund_id: str, status: str = "DEVOLVIDO") -> None:
        refund = self.refunds[f"{e2e}/{refund_id}"]
        refund["status"] = status
        refund["horario"]["liquidacao"] = "2026-11-30T10:09:00Z"

    async def notify(self, txid: str) -> httpx.Response:
        """POST the cob's pix entries to the registered URL with `/pix` appended literally."""
        cob = self.cobs[txid]
        entries = []
        for entry in cob.get("pix", []):
            sent = dict(entry)
            refunds = [r for key, r in self.refunds.items() if key.startswith(entry["endToEndId"] + "/")]
            if refunds:
                sent["devolucoes"] = refunds[0] if self.devolucoes_as_object else refunds
            entries.append(sent)
        (url,) = self.webhooks.values()
        async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
            return await client.post(url + "/pix", json={"pix": entries})

    # --- API Pix ----------------------------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/oauth/token")
        async def token(request: Request) -> JSONResponse:
            form = dict(await request.form())
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            asked = set(str(form.get("scope", "")).split())
            if form.get("grant_type") != "client_credentials" or not asked or not asked <= SCOPES:
                return JSONResponse({"error": "invalid_scope"}, status_code=400)
            self.scopes_asked.append(str(form["scope"]))
            value = uuid.uuid4().hex
            self.tokens[value] = asked
            return JSONResponse(
                {"access_token": value, "token_type": "Bearer", "expires_in": 3600, "scope": form["scope"]}
            )

        @app.api_route("/v2/{path:path}", methods=["GET", "PUT", "PATCH", "DELETE"])
        async def api(request: Request, path: str) -> Response:
            parts = path.split("/")
            response = await self._answer(request, parts)
            self.calls.append((request.method, "/v2/" + path, response.status_code))
            return response

        return app

    async def _answer(self, request: Request, parts: list[str]) -> Response:
        granted = self.tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if granted is None:
            return problem(401, "NaoAutorizado", "token inválido")
        if self.deny_next > 0:
            self.deny_next -= 1
            return problem(403, "AcessoNegado", "token revogado")
        if _scope_for(request.method, parts) not in granted:
            return problem(403, "AcessoNegado", "escopo insuficiente")
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        if parts[0] == "cob":
            return self._cob(request.method, parts[1], body)
        if parts[0] == "pix":
            return self._refund(request.method, parts[1], parts[3], body)
        return self._webhook(request.method, parts[1], body)

    def _cob(self, method: str, txid: str, body: dict[str, Any]) -> Response:
        found = self.cobs.get(txid)
        if method == "PUT":
            if found is not None:
                return problem(400, "CobOperacaoInvalida", "A cobrança já existe.", "cob.txid")
            original = (body.get("valor") or {}).get("original", "")
            if not AMOUNT.fullmatch(str(original)) or original == "0.00":
                return problem(
                    400, "CobOperacaoInvalida", "cob.valor.original inválido", "cob.valor.original"
                )
            if body.get("chave") == "00000000000":
                return problem(400, "CobOperacaoInvalida", "A chave não pertence ao recebedor.", "cob.chave")
            self.cobs[txid] = self._new_cob(txid, body)
            return JSONResponse(self.cobs[txid], status_code=201)
        if found is None:
            return problem(404, "CobNaoEncontrado", "Cobrança não encontrada.")
        if method == "PATCH":
            found.update(status=body["status"], revisao=found["revisao"] + 1)
        return JSONResponse(found)

    def _new_cob(self, txid: str, body: dict[str, Any]) -> dict[str, Any]:
        location = f"https://qr.strict-psp.example/v2/{uuid.uuid4().hex}"
        cob: dict[str, Any] = {
            "status": "ATIVA",  # field order differs from the spec's examples, on purpose
            "valor": {"original": body["valor"]["original"], "modalidadeAlteracao": 0},
            "txid": txid,
            "revisao": 0,
            "calendario": {"criacao": "2026-11-30T13:00:00Z", "expiracao": body["calendario"]["expiracao"]},
            "chave": body["chave"],
            "solicitacaoPagador": body.get("solicitacaoPagador"),
            "campoDoFuturo": {"versao": 3},  # new fields may appear in any answer
        }
        if self.copy_paste == "field":  # the PSP's own code, with its own merchant name and city
            url = location.removeprefix("https://")
            cob["pixCopiaECola"] = build_brcode(url=url, name="PSP MERCHANT", city="CURITIBA")
        if self.copy_paste != "none":
            cob["location"] = location
            cob["loc"] = {"id": len(self.cobs) + 1, "location": location, "tipoCob": "cob"}
        return cob

    def _refund(self, method: str, e2e: str, refund_id: str, body: dict[str, Any]) -> Response:
        key = f"{e2e}/{refund_id}"
        if method == "GET":
            if key not in self.refunds:
                return problem(404, "NaoEncontrado", "Devolução não encontrada.")
            return JSONResponse(self.refunds[key])
        paid = [p for cob in self.cobs.values() for p in cob.get("pix", []) if p["endToEndId"] == e2e]
        if not paid:
            return problem(404, "NaoEncontrado", "Pix não encontrado.")
        if key in self.refunds:
            return problem(400, "PixDevolucaoInvalida", "id de devolução já utilizado", "devolucao.id")
        if not AMOUNT.fullmatch(str(body.get("valor", ""))) or Decimal(body["valor"]) > Decimal(
            paid[0]["valor"]
        ):
            return problem(400, "PixDevolucaoInvalida", "valor excede o do pix", "devolucao.valor")
        self.refunds[key] = {
            "id": refund_id,
            "rtrId": "D" + uuid.uuid4().hex[:31],
            "valor": body["valor"],
            "horario": {"solicitacao": "2026-11-30T10:08:00Z"},
            "status": "EM_PROCESSAMENTO",
        }
        paid[0].setdefault("devolucoes", []).append(self.refunds[key])
        return JSONResponse(self.refunds[key], status_code=201)

    def _webhook(self, method: str, chave: str, body: dict[str, Any]) -> Response:
        if method == "PUT":
            url = str(body.get("webhookUrl", ""))
            if not url.startswith(("http://", "https://")):
                return problem(400, "WebhookOperacaoInvalida", "webhookUrl inválida", "webhookUrl")
            self.webhooks[chave] = url
        elif method == "DELETE":
            self.webhooks.pop(chave, None)
            return Response(status_code=204)
        return Response(status_code=self.webhook_status)  # 204, or 200 with an empty body
