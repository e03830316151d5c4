"""Immediate charges: `PUT /v2/cob/{txid}`, `POST /v2/cob` (txid chosen here), `GET` one (at a
revision with `?revisao=N`) or a list (`inicio`/`fim`), `PATCH` to revise or remove."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tgadmin.sandbox.pix.auth import api
from tgadmin.sandbox.pix.cob_fields import KIND, check_txid, requested_terms, revised_terms
from tgadmin.sandbox.pix.listing import Window, flag
from tgadmin.sandbox.pix.state import Cob, PixPsp, Problem, invalid

router = APIRouter()

QUERY_KIND = "CobConsultaInvalida"


def _cob(psp: PixPsp, txid: str) -> Cob:
    cob = psp.cobs.get(txid)
    if cob is None:
        raise Problem(404, "CobNaoEncontrado", f"cobrança {txid} não encontrada")
    return cob


def _create(psp: PixPsp, request: Request, txid: str, body: dict[str, object]) -> Cob:
    terms = requested_terms(body)
    loc_id, psp.next_loc = psp.next_loc, psp.next_loc + 1
    location = f"{request.url.netloc}/sandbox/pix/qr/{uuid.uuid4().hex}"
    cob = Cob(txid=txid, criacao=psp.now(), loc_id=loc_id, location=location, revisions=[terms])
    psp.cobs[txid] = cob
    psp.by_location[location] = txid
    return cob


@router.put("/v2/cob/{txid}")
async def create_cob(request: Request, txid: str) -> Response:
    def handle(psp: PixPsp, body: dict[str, object]) -> tuple[int, dict[str, object]]:
        check_txid(txid)
        if txid in psp.cobs:
            # API Pix has no 409: a txid already in use is a violation of the request.
            raise invalid(KIND, f"txid {txid} já é usado por outra cobrança", "txid")
        return 201, _create(psp, request, txid, body).as_api()

    return await api(request, "cob.write", handle, KIND)


@router.post("/v2/cob")
async def create_cob_with_psp_txid(request: Request) -> Response:
    def handle(psp: PixPsp, body: dict[str, object]) -> tuple[int, dict[str, object]]:
        return 201, _create(psp, request, uuid.uuid4().hex, body).as_api()

    return await api(request, "cob.write", handle, KIND)


@router.get("/v2/cob/{txid}")
async def read_cob(request: Request, txid: str) -> Response:
    def handle(psp: PixPsp, _: dict[str, object]) -> tuple[int, dict[str, object]]:
        cob = _cob(psp, txid)
        revisao = request.query_params.get("revisao")
        if revisao is None:
            return 200, cob.as_api()
        if not revisao.isdigit() or int(revisao) > cob.revisao:
            raise invalid(QUERY_KIND, f"a cobrança {txid} não tem a revisão {revisao}", "revisao")
        return 200, cob.as_api(int(revisao))

    return await api(request, "cob.read", handle)


@router.patch("/v2/cob/{txid}")
async def revise_cob(request: Request, txid: str) -> Response:
    def handle(psp: PixPsp, body: dict[str, object]) -> tuple[int, dict[str, object]]:
        cob = _cob(psp, txid)
        if cob.status != "ATIVA":
            raise invalid(KIND, f"cobrança {txid} está {cob.status} e não pode ser alterada", "status")
        revised = revised_terms(cob.terms, body)
        if revised != cob.terms:  # an empty PATCH, or one that changes nothing, makes no revision
            cob.revisions.append(revised)
        return 200, cob.as_api()

    return await api(request, "cob.write", handle, KIND)


@router.get("/v2/cob")
async def list_cobs(request: Request) -> Response:
    def handle(psp: PixPsp, _: dict[str, object]) -> tuple[int, dict[str, object]]:
        query = request.query_params
        window = Window.parse(query, QUERY_KIND)
        with_location = flag(query, "locationPresente", QUERY_KIND)
        status, cpf, cnpj = query.get("status"), query.get("cpf"), query.get("cnpj")
        found = [
            cob.as_api()
            for cob in psp.cobs.values()
            if window.contains(cob.criacao)
            and with_location is not False  # every cob here has its location
            and status in (None, cob.status)
            and (cpf is None or (cob.terms.devedor or {}).get("cpf") == cpf)
            and (cnpj is None or (cob.terms.devedor or {}).get("cnpj") == cnpj)
        ]
        parametros, page = window.page_of(found, ("cpf", "cnpj", "status", "locationPresente"))
        return 200, {"parametros": parametros, "cobs": page}

    return await api(request, "cob.read", handle)
