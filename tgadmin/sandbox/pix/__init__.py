"""Banco Central's API Pix (2.9.0) as the Telegram sandbox serves it, plus the buyer's bank that pays.

API Pix (no mTLS; any client id and secret get a token):
    POST  /oauth/token                       client credentials; `scope` narrows the token (default:
                                             cob.write cob.read pix.write pix.read webhook.write
                                             webhook.read); each endpoint needs its scope
    PUT   /v2/cob/{txid}   POST /v2/cob      create (POST: txid chosen here); a txid in use is 400
    GET   /v2/cob/{txid}[?revisao=N]  PATCH  read (any revision), revise or remove
    GET   /v2/cob?inicio&fim                 list
    GET   /v2/pix/{e2eid}  GET /v2/pix?inicio&fim   pix received
    PUT   /v2/pix/{e2eid}/devolucao/{id}  GET      refunds (an id is used once)
    PUT   /v2/webhook/{chave} (200)  GET  DELETE (204)  GET /v2/webhook
Callbacks POST `{"pix": [...]}` to `webhookUrl + "/pix"` (appended literally, as the spec's
callback expression says) when a pix arrives and when a refund reaches DEVOLVIDO (the pix entry
then carries its `devolucoes`), retried until a 2xx. Errors are RFC 7807 problem+json with API
Pix's `type` URIs (`https://pix.bcb.gov.br/api/v2/error/<Tipo>`), `title`, `status`, `detail`,
`violacoes`; a missing or bad token is 403 `AcessoNegado`; an unknown path under /v2 or /oauth is
404 `NaoEncontrado`, a known path with another method 405 (problem+json too).

Sandbox control (the bank app, a look inside, the switches):
    POST  /sandbox/pix/pay {code}     pays a copy-paste code as a bank app would: 400 {"error"} for an
                                      unknown, removed, already paid or expired charge
    GET   /sandbox/pix/charges        every charge with its state, webhooks and notification attempts
    GET   /sandbox/pix/qr/{id}        the location a dynamic code points to (the cob as JSON)
    POST  /sandbox/pix/settings {"refund_processing_seconds": N}   (GET reads them)
                                      refunds asked afterwards stay EM_PROCESSAMENTO for N seconds
                                      of the sandbox clock, then become DEVOLVIDO and are notified;
                                      0 (the default) settles them at once. `POST /sandbox/clock`
                                      moving the clock forward releases them.
          {"refund_refusal": "motivo"}  refunds asked afterwards end NAO_REALIZADO with that
                                      `motivo` (the PSP refusing them; null: carried out again)

Time is the sandbox world's clock (`app.state.sandbox.world.clock`), so moving it forward expires
charges; on a bare app it is real time. As in API Pix, an expired charge stays ATIVA: only paying
it is refused. The PSP state belongs to one world: after `/sandbox/reset` (a new clock) it starts
empty again, switches included.

Modules: state (what the PSP knows, problems), auth (token, scopes, the endpoint frame), cob and
cob_fields, pix (pix and refunds), webhook, callbacks (notifications, held refunds), listing (list
queries), control (the sandbox's own endpoints).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

from tgadmin.sandbox.pix import auth, cob, control, pix, webhook
from tgadmin.sandbox.pix.callbacks import notification_url
from tgadmin.sandbox.pix.state import Problem

__all__ = ["notification_url", "router"]

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

PARTS = (auth, cob, pix, webhook, control)
router = APIRouter()
for part in PARTS:
    router.include_router(part.router)


def _allowed(request: Request) -> list[str]:
    """The methods the API serves at this path (none: the path is unknown)."""
    methods: set[str] = set()
    for route in (route for part in PARTS for route in part.router.routes):
        if isinstance(route, APIRoute):
            match, _ = route.matches({**request.scope, "method": "\0"})
            if match == Match.PARTIAL:
                methods |= route.methods or set()
    return sorted(methods)


@router.api_route("/v2/{rest:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/oauth/{rest:path}", methods=METHODS, include_in_schema=False)
async def unknown(request: Request) -> Response:
    """API Pix answers problem+json for any path or method it does not serve."""
    allowed = _allowed(request)
    if not allowed:
        return Problem(404, "NaoEncontrado", f"{request.url.path} não existe nesta API Pix").response()
    body = {
        "type": "about:blank",
        "title": "Método não permitido.",
        "status": 405,
        "detail": f"{request.method} não é aceito em {request.url.path}; use {', '.join(allowed)}",
    }
    return JSONResponse(
        body, status_code=405, media_type="application/problem+json", headers={"Allow": ", ".join(allowed)}
    )
