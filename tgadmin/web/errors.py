"""Every refusal of the dashboard app in one shape, whoever raised it.

The API and the webhooks answer `ErrorRead` JSON (`{error, message, details?}`); pages answer the
error page, or a redirect to log in. That holds for our own `TgadminError`s, FastAPI's validation
errors (a malformed field, a body that is not JSON), Starlette's HTTP errors (no such route, a method
the route does not take, a body that is not UTF-8) and anything unexpected (a 500, logged). The
OpenAPI document says so: `document_refusals` lists those answers on every operation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from tgadmin.audit import service as audit
from tgadmin.errors import ErrorRead, Forbidden, InvalidInput, TgadminError
from tgadmin.webkit.templating import templates

log = logging.getLogger(__name__)

_TITLES = {
    400: "That did not work",
    422: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
}
_MACHINE_PREFIXES = ("/api/", "/webhooks/", "/healthz")
# Under /api/ but read by a person in a browser: not logged in sends them to the login page.
_PAGES_UNDER_API = ("/api/docs",)
# Machine codes of the HTTP errors Starlette and FastAPI raise themselves.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


def is_page(request: Request) -> bool:
    """Dashboard pages get HTML errors (and a redirect to log in); the API and webhooks get JSON."""
    path = request.url.path
    if path.startswith(_PAGES_UNDER_API):
        return True
    return not path.startswith(_MACHINE_PREFIXES)


def refuse(
    request: Request, status: int, body: ErrorRead, headers: Mapping[str, str] | None = None
) -> Response:
    """The answer to a refused request: the error page for a person, `ErrorRead` JSON for a program."""
    if not is_page(request):
        content: dict[str, Any] = {"error": body.error, "message": body.message}
        if body.details:
            content["details"] = body.details
        return JSONResponse(content, status_code=status, headers=headers)
    if status == 401:
        return RedirectResponse("/login", status_code=303)
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "operator": None,
            "status": status,
            "title": _TITLES.get(status, "Error"),
            "message": body.message,
        },
        status_code=status,
        headers=headers,
    )


async def _audit_refusal(request: Request, error: Forbidden) -> None:
    """A logged-in operator refused (a role below the action's, a forged or stale form) is an
    attempt worth a trace: recorded in a unit of work of its own, the request's being rolled back."""
    who = getattr(request.state, "operator", None)
    if who is None:
        return
    client = request.client.host if request.client else None
    try:
        async with request.app.state.tgadmin.unit_of_work() as session:
            await audit.record(
                session,
                audit.Actor.operator(who[0], who[1], client),
                "access.refused",
                "route",
                f"{request.method} {request.url.path}"[:200],
                after={"reason": error.message},
            )
    except Exception:
        log.exception("refusal of %s %s not audited", request.method, request.url.path)


async def _tgadmin_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, TgadminError)
    if isinstance(error, Forbidden):
        await _audit_refusal(request, error)
    if error.status_code >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, error.message)
    return refuse(request, error.status_code, ErrorRead.of(error))


def _problem(item: Any) -> dict[str, str]:
    where = ".".join(str(part) for part in item["loc"])
    if item.get("type") == "json_invalid":
        reason = (item.get("ctx") or {}).get("error", "")
        return {"where": "body", "problem": f"not valid JSON ({reason})" if reason else "not valid JSON"}
    return {"where": where, "problem": str(item["msg"])}


async def _invalid_input(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [_problem(item) for item in error.errors()[:10]]
    summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems[:3])
    invalid = InvalidInput(f"invalid request: {summary}", details={"problems": problems})
    return refuse(request, invalid.status_code, ErrorRead.of(invalid))


def _http_message(request: Request, error: HTTPException) -> str:
    if error.status_code == 404:
        return f"there is nothing at {request.url.path}"
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return f"{request.method} is not allowed here" + (f"; use {allowed}" if allowed else "")
    if error.status_code == 400 and error.__cause__ is not None:
        # FastAPI could not read the body at all (not UTF-8, say); JSON syntax errors are 422s.
        return "the request body could not be read: send JSON encoded in UTF-8"
    if isinstance(error.detail, str) and error.detail:
        return error.detail
    return HTTPStatus(error.status_code).phrase


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    body = ErrorRead(error=code, message=_http_message(request, error))
    return refuse(request, error.status_code, body, headers=error.headers)


async def _unexpected(request: Request, error: Exception) -> Response:
    # Starlette logs the exception (and re-raises it to the server) after this answer.
    body = ErrorRead(error="internal_error", message="something went wrong on our side; it was logged")
    return refuse(request, 500, body)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TgadminError, _tgadmin_error)
    app.add_exception_handler(RequestValidationError, _invalid_input)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorRead"}


def _refusal(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}


def _document(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if operation.get("parameters") or "requestBody" in operation:
        responses["422"] = _refusal("a field is missing or malformed; `details.problems` names each one")
    if "requestBody" in operation:
        responses.setdefault("400", _refusal("the body could not be read (not UTF-8)"))
    for response in responses.values():
        # A route's own refusals may name the model; they all answer in the one shape.
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("$ref", "").endswith("/ErrorRead"):
            response["content"]["application/json"]["schema"] = _ERROR_SCHEMA


def document_refusals(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The app's OpenAPI document, with the refusals above on every operation (and no FastAPI
    `HTTPValidationError`, which the app never answers)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["ErrorRead"] = ErrorRead.model_json_schema(ref_template="#/components/schemas/{model}")
        for path_item in document.get("paths", {}).values():
            for operation in path_item.values():
                _document(operation)
        app.openapi_schema = document
        return document

    return openapi
