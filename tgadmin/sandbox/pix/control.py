"""The sandbox side of the PSP (not API Pix): the buyer's bank that pays, a look inside, and the
switches. Errors are `{"error": reason}` like the rest of the control API."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from tgadmin.errors import BadRequest
from tgadmin.pix.brcode import parse_brcode
from tgadmin.sandbox.pix.callbacks import notify, settle_due
from tgadmin.sandbox.pix.state import Cob, PixPsp, end_to_end_id, iso, psp_of

router = APIRouter()

MAX_INFO_PAGADOR = 140


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
        raise BadRequest(f"charge {txid} expired at {iso(cob.expires_at())} and cannot be paid")
    return cob


@router.post("/sandbox/pix/pay")
async def pay(request: Request, raw: Any = Body(None)) -> JSONResponse:
    """The buyer's bank app pays a copy-paste code; the charge's webhook is notified."""
    psp = psp_of(request)
    code = raw.get("code") if isinstance(raw, dict) else None
    if not isinstance(code, str) or not code.strip():
        return JSONResponse({"error": 'send {"code": "<PIX copy-paste code>"}'}, status_code=400)
    try:
        cob = _payable(psp, code)
    except BadRequest as error:
        return JSONResponse({"error": error.message}, status_code=400)
    now = psp.now()
    e2e = end_to_end_id("E", now)
    pix: dict[str, Any] = {"endToEndId": e2e, "txid": cob.txid, "valor": cob.terms.valor}
    pix.update(chave=cob.terms.chave, horario=iso(now))
    payer = raw.get("payer_name") if isinstance(raw, dict) else None
    if isinstance(payer, str) and payer:
        pix["infoPagador"] = payer[:MAX_INFO_PAGADOR]
    cob.pix.append(pix)
    # Paying changes the record's status, not its terms: no new revision.
    cob.revisions[-1] = replace(cob.terms, status="CONCLUIDA")
    psp.by_e2e[e2e], psp.paid_at[e2e] = cob.txid, now
    webhook = notify(psp, cob.terms.chave, pix)
    return JSONResponse({**pix, "status": cob.status, "notified": webhook})


@router.get("/sandbox/pix/charges")
async def charges(request: Request) -> dict[str, Any]:
    """Every charge with its state, the webhooks, and every notification attempt."""
    psp = psp_of(request)
    settle_due(psp)
    now = psp.now()
    listed = [
        {**cob.as_api(), "expiresAt": iso(cob.expires_at()), "expired": now > cob.expires_at()}
        for cob in psp.cobs.values()
    ]
    webhooks = {chave: hook.url for chave, hook in psp.webhooks.items()}
    return {"charges": listed, "webhooks": webhooks, "notifications": psp.notifications}


def _settings(psp: PixPsp) -> dict[str, Any]:
    return {"refund_processing_seconds": psp.refund_processing_seconds, "refund_refusal": psp.refund_refusal}


def _setting_error(raw: Any) -> str | None:
    if not isinstance(raw, dict) or not raw or set(raw) - set(SETTINGS):
        return f"send an object with one or more of: {', '.join(SETTINGS)}"
    seconds = raw.get("refund_processing_seconds", 0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        return "refund_processing_seconds must be a number of seconds, 0 or more"
    refusal = raw.get("refund_refusal")
    if refusal is not None and (not isinstance(refusal, str) or not 0 < len(refusal) <= MAX_MOTIVO):
        return f"refund_refusal must be null or the PSP's reason, 1-{MAX_MOTIVO} characters"
    return None


SETTINGS = ("refund_processing_seconds", "refund_refusal")
MAX_MOTIVO = 140


@router.get("/sandbox/pix/settings")
async def read_settings(request: Request) -> dict[str, Any]:
    return _settings(psp_of(request))


@router.post("/sandbox/pix/settings")
async def change_settings(request: Request, raw: Any = Body(None)) -> JSONResponse:
    """`{"refund_processing_seconds": N}`: refunds asked from now on stay EM_PROCESSAMENTO for N
    seconds of the sandbox clock (0, the default: settled at once). `{"refund_refusal": "motivo"}`:
    they then end NAO_REALIZADO with that reason instead of DEVOLVIDO (null, the default: they are
    carried out). Either key alone changes only that setting."""
    psp = psp_of(request)
    error = _setting_error(raw)
    if error is not None:
        return JSONResponse({"error": error}, status_code=400)
    if "refund_processing_seconds" in raw:
        psp.refund_processing_seconds = float(raw["refund_processing_seconds"])
    if "refund_refusal" in raw:
        psp.refund_refusal = raw["refund_refusal"]
    return JSONResponse(_settings(psp))


@router.get("/sandbox/pix/qr/{location_id}")
async def location(request: Request, location_id: str) -> JSONResponse:
    """What a dynamic code's location serves: the cob as JSON."""
    psp = psp_of(request)
    suffix = f"/sandbox/pix/qr/{location_id}"
    txid = next((txid for loc, txid in psp.by_location.items() if loc.endswith(suffix)), None)
    if txid is None:
        return JSONResponse({"error": "unknown location"}, status_code=404)
    return JSONResponse(psp.cobs[txid].as_api())
