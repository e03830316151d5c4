"""Pix received and their refunds: `GET /v2/pix/{e2eid}`, `GET /v2/pix` (list), and
`PUT|GET /v2/pix/{e2eid}/devolucao/{id}`. A refund is `DEVOLVIDO` at once, or held
`EM_PROCESSAMENTO` for `refund_processing_seconds` of the sandbox clock (see the package doc)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tgadmin.sandbox.pix.auth import api
from tgadmin.sandbox.pix.callbacks import complete_refund, hold_refund, refuse_refund
from tgadmin.sandbox.pix.listing import Window, flag
from tgadmin.sandbox.pix.state import PixPsp, Problem, end_to_end_id, invalid, iso

router = APIRouter()

KIND = "PixDevolucaoInvalida"
REFUND_ID_RE = re.compile(r"[a-zA-Z0-9]{1,35}")
VALOR_RE = re.compile(r"\d{1,10}\.\d{2}")
MAX_DESCRICAO = 140
# A devolução of a common pix (no saque, no troco: the only kind this bank makes) is ORIGINAL.
NATUREZAS = ("ORIGINAL",)


def _pix(psp: PixPsp, e2eid: str) -> dict[str, Any]:
    pix = psp.paid_pix(e2eid)
    if pix is None:
        raise Problem(404, "PixNaoEncontrado", f"pix {e2eid} não encontrado")
    return pix


def _refund_fields(body: dict[str, Any]) -> dict[str, Any]:
    """`DevolucaoSolicitada`: `valor` required; `natureza` and `descricao` kept when given."""
    valor = body.get("valor")
    if not isinstance(valor, str) or not VALOR_RE.fullmatch(valor) or Decimal(valor) == 0:
        raise invalid(KIND, "valor deve ser positivo, com até 10 dígitos inteiros e duas casas", "valor")
    fields: dict[str, Any] = {"valor": valor}
    if "natureza" in body:
        if body["natureza"] not in NATUREZAS:
            raise invalid(KIND, "a devolução de um pix comum tem natureza ORIGINAL", "natureza")
        fields["natureza"] = body["natureza"]
    if "descricao" in body:
        descricao = body["descricao"]
        if not isinstance(descricao, str) or len(descricao) > MAX_DESCRICAO:
            raise invalid(KIND, "descricao deve ter até 140 caracteres", "descricao")
        fields["descricao"] = descricao
    return fields


@router.put("/v2/pix/{e2eid}/devolucao/{refund_id}")
async def create_refund(request: Request, e2eid: str, refund_id: str) -> Response:
    def handle(psp: PixPsp, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        pix = _pix(psp, e2eid)
        if not REFUND_ID_RE.fullmatch(refund_id):
            raise invalid(KIND, "id da devolução deve ter de 1 a 35 caracteres alfanuméricos", "id")
        fields = _refund_fields(body)
        refunds: list[dict[str, Any]] = pix.setdefault("devolucoes", [])
        if any(item["id"] == refund_id for item in refunds):
            raise invalid(KIND, f"o id {refund_id} já foi usado por outra devolução deste pix", "id")
        already = sum(Decimal(item["valor"]) for item in refunds if item["status"] != "NAO_REALIZADO")
        if already + Decimal(fields["valor"]) > Decimal(pix["valor"]):
            raise invalid(KIND, "valor excede o saldo disponível para devolução", "valor")
        now = psp.now()
        refund: dict[str, Any] = {"id": refund_id, "rtrId": end_to_end_id("D", now), **fields}
        refund.update(horario={"solicitacao": iso(now)}, status="EM_PROCESSAMENTO")
        refunds.append(refund)
        if psp.refund_processing_seconds > 0:
            hold_refund(psp, e2eid, refund_id, psp.refund_processing_seconds)
            if psp.refund_refusal is not None:
                psp.refusing[(e2eid, refund_id)] = psp.refund_refusal
        elif psp.refund_refusal is not None:
            refuse_refund(refund, now, psp.refund_refusal)
        else:
            complete_refund(psp, e2eid, refund, now)
        return 201, refund

    return await api(request, "pix.write", handle, KIND)


@router.get("/v2/pix/{e2eid}/devolucao/{refund_id}")
async def read_refund(request: Request, e2eid: str, refund_id: str) -> Response:
    def handle(psp: PixPsp, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        refunds = _pix(psp, e2eid).get("devolucoes", [])
        found = next((item for item in refunds if item["id"] == refund_id), None)
        if found is None:
            raise Problem(404, "PixDevolucaoNaoEncontrada", f"devolução {refund_id} não encontrada")
        return 200, found

    return await api(request, "pix.read", handle)


@router.get("/v2/pix/{e2eid}")
async def read_pix(request: Request, e2eid: str) -> Response:
    return await api(request, "pix.read", lambda psp, _: (200, _pix(psp, e2eid)))


@router.get("/v2/pix")
async def list_pix(request: Request) -> Response:
    def handle(psp: PixPsp, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        query = request.query_params
        kind = "PixConsultaInvalida"
        window = Window.parse(query, kind)
        with_txid, with_refund = flag(query, "txIdPresente", kind), flag(query, "devolucaoPresente", kind)
        txid = query.get("txid")
        # The sandbox bank's payers carry no CPF or CNPJ, so filtering by one finds nothing.
        by_document = query.get("cpf") is not None or query.get("cnpj") is not None
        found = [
            pix
            for pix in sorted(psp.all_pix(), key=lambda item: item["horario"])
            if window.contains(psp.paid_at[pix["endToEndId"]])
            and txid in (None, pix.get("txid"))
            and with_txid in (None, "txid" in pix)
            and with_refund in (None, bool(pix.get("devolucoes")))
            and not by_document
        ]
        echo = ("txid", "txIdPresente", "devolucaoPresente", "cpf", "cnpj")
        parametros, page = window.page_of(found, echo)
        return 200, {"parametros": parametros, "pix": page}

    return await api(request, "pix.read", handle)
