"""One error tree: every expected failure is a TgadminError with an HTTP status and a user message.

Over HTTP every refusal has one shape, `ErrorRead` (`{error, message, details?}`); web/errors.py
answers everything that is not a TgadminError (FastAPI's validation, Starlette's 404 and 405, a body
that is not JSON) in it too.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class TgadminError(Exception):
    """Base of every error the product expects; `message` is safe to show to a user."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigError(TgadminError):
    """A setting is missing or malformed; the message names it."""

    code = "config_error"


class BadRequest(TgadminError):
    status_code = 400
    code = "bad_request"


class InvalidInput(BadRequest):
    """A request whose fields failed validation; `details["problems"]` lists each field."""

    status_code = 422
    code = "invalid_input"


class NotFound(TgadminError):
    status_code = 404
    code = "not_found"


class Forbidden(TgadminError):
    status_code = 403
    code = "forbidden"


class Unauthorized(TgadminError):
    status_code = 401
    code = "unauthorized"


class Conflict(TgadminError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """A status change that is not allowed from the current status."""

    code = "invalid_transition"


class PayloadTooLarge(TgadminError):
    status_code = 413
    code = "payload_too_large"


class ServiceUnavailable(TgadminError):
    """A dependency (database, Redis, S3, SMTP, Telegram, PSP) did not answer or refused us."""

    status_code = 503
    code = "service_unavailable"


class ErrorRead(BaseModel):
    """Every refused API call: a machine code and a message for a person."""

    error: str = Field(examples=["not_found"])
    message: str = Field(examples=["transaction 42 does not exist"])
    details: dict[str, Any] | None = None

    @classmethod
    def of(cls, error: TgadminError) -> ErrorRead:
        return cls(error=error.code, message=error.message, details=error.details or None)
