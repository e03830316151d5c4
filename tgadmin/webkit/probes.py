"""`/metrics` and `/readyz` as the dashboard and the bot serve them (each app adds the routes)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from tgadmin.config import Settings
from tgadmin.connections import CheckResult
from tgadmin.metrics import exposition, scrape_allowed


def metrics_response(settings: Settings, request: Request) -> Response:
    """The process's metrics to the bearer of METRICS_TOKEN, or (unset) to a loopback client only."""
    client = request.client.host if request.client else None
    if not scrape_allowed(settings, client, request.headers.get("authorization")):
        return JSONResponse(
            {"error": "metrics: send METRICS_TOKEN as a bearer token, or scrape from loopback"},
            status_code=403,
        )
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def readiness_response(results: list[CheckResult]) -> JSONResponse:
    """200 when every dependency answered, else 503 naming what did not (and why)."""
    ready = all(result.ok for result in results)
    checks = {r.name: {"ok": r.ok, "detail": r.detail, "skipped": r.skipped} for r in results}
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
