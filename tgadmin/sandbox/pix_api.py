"""Banco Central's API Pix as the Telegram sandbox serves it, plus the buyer's bank that pays.

API Pix (no mTLS; any client id and secret get a token):
    POST  /oauth/token                          client credentials (HTTP Basic or form fields)
    PUT   /v2/cob/{txid}    GET    PATCH        immediate charges; 409 when the txid is taken
    PUT   /v2/pix/{e2eid}/devolucao/{id}  GET   refunds (DEVOLVIDO at once; same id = same refund)
    PUT   /v2/webhook/{chave}  GET  DELETE      where to notify; the POST goes to that URL + `/pix`
Errors are RFC 7807 problem+json with API Pix's `type` URIs, `title`, `status`, `detail`, `violacoes`.

Sandbox control (the bank app and a look inside):
    POST  /sandbox/pix/pay {code}     pays a copy-paste code as a bank app would: 400 {"error"} for an
                                      unknown, removed, already paid or expired charge
    GET   /sandbox/pix/charges        every charge with its state, webhooks and notification attempts
    GET   /sandbox/pix/qr/{id}        the location a dynamic code points to (the cob as JSON)

Time is the sandbox world's clock (`app.state.sandbox.world.clock`), so moving it forward expires
charges; on a bare app it is real time. As in API Pix, an expired charge stays ATIVA: only paying
it is refused. The PSP state belongs to one world: after `/sandbox/reset` (a new clock) it starts
empty again.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from tgadmin.errors import BadRequest
from tgadmin.payments.pix.brcode import AMOUNT_RE, build_brcode, normalize_key, parse_brcode

router = APIRouter()

PROBLEM = "https://pix.bcb.gov.br/api/v2/error/"
MERCHANT_NAME = "TGADMIN SANDBOX"
MERCHANT_CITY = "SAO PAULO"
SANDBOX_ISPB = "99999999"
TOKEN_SECONDS = 3600
DEFAULT_EXPIRACAO = 86400
WEBHOOK_DELAYS = (0.0, 0.2, 0.5, 1.0, 2.0, 4.0)  # seconds before each attempt: 6 tries over ~8 s
MAX_LOG = 1000


class Problem(Exception):
    """An API Pix error answered as problem+json."""

    def __init__(self, status: int, kind: str, title: str, detail: str, field_name: str | None = None):
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail, self.field_name = (
            status,
            kind,
            title,
            detail,
            field_name,
        )

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"type": PROBLEM + self.kind, "title": self.title, "status": self.status}
        body["detail"] = self.detail
        if self.field_name:
            body["violacoes"] = [{"razao": self.detail, "propriedade": self.field_name}]
        return JSONResponse(body, status_code=self.status, media_type="application/problem+json")


def _invalid(detail: str, field_name: str | None = None, kind: str = "CobOperacaoInvalida") -> Problem:
    return Problem(400, kind, "Cobrança inválida.", detail, field_name)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Cob:
    txid: str
    chave: str
    valor: str
    expiracao: int
    criacao: float
    location: str
    loc_id: int
    solicitacao: str | None = None
    status: str = "ATIVA"
    revisao: int = 0
    pix: list[dict[str, Any]] = field(default_factory=list)

    def expires_at(self) -> float:
        return self.criacao + self.expiracao

    def as_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "calendario": {"criacao": _iso(self.criacao), "expiracao": self.expiracao},
            "txid": self.txid,
            "revisao": self.revisao,
            "loc": {"id": self.loc_id, "location": self.location, "tipoCob": "cob"},
            "location": self.location,
            "status": self.status,
            "valor": {"original": self.valor},
            "chave": self.chave,
            "pixCopiaECola": build_brcode(url=self.location, name=MERCHANT_NAME, city=MERCHANT_CITY),
        }
        if self.solicitacao:
            body["solicitacaoPagador"] = self.solicitacao
        if self.pix:
            body["pix"] = self.pix
        return body


@dataclass
class PixPsp:
    """Everything the sandbox PSP knows, for one world."""

    now: Callable[[], float]
    clock_ref: object = None
    tokens: dict[str, float] = field(default_factory=dict)
    cobs: dict[str, Cob] = field(default_factory=dict)
    by_location: dict[str, str] = field(default_factory=dict)
    by_e2e: dict[str, str] = field(default_factory=dict)
    webhooks: dict[str, str] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    next_loc: int = 1

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()


def _psp(request: Request) -> PixPsp:
    """This app's PSP, tied to the sandbox world's clock when there is one (see the module doc)."""
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


def _authorize(request: Request, psp: PixPsp) -> None:
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    expiry = psp.tokens.get(token)
    if expiry is None or expiry < psp.now():
        raise Problem(401, "AcessoNegado", "Acesso negado.", "missing, unknown or expired access token")


# --- OAuth2 ----------------------------------------------------------------------------------


@router.post("/oauth/token")
async def token(request: Request) -> JSONResponse:
    psp = _psp(request)
    form = await request.form()
    has_basic = request.headers.get("authorization", "").startswith("Basic ")
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if not has_basic and not (form.get("client_id") and form.get("client_secret")):
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    access = secrets.token_urlsafe(24)
    psp.tokens[access] = psp.now() + TOKEN_SECONDS
    body = {"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}
    body["scope"] = "cob.write cob.read pix.write pix.read webhook.write webhook.read"
    return JSONResponse(body)


# --- cob ---------------------------------------------------------------------------------------


def _txid(txid: str) -> str:
    if not (26 <= len(txid) <= 35 and txid.isalnum() and txid.isascii()):
        raise _invalid("txid deve ter de 26 a 35 caracteres alfanuméricos", "txid")
    return txid


def _valor(body: dict[str, Any]) -> str:
    original = str((body.get("valor") or {}).get("original", ""))
    if not AMOUNT_RE.fullmatch(original) or float(original) <= 0:
        raise _invalid("valor.original deve ser positivo, com duas casas decimais", "valor.original")
    return original


def _expiracao(body: dict[str, Any], default: int = DEFAULT_EXPIRACAO) -> int:
    value = (body.get("calendario") or {}).get("expiracao", default)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _invalid("calendario.expiracao deve ser um inteiro positivo", "calendario.expiracao")
    return value


def _chave(body: dict[str, Any]) -> str:
    try:
        return normalize_key(str(body.get("chave") or ""))[1]
    except BadRequest as error:
        raise _invalid(error.message, "chave") from None


def _solicitacao(body: dict[str, Any]) -> str | None:
    text = body.get("solicitacaoPagador")
    if text is not None and (not isinstance(text, str) or len(text) > 140):
        raise _invalid("solicitacaoPagador deve ter até 140 caracteres", "solicitacaoPagador")
    return text


def _cob(psp: PixPsp, txid: str) -> Cob:
    cob = psp.cobs.get(txid)
    if cob is None:
        raise Problem(404, "CobNaoEncontrado", "Cobrança não encontrada.", f"cobrança {txid} não encontrada")
    return cob


def _body(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _invalid("o corpo da requisição deve ser um objeto JSON")
    return raw


async def _api(request: Request, handler: Callable[[PixPsp], tuple[int, dict[str, Any]]]) -> JSONResponse:
    psp = _psp(request)
    try:
        _authorize(request, psp)
        status, body = handler(psp)
    except Problem as problem:
        return problem.response()
    return JSONResponse(body, status_code=status)


@router.put("/v2/cob/{txid}")
async def create_cob(request: Request, txid: str, raw: Any = Body(None)) -> JSONResponse:
    def handle(psp: PixPsp) -> tuple[int, dict[str, Any]]:
        body = _body(raw)
        _txid(txid)
        if txid in psp.cobs:
            raise Problem(409, "CobOperacaoInvalida", "Cobrança inválida.", f"txid {txid} já utilizado")
        loc_id, psp.next_loc = psp.next_loc, psp.next_loc + 1
        location = f"{request.url.netloc}/sandbox/pix/qr/{uuid.uuid4().hex}"
        cob = Cob(
            txid=txid,
            chave=_chave(body),
            valor=_valor(body),
            expiracao=_expiracao(body),
            criacao=psp.now(),
            location=location,
            loc_id=loc_id,
            solicitacao=_solicitacao(body),
        )
        psp.cobs[txid] = cob
        psp.by_location[location] = txid
        return 201, cob.as_api()

    return await _api(request, handle)


@router.get("/v2/cob/{txid}")
async def read_cob(request: Request, txid: str) -> JSONResponse:
    return await _api(request, lambda psp: (200, _cob(psp, txid).as_api()))


@router.patch("/v2/cob/{txid}")
async def revise_cob(request: Request, txid: str, raw: Any = Body(None)) -> JSONResponse:
    def handle(psp: PixPsp) -> tuple[int, dict[str, Any]]:
        body, cob = _body(raw), _cob(psp, txid)
        if cob.status != "ATIVA":
            raise _invalid(f"cobrança {txid} está {cob.status} e não pode ser alterada", "status")
        status = body.get("status")
        if status not in (None, "REMOVIDA_PELO_USUARIO_RECEBEDOR"):
            raise _invalid("status só pode ser alterado para REMOVIDA_PELO_USUARIO_RECEBEDOR", "status")
        if "valor" in body:
            cob.valor = _valor(body)
        if "calendario" in body:
            cob.expiracao = _expiracao(body, cob.expiracao)
        if "solicitacaoPagador" in body:
            cob.solicitacao = _solicitacao(body)
        if status:
            cob.status = status
        cob.revisao += 1
        return 200, cob.as_api()

    return await _api(request, handle)


# --- devolucao ---------------------------------------------------------------------------------


def _paid_pix(psp: PixPsp, e2eid: str) -> dict[str, Any]:
    txid = psp.by_e2e.get(e2eid)
    if txid is None:
        raise Problem(404, "PixNaoEncontrado", "Pix não encontrado.", f"pix {e2eid} não encontrado")
    return next(item for item in psp.cobs[txid].pix if item["endToEndId"] == e2eid)


@router.put("/v2/pix/{e2eid}/devolucao/{refund_id}")
async def create_refund(request: Request, e2eid: str, refund_id: str, raw: Any = Body(None)) -> JSONResponse:
    def handle(psp: PixPsp) -> tuple[int, dict[str, Any]]:
        body, pix = _body(raw), _paid_pix(psp, e2eid)
        if not (1 <= len(refund_id) <= 35 and refund_id.isalnum() and refund_id.isascii()):
            raise _invalid(
                "id da devolução deve ter de 1 a 35 caracteres alfanuméricos", "id", "DevolucaoInvalida"
            )
        valor = str(body.get("valor", ""))
        if not AMOUNT_RE.fullmatch(valor) or float(valor) <= 0:
            raise _invalid("valor deve ser positivo, com duas casas decimais", "valor", "DevolucaoInvalida")
        refunds: list[dict[str, Any]] = pix.setdefault("devolucoes", [])
        existing = next((item for item in refunds if item["id"] == refund_id), None)
        if existing is not None:
            if existing["valor"] != valor:
                raise Problem(
                    409, "DevolucaoInvalida", "Devolução inválida.", f"devolução {refund_id} já existe"
                )
            return 201, existing
        already = sum(int(item["valor"].replace(".", "")) for item in refunds)
        if already + int(valor.replace(".", "")) > int(pix["valor"].replace(".", "")):
            raise _invalid("valor excede o saldo disponível para devolução", "valor", "DevolucaoInvalida")
        refund = {
            "id": refund_id,
            "rtrId": _e2e("D", psp.now()),
            "valor": valor,
            "horario": {"solicitacao": _iso(psp.now()), "liquidacao": _iso(psp.now())},
            "status": "DEVOLVIDO",
        }
        refunds.append(refund)
        return 201, refund

    return await _api(request, handle)


@router.get("/v2/pix/{e2eid}/devolucao/{refund_id}")
async def read_refund(request: Request, e2eid: str, refund_id: str) -> JSONResponse:
    def handle(psp: PixPsp) -> tuple[int, dict[str, Any]]:
        refunds = _paid_pix(psp, e2eid).get("devolucoes", [])
        found = next((item for item in refunds if item["id"] == refund_id), None)
        if found is None:
            detail = f"devolução {refund_id} não encontrada"
            raise Problem(404, "DevolucaoNaoEncontrada", "Devolução não encontrada.", detail)
        return 200, found

    return await _api(request, handle)


# --- webhook -----------------------------------------------------------------------------------


@router.put("/v2/webhook/{chave}")
async def register_webhook(request: Request, chave: str, raw: Any = Body(None)) -> JSONResponse:
    def handle(psp: PixPsp) -> tuple[int, dict[str, Any]]:
        url = str(_body(raw).get("webhookUrl") or "")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise Problem(
                400, "WebhookOperacaoInvalida", "Webhook inválido.", "webhookUrl inválida", "webhookUrl"
            )
        psp.webhooks[chave] = url
        return 200, {"webhookUrl": url, "chave": chave, "criacao": _iso(psp.now())}

    return await _api(request, handle)


@router.get("/v2/webhook/{chave}")
async def read_webhook(request: Request, chave: str) -> JSONResponse:
    def handle(psp: PixPsp) -> tuple[int, dict[str, Any]]:
        if chave not in psp.webhooks:
            raise Problem(
                404, "WebhookNaoEncontrado", "Webhook não encontrado.", f"chave {chave} sem webhook"
            )
        return 200, {"webhookUrl": psp.webhooks[chave], "chave": chave}

    return await _api(request, handle)


@router.delete("/v2/webhook/{chave}")
async def delete_webhook(request: Request, chave: str) -> JSONResponse:
    def handle(psp: PixPsp) -> tuple[int, dict[str, Any]]:
        return 200, {"webhookUrl": psp.webhooks.pop(chave, None), "chave": chave}

    return await _api(request, handle)


def notification_url(webhook_url: str) -> str:
    """API Pix posts to the registered URL with `/pix` appended to its path (query kept)."""
    parts = urlsplit(webhook_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/pix"))


async def _deliver(psp: PixPsp, url: str, payload: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        for attempt, delay in enumerate(WEBHOOK_DELAYS, start=1):
            await asyncio.sleep(delay)
            entry: dict[str, Any] = {
                "url": url,
                "attempt": attempt,
                "endToEndId": payload["pix"][0]["endToEndId"],
            }
            try:
                response = await client.post(url, json=payload)
                entry["status_code"] = response.status_code
            except httpx.HTTPError as error:
                entry["error"] = f"{error.__class__.__name__}: {error}"
            psp.notifications.append(entry)
            del psp.notifications[:-MAX_LOG]
            if 200 <= entry.get("status_code", 0) < 300:
                return


def _notify(psp: PixPsp, cob: Cob, pix: dict[str, Any]) -> str | None:
    webhook = psp.webhooks.get(cob.chave)
    if webhook is None:
        return None
    url = notification_url(webhook)
    task = asyncio.get_running_loop().create_task(_deliver(psp, url, {"pix": [pix]}))
    psp.tasks.add(task)
    task.add_done_callback(psp.tasks.discard)
    return url


# --- the buyer's bank --------------------------------------------------------------------------


def _e2e(prefix: str, now: float) -> str:
    """An end-to-end id as the SPI makes them: E/D, ISPB, yyyyMMddHHmm, 11 alphanumerics (32)."""
    return prefix + SANDBOX_ISPB + time.strftime("%Y%m%d%H%M", time.gmtime(now)) + secrets.token_hex(6)[:11]


def _payable(psp: PixPsp, code: str) -> Cob:
    try:
        parsed = parse_brcode(code)
    except BadRequest as error:
        raise BadRequest(f"not a valid PIX code: {error.message}") from None
    if parsed.url is None:
        raise BadRequest(
            "a static code (PIX key) names no charge of this PSP; only its dynamic codes are payable"
        )
    txid = psp.by_location.get(parsed.url)
    if txid is None:
        raise BadRequest(f"unknown charge: no charge at location {parsed.url}")
    cob = psp.cobs[txid]
    if cob.pix:
        raise BadRequest(f"charge {txid} is already paid")
    if cob.status != "ATIVA":
        raise BadRequest(f"charge {txid} was removed ({cob.status}) and cannot be paid")
    if psp.now() > cob.expires_at():
        raise BadRequest(f"charge {txid} expired at {_iso(cob.expires_at())} and cannot be paid")
    return cob


@router.post("/sandbox/pix/pay")
async def pay(request: Request, raw: Any = Body(None)) -> JSONResponse:
    psp = _psp(request)
    code = raw.get("code") if isinstance(raw, dict) else None
    if not isinstance(code, str) or not code.strip():
        return JSONResponse({"error": 'send {"code": "<PIX copy-paste code>"}'}, status_code=400)
    try:
        cob = _payable(psp, code)
    except BadRequest as error:
        return JSONResponse({"error": error.message}, status_code=400)
    now = psp.now()
    e2e = _e2e("E", now)
    pix: dict[str, Any] = {"endToEndId": e2e, "txid": cob.txid, "valor": cob.valor, "chave": cob.chave}
    pix["horario"] = _iso(now)
    payer = raw.get("payer_name") if isinstance(raw, dict) else None
    if isinstance(payer, str) and payer:
        pix["infoPagador"] = payer[:140]
    cob.pix.append(pix)
    cob.status = "CONCLUIDA"
    psp.by_e2e[e2e] = cob.txid
    webhook = _notify(psp, cob, dict(pix))
    return JSONResponse({**pix, "status": cob.status, "notified": webhook})


@router.get("/sandbox/pix/charges")
async def charges(request: Request) -> dict[str, Any]:
    psp = _psp(request)
    now = psp.now()
    listed = [
        {**cob.as_api(), "expiresAt": _iso(cob.expires_at()), "expired": now > cob.expires_at()}
        for cob in psp.cobs.values()
    ]
    return {"charges": listed, "webhooks": psp.webhooks, "notifications": psp.notifications}


@router.get("/sandbox/pix/qr/{location_id}")
async def location(request: Request, location_id: str) -> JSONResponse:
    psp = _psp(request)
    suffix = f"/sandbox/pix/qr/{location_id}"
    txid = next((txid for loc, txid in psp.by_location.items() if loc.endswith(suffix)), None)
    if txid is None:
        return JSONResponse({"error": "unknown location"}, status_code=404)
    return JSONResponse(psp.cobs[txid].as_api())
