"""Webhooks: `PUT /v2/webhook/{chave}` (200, no body), `GET` (with `criacao`), `DELETE` (204, no
body; 404 when none), `GET /v2/webhook` (list). Callbacks go to `webhookUrl + "/pix"` (callbacks.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tgadmin.errors import BadRequest
from tgadmin.pix.brcode import MAX_KEY, normalize_key
from tgadmin.sandbox.pix.auth import api
from tgadmin.sandbox.pix.listing import Window
from tgadmin.sandbox.pix.state import PixPsp, Problem, Webhook, invalid

router = APIRouter()

KIND = "WebhookOperacaoInvalida"


def _chave(chave: str) -> str:
    try:
        if len(chave) > MAX_KEY:
            raise BadRequest("a chave tem mais de 77 caracteres")
        return normalize_key(chave)[1]
    except BadRequest as error:
        raise invalid(KIND, f"{chave!r} não é uma chave DICT válida: {error.message}", "chave") from None


def _registered(psp: PixPsp, chave: str) -> str:
    try:
        key = normalize_key(chave)[1]
    except BadRequest:
        key = chave  # not a key at all, so certainly without a webhook
    if key not in psp.webhooks:
        raise Problem(404, "WebhookNaoEncontrado", f"a chave {chave} não tem webhook")
    return key


@router.put("/v2/webhook/{chave}")
async def register_webhook(request: Request, chave: str) -> Response:
    def handle(psp: PixPsp, body: dict[str, Any]) -> tuple[int, None]:
        key = _chave(chave)
        url = body.get("webhookUrl")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid(KIND, "webhookUrl deve ser uma URL http(s)", "webhookUrl")
        previous = psp.webhooks.get(key)
        same = previous is not None and previous.url == url
        psp.webhooks[key] = Webhook(str(url), previous.criacao if previous and same else psp.now())
        return 200, None

    return await api(request, "webhook.write", handle, KIND)


@router.get("/v2/webhook/{chave}")
async def read_webhook(request: Request, chave: str) -> Response:
    def handle(psp: PixPsp, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = _registered(psp, chave)
        return 200, psp.webhooks[key].as_api(key)

    return await api(request, "webhook.read", handle)


@router.delete("/v2/webhook/{chave}")
async def delete_webhook(request: Request, chave: str) -> Response:
    def handle(psp: PixPsp, _: dict[str, Any]) -> tuple[int, None]:
        del psp.webhooks[_registered(psp, chave)]
        return 204, None

    return await api(request, "webhook.write", handle)


@router.get("/v2/webhook")
async def list_webhooks(request: Request) -> Response:
    def handle(psp: PixPsp, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        window = Window.parse(request.query_params, "WebhookConsultaInvalida", required=False)
        found = [hook.as_api(key) for key, hook in psp.webhooks.items() if window.contains(hook.criacao)]
        parametros, page = window.page_of(found)
        return 200, {"parametros": parametros, "webhooks": page}

    return await api(request, "webhook.read", handle)
