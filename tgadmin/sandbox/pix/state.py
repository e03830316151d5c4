"""What the sandbox PSP knows, for one world: charges and their revisions, paid pix, refunds,
webhooks, tokens and the sandbox switches; and the problem+json answer of API Pix."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tgadmin.pix.brcode import build_brcode

PROBLEM = "https://pix.bcb.gov.br/api/v2/error/"
MERCHANT_NAME = "TGADMIN SANDBOX"
MERCHANT_CITY = "SAO PAULO"
SANDBOX_ISPB = "99999999"
SANDBOX_CNPJ = "11222333000181"  # the receiving user's CNPJ, as `GET /v2/webhook` reports it
MAX_LOG = 1000

TITLES = {
    "AcessoNegado": "Acesso negado.",
    "NaoEncontrado": "Não encontrado.",
    "RequisicaoInvalida": "Requisição inválida.",
    "CobNaoEncontrado": "Cobrança não encontrada.",
    "CobOperacaoInvalida": "Cobrança inválida.",
    "CobConsultaInvalida": "Consulta de cobranças inválida.",
    "PixNaoEncontrado": "Pix não encontrado.",
    "PixConsultaInvalida": "Consulta de Pix inválida.",
    "PixDevolucaoInvalida": "Devolução inválida.",
    "PixDevolucaoNaoEncontrada": "Devolução não encontrada.",
    "WebhookOperacaoInvalida": "Webhook inválido.",
    "WebhookNaoEncontrado": "Webhook não encontrado.",
    "WebhookConsultaInvalida": "Consulta de webhooks inválida.",
}


class Problem(Exception):
    """An API Pix error answered as RFC 7807 problem+json with API Pix's `type` URIs."""

    def __init__(self, status: int, kind: str, detail: str, field_name: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail, self.field_name = status, kind, detail, field_name

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {
            "type": PROBLEM + self.kind,
            "title": TITLES.get(self.kind, self.kind),
            "status": self.status,
            "detail": self.detail,
        }
        if self.field_name:
            body["violacoes"] = [{"razao": self.detail, "propriedade": self.field_name}]
        return JSONResponse(body, status_code=self.status, media_type="application/problem+json")


def invalid(kind: str, detail: str, field_name: str | None = None) -> Problem:
    """A 400 of the given API Pix type (`CobOperacaoInvalida`, `PixDevolucaoInvalida`, ...)."""
    return Problem(400, kind, detail, field_name)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def end_to_end_id(prefix: str, now: float) -> str:
    """An id as the SPI makes them: E (payment) or D (return), ISPB, yyyyMMddHHmm, 11 alphanumerics."""
    return prefix + SANDBOX_ISPB + time.strftime("%Y%m%d%H%M", time.gmtime(now)) + secrets.token_hex(6)[:11]


@dataclass(frozen=True)
class Terms:
    """One revision of a cob: everything PATCH may change, and the status of the record."""

    chave: str
    valor: str
    expiracao: int
    modalidade: int = 0
    solicitacao: str | None = None
    devedor: dict[str, str] | None = None
    info: tuple[tuple[str, str], ...] = ()
    status: str = "ATIVA"


@dataclass
class Cob:
    txid: str
    criacao: float
    loc_id: int
    location: str
    revisions: list[Terms]
    pix: list[dict[str, Any]] = field(default_factory=list)

    @property
    def terms(self) -> Terms:
        return self.revisions[-1]

    @property
    def revisao(self) -> int:
        return len(self.revisions) - 1

    @property
    def status(self) -> str:
        return self.terms.status

    def expires_at(self) -> float:
        return self.criacao + self.terms.expiracao

    def as_api(self, revisao: int | None = None) -> dict[str, Any]:
        """The cob as API Pix shows it (`CobCompleta`), at `revisao` or now."""
        number = self.revisao if revisao is None else revisao
        terms = self.revisions[number]
        body: dict[str, Any] = {
            "calendario": {"criacao": iso(self.criacao), "expiracao": terms.expiracao},
            "txid": self.txid,
            "revisao": number,
            "loc": {
                "id": self.loc_id,
                "location": self.location,
                "tipoCob": "cob",
                "criacao": iso(self.criacao),
                "txid": self.txid,
            },
            "location": self.location,
            "status": terms.status,
            "valor": {"original": terms.valor, "modalidadeAlteracao": terms.modalidade},
            "chave": terms.chave,
            "pixCopiaECola": build_brcode(url=self.location, name=MERCHANT_NAME, city=MERCHANT_CITY),
        }
        if terms.devedor:
            body["devedor"] = dict(terms.devedor)
        if terms.solicitacao:
            body["solicitacaoPagador"] = terms.solicitacao
        if terms.info:
            body["infoAdicionais"] = [{"nome": nome, "valor": valor} for nome, valor in terms.info]
        if self.pix and number == self.revisao:
            body["pix"] = self.pix
        return body


@dataclass
class Token:
    expires: float
    scopes: frozenset[str]


@dataclass
class Webhook:
    url: str
    criacao: float

    def as_api(self, chave: str) -> dict[str, Any]:
        return {"webhookUrl": self.url, "chave": chave, "cnpj": SANDBOX_CNPJ, "criacao": iso(self.criacao)}


@dataclass
class PixPsp:
    """Everything the sandbox PSP knows, for one world."""

    now: Callable[[], float]
    clock_ref: object = None
    tokens: dict[str, Token] = field(default_factory=dict)
    cobs: dict[str, Cob] = field(default_factory=dict)
    by_location: dict[str, str] = field(default_factory=dict)
    by_e2e: dict[str, str] = field(default_factory=dict)
    paid_at: dict[str, float] = field(default_factory=dict)  # endToEndId -> when it was received
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Refunds EM_PROCESSAMENTO: (endToEndId, refund id) -> the sandbox time they become DEVOLVIDO.
    held: dict[tuple[str, str], float] = field(default_factory=dict)
    refund_processing_seconds: float = 0.0
    # When set, refunds asked from now on end NAO_REALIZADO with this `motivo` (a PSP refusing them).
    refund_refusal: str | None = None
    refusing: dict[tuple[str, str], str] = field(default_factory=dict)  # held refunds that will be refused
    next_loc: int = 1

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def paid_pix(self, e2eid: str) -> dict[str, Any] | None:
        txid = self.by_e2e.get(e2eid)
        if txid is None:
            return None
        return next(item for item in self.cobs[txid].pix if item["endToEndId"] == e2eid)

    def all_pix(self) -> list[dict[str, Any]]:
        return [item for cob in self.cobs.values() for item in cob.pix]

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()


def psp_of(request: Request) -> PixPsp:
    """This app's PSP, tied to the sandbox world's clock when there is one (a new world, a new PSP)."""
    world = getattr(getattr(request.app.state, "sandbox", None), "world", None)
    clock = getattr(world, "clock", None)
    psp: PixPsp | None = getattr(request.app.state, "pix_psp", None)
    if psp is None or (clock is not None and psp.clock_ref is not clock):
        if psp is not None:
            psp.close()
        now: Callable[[], float] = clock.now if clock is not None else time.time
        psp = PixPsp(now=now, clock_ref=clock)
        request.app.state.pix_psp = psp
    return psp
