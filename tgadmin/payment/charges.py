"""PIX charges: created at the PSP for a pending purchase, with the QR code the buyer scans."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import metrics
from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from tgadmin.models import Purchase, Transaction
from tgadmin.models.enums import Currency, PaymentMethod, PurchaseStatus, TransactionStatus
from tgadmin.payment import repository
from tgadmin.payment.service import FIRST_POLL, SYSTEM, snapshot
from tgadmin.pix.providers.base import ChargeRequest, PixProvider, new_txid
from tgadmin.pix.qr import qr_png

QR_DATA_URI = "data:image/png;base64,"
MAX_DESCRIPTION = 140


def qr_data_uri(copy_paste: str) -> str:
    """The QR image stored with the charge: a PNG data URI (a Telegram photo once decoded, an <img>)."""
    return QR_DATA_URI + base64.b64encode(qr_png(copy_paste)).decode("ascii")


def qr_image_bytes(tx: Transaction) -> bytes:
    if not tx.pix_qr_image or not tx.pix_qr_image.startswith(QR_DATA_URI):
        raise NotFound(f"transaction {tx.id} has no QR image")
    return base64.b64decode(tx.pix_qr_image.removeprefix(QR_DATA_URI))


async def pending_purchase(session: AsyncSession, purchase_id: int) -> Purchase:
    purchase = await repository.purchase(session, purchase_id)
    if purchase is None:
        raise NotFound(f"purchase {purchase_id} does not exist")
    if purchase.status != PurchaseStatus.PENDING:
        raise Conflict(f"purchase {purchase_id} is {purchase.status.value}, not pending: it cannot be paid")
    return purchase


def check_pix_amount(amount_cents: int, currency: Currency) -> None:
    if currency != Currency.BRL:
        raise BadRequest(f"PIX charges are in BRL, not {currency.value}")
    if amount_cents <= 0:
        raise BadRequest(f"a PIX charge needs a positive amount, not {amount_cents} cents")


async def create_pix_charge(
    session: AsyncSession,
    provider: PixProvider,
    purchase_id: int,
    *,
    expires_minutes: int,
    actor: Actor = SYSTEM,
) -> Transaction:
    """A PIX charge for a pending purchase; the open one is returned again if the buyer asks twice."""
    purchase = await pending_purchase(session, purchase_id)
    check_pix_amount(purchase.amount_cents, purchase.currency)
    if expires_minutes <= 0:
        raise BadRequest("PIX_EXPIRES_MINUTES must be positive")
    now = utcnow()
    existing = await repository.open_charge(session, purchase.id, PaymentMethod.PIX, provider.name, now)
    if existing is not None:
        return existing
    product = await repository.product(session, purchase.product_id)
    request = ChargeRequest(
        txid=new_txid(),
        amount_cents=purchase.amount_cents,
        expires_in_seconds=expires_minutes * 60,
        description=(product.title if product else f"Pedido {purchase.id}")[:MAX_DESCRIPTION],
    )
    charge = await provider.create_charge(request)
    # Counted once the PSP made it: it exists there whether or not our transaction commits.
    metrics.PIX_CHARGES_CREATED.labels(provider.name).inc()
    if charge.amount_cents != purchase.amount_cents:
        raise ServiceUnavailable(
            f"{provider.name} created a charge of {charge.amount_cents} cents, "
            f"not the {purchase.amount_cents} asked for"
        )
    # Drawing the QR is ~10 ms of pure-Python CPU (segno's mask choice); on the event loop, 50 buyers
    # pressing "buy" at once held every other update of the bot process for half a second.
    qr_image = await asyncio.to_thread(qr_data_uri, charge.copy_paste)
    tx = Transaction(
        purchase_id=purchase.id,
        method=PaymentMethod.PIX,
        amount_cents=purchase.amount_cents,
        currency=Currency.BRL,
        status=TransactionStatus.PENDING,
        provider=provider.name,
        provider_txid=charge.txid,
        pix_key=charge.pix_key,
        pix_copy_paste=charge.copy_paste,
        pix_qr_image=qr_image,
        pix_expires_at=now + timedelta(minutes=expires_minutes),
        next_poll_at=now + FIRST_POLL,
        poll_count=0,
        needs_refund=False,
    )
    session.add(tx)
    await session.flush()
    await record(session, actor, "payment.charge_created", "transaction", tx.id, after=snapshot(tx))
    return tx
