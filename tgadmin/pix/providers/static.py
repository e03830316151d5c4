"""Provider `static`: a static BR Code for the shop's own PIX key, no PSP behind it.

Nobody tells us when money arrives: an operator checks the bank statement (the code's txid shows
there) and confirms the payment in the dashboard. Hence `get_charge` never reports a payment,
`cancel_charge` reaches nobody (a static code cannot be revoked: a late payment is still possible
and is confirmed or refunded by hand), refunds are sent from the bank app, and there are no
notifications to verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tgadmin.clock import utcnow
from tgadmin.errors import BadRequest, Forbidden
from tgadmin.pix.brcode import (
    GUI,
    MAX_STATIC_TXID,
    MAX_VALUE,
    ascii_fold,
    build_brcode,
    normalize_key,
)
from tgadmin.pix.providers.base import Charge, ChargeRequest, ChargeState, Notification, Refund

NOTE = "static PIX: no PSP reports payments; an operator confirms them in the dashboard"


class StaticPixProvider:
    name = "static"

    def __init__(self, *, pix_key: str, merchant_name: str, merchant_city: str) -> None:
        self.pix_key = normalize_key(pix_key)[1]
        self.merchant_name = merchant_name
        self.merchant_city = merchant_city
        # Fail at start-up, not at the first sale, when the name or city cannot go into a code.
        build_brcode(key=self.pix_key, name=merchant_name, city=merchant_city)

    async def aclose(self) -> None:
        return None  # no connections: a static code reaches no one

    async def check(self) -> str:
        return f"static: codes for a {self.pix_key[:3]}… key build correctly (payments confirmed by hand)"

    def _description(self, text: str) -> str | None:
        """As much of the description as fits beside the key in field 26 (99 characters)."""
        room = MAX_VALUE - (4 + len(GUI)) - (4 + len(self.pix_key)) - 4
        folded = ascii_fold(text)[: max(room, 0)].strip()
        return folded or None

    async def create_charge(self, request: ChargeRequest) -> Charge:
        # A static code's txid holds at most 25 characters: the operator matches on this prefix.
        code = build_brcode(
            key=self.pix_key,
            name=self.merchant_name,
            city=self.merchant_city,
            amount_cents=request.amount_cents,
            txid=request.txid[:MAX_STATIC_TXID],
            description=self._description(request.description),
        )
        return Charge(
            provider=self.name,
            txid=request.txid,
            state=ChargeState.ACTIVE,
            amount_cents=request.amount_cents,
            copy_paste=code,
            expires_at=utcnow() + timedelta(seconds=request.expires_in_seconds),
            pix_key=self.pix_key,
            raw={"note": NOTE, "code_txid": request.txid[:MAX_STATIC_TXID]},
        )

    def _unknown(self, txid: str, state: ChargeState, note: str) -> Charge:
        # No PSP record exists: amount and code are the transaction's own, kept by the service.
        return Charge(
            provider=self.name,
            txid=txid,
            state=state,
            amount_cents=0,
            copy_paste="",
            expires_at=None,
            pix_key=self.pix_key,
            raw={"note": note},
        )

    async def get_charge(self, txid: str) -> Charge:
        return self._unknown(txid, ChargeState.ACTIVE, NOTE)

    async def cancel_charge(self, txid: str) -> Charge:
        note = "static PIX: the code cannot be revoked; a late payment is confirmed or refunded by hand"
        return self._unknown(txid, ChargeState.CANCELLED, note)

    async def refund(
        self, end_to_end_id: str, refund_id: str, amount_cents: int, *, txid: str | None = None
    ) -> Refund:
        raise BadRequest(
            "static PIX has no PSP to refund through: send the amount back from the bank app "
            "(the bank statement shows the payer), then mark the transaction refunded in the dashboard"
        )

    def parse_notification(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, Any],
        *,
        path_secret: str | None = None,
    ) -> list[Notification]:
        raise Forbidden(
            "static PIX receives no notifications: an operator confirms payments in the dashboard"
        )
