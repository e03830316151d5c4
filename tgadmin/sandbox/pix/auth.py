"""OAuth2 client credentials with scopes, and the frame every API Pix endpoint runs in: the token
and its scope checked (403 `AcessoNegado` otherwise), the JSON body read, problems answered."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tgadmin.sandbox.pix.callbacks import settle_due
from tgadmin.sandbox.pix.state import PixPsp, Problem, Token, invalid, psp_of

router = APIRouter()

TOKEN_SECONDS = 3600
# The scopes of API Pix's OAuth2 scheme that this PSP serves.
SCOPES = ("cob.write", "cob.read", "pix.write", "pix.read", "webhook.write", "webhook.read")

Handler = Callable[[PixPsp, dict[str, Any]], tuple[int, dict[str, Any] | None]]


@router.post("/oauth/token")
async def token(request: Request) -> JSONResponse:
    """Any client id and secret get a token; `scope` (space-separated) narrows it, else all scopes."""
    psp = psp_of(request)
    form = await request.form()
    has_basic = request.headers.get("authorization", "").startswith("Basic ")
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if not has_basic and not (form.get("client_id") and form.get("client_secret")):
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    asked = str(form.get("scope") or "").split()
    if any(scope not in SCOPES for scope in asked):
        return JSONResponse({"error": "invalid_scope"}, status_code=400)
    scopes = frozenset(asked or SCOPES)
    access = secrets.token_urlsafe(24)
    psp.tokens[access] = Token(psp.now() + TOKEN_SECONDS, scopes)
    granted = " ".join(scope for scope in SCOPES if scope in scopes)
    return JSONResponse(
        {"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_SECONDS, "scope": granted}
    )


def authorize(request: Request, psp: PixPsp, scope: str) -> None:
    header = request.headers.get("authorization", "")
    access = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    found = psp.tokens.get(access)
    if found is None or found.expires < psp.now():
        raise Problem(403, "AcessoNegado", "token de acesso ausente, desconhecido ou expirado")
    if scope not in found.scopes:
        raise Problem(403, "AcessoNegado", f"o token de acesso não tem o escopo {scope}")


async def _body(request: Request, kind: str) -> dict[str, Any]:
    if request.method not in ("PUT", "POST", "PATCH"):
        return {}
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise invalid(kind, "o corpo da requisição deve ser um objeto JSON")
    return body


async def api(request: Request, scope: str, handler: Handler, kind: str = "RequisicaoInvalida") -> Response:
    """Run `handler(psp, body)` for a caller holding `scope`; a body of None answers without one."""
    psp = psp_of(request)
    try:
        authorize(request, psp, scope)
        settle_due(psp)
        status, body = handler(psp, await _body(request, kind))
    except Problem as problem:
        return problem.response()
    if body is None:
        return Response(status_code=status)
    return JSONResponse(body, status_code=status)
