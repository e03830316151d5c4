"""PSP webhooks: `POST /webhooks/pix/{provider}[/{secret}][/pix]` (thin: verify, then the payment
service decides).

URLs: API Pix providers (`apipix`, `sandbox`) are registered at `{PUBLIC_URL}/webhooks/pix/{provider}/
{secret}` (`apipix.webhook_url`); the PSP appends `/pix` literally. A reverse proxy may instead
send the secret in the header `X-Webhook-Secret` to `/webhooks/pix/{provider}[/pix]`. Mercado Pago
posts to `/webhooks/pix/mercadopago`, signed with `x-signature`. A secret in a query string is not
accepted (the appended `/pix` would become part of it).

Answers: 200 for everything handled, including duplicates, reordered and late notifications (the PSP
must stop retrying: nothing is applied twice); 403 for a notification that fails verification
(logged without its secrets, and not stored: a forged copy must not shadow the genuine one in the
inbox); 404 for a provider we do not run; 400 for a body that is not the PSP's format; 413 for a
body over 64 KiB (refused by its Content-Length, or as soon as the streamed read passes the cap);
503 when the PSP could not be asked about the charge (nothing was applied, the PSP's retry will be).
Each notification is its own unit of work, committed before its delivery is enqueued.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request

from tgadmin.config import Settings
from tgadmin.db import AfterCommit
from tgadmin.errors import BadRequest, ConfigError, Forbidden, NotFound, PayloadTooLarge
from tgadmin.payment import confirmation
from tgadmin.pix.providers import get_provider
from tgadmin.pix.providers.base import PixProvider
from tgadmin.purchase.enqueue import DeliveryHook, QueueDeliveries, revoke_access
from tgadmin.queue.client import Queues
from tgadmin.webkit.deps import StateDep

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class PaymentRuntime:
    """The dashboard process's PIX provider and delivery hook, opened lazily, closed at shutdown."""

    def __init__(
        self,
        settings: Settings,
        *,
        provider: PixProvider | None = None,
        deliveries: DeliveryHook | None = None,
    ) -> None:
        self.settings = settings
        self._provider = provider
        self._deliveries = deliveries
        self._queues: Queues | None = None
        self._revocations: Queues | None = None
        self._closed = False

    def provider(self, name: str) -> PixProvider:
        """The configured provider if `name` is it; a notification for any other is not ours."""
        if self._provider is None:
            self._provider = get_provider(self.settings)
        if self._provider.name != name:
            raise NotFound(f"no PIX provider {name!r} here")
        return self._provider

    async def deliver(self, purchase_ids: Iterable[int]) -> None:
        ids = list(purchase_ids)
        if not ids:
            return
        if self._deliveries is None:
            if self._closed:
                log.error("paid purchases %s wait for delivery: the process is shutting down", ids)
                return
            try:
                self._queues = Queues(self.settings)
            except ConfigError as error:
                log.error("paid purchases %s wait for delivery: %s", ids, error.message)
                return
            self._deliveries = QueueDeliveries(self._queues)
        await self._deliveries(ids)

    async def revoke(self, purchase_ids: Iterable[int]) -> None:
        """Refunded purchases lose their access (a job each; the subscription sweep catches misses)."""
        ids = list(purchase_ids)
        if not ids:
            return
        if self._revocations is None:
            if self._closed:
                log.error("refunded purchases %s keep access until the sweep: shutting down", ids)
                return
            try:
                self._revocations = Queues(self.settings)
            except ConfigError as error:
                log.error("refunded purchases %s keep access until the sweep: %s", ids, error.message)
                return
        await revoke_access(self._revocations, ids)

    async def aclose(self) -> None:
        """Close what was opened; what is asked later opens nothing (queues closed refuse, too)."""
        self._closed = True
        try:
            if self._provider is not None:
                await self._provider.aclose()
        finally:
            try:
                if self._queues is not None:
                    await self._queues.close()
            finally:
                if self._revocations is not None:
                    await self._revocations.close()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A runtime put there before start-up (tests, `tgadmin dev`) is used as it is.
    if getattr(app.state, "payments", None) is None:
        app.state.payments = PaymentRuntime(app.state.tgadmin.settings)
    try:
        yield
    finally:
        await app.state.payments.aclose()


def runtime(request: Request) -> PaymentRuntime:
    """The process's PIX provider and delivery hook (opened by this router's lifespan)."""
    existing: PaymentRuntime | None = getattr(request.app.state, "payments", None)
    if existing is None:
        existing = request.app.state.payments = PaymentRuntime(request.app.state.tgadmin.settings)
    return existing


PaymentsDep = Annotated[PaymentRuntime, Depends(runtime)]
router = APIRouter(lifespan=_lifespan)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, refused (413) by its declared length or as soon as more than `limit` bytes arrive."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isascii() or not declared.isdigit()):
        raise BadRequest("Content-Length is not a number")
    if declared and int(declared[:20]) > limit:
        raise PayloadTooLarge(f"a notification body is at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"a notification body is at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/webhooks/pix/{provider}", include_in_schema=False)
# API Pix POSTs to the registered URL with `/pix` appended.
@router.post("/webhooks/pix/{provider}/pix", include_in_schema=False)
async def pix_webhook(provider: str, request: Request, state: StateDep) -> dict[str, Any]:
    return await _receive(provider, None, request, state)


@router.post("/webhooks/pix/{provider}/{secret}", include_in_schema=False)
@router.post("/webhooks/pix/{provider}/{secret}/pix", include_in_schema=False)
async def pix_webhook_with_secret(
    provider: str, secret: str, request: Request, state: StateDep
) -> dict[str, Any]:
    return await _receive(provider, secret, request, state)


async def _receive(provider: str, secret: str | None, request: Request, state: StateDep) -> dict[str, Any]:
    payments: PaymentRuntime = request.app.state.payments
    psp = payments.provider(provider)
    body = await read_capped(request)
    try:
        notes = psp.parse_notification(
            body, dict(request.headers), dict(request.query_params), path_secret=secret
        )
    except Forbidden as error:
        log.warning("refused a %s notification from %s: %s", provider, _client(request), error.message)
        raise
    results = []
    for note in notes:
        after_commit = AfterCommit()
        async with state.unit_of_work(after_commit) as session:
            outcome = await confirmation.handle_notification(session, psp, note)
            after_commit.add(partial(payments.deliver, outcome.deliver))
        log.info("%s notification %s: %s", provider, note.external_id, outcome.result.value)
        results.append(outcome.result.value)
    return {"received": len(notes), "results": results}
