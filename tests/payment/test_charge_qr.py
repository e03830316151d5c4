"""A PIX charge's QR code is drawn off the event loop (PostgreSQL and SQLite).

Drawing it is ~10 ms of pure-Python CPU; in the bot process, on the loop, fifty buyers pressing
"buy" at once held every other buyer's update for half a second (bench/updates.py storefront).
The static provider makes the charge without a network: the QR drawn is the real one.
"""

from __future__ import annotations

import base64
import threading

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_purchase
from tgadmin.payment import charges
from tgadmin.pix.providers.static import StaticPixProvider
from tgadmin.pix.qr import qr_png


async def test_the_qr_is_drawn_in_a_thread_and_stored_with_the_charge(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn_on: list[int] = []

    def drawing(code: str) -> bytes:
        drawn_on.append(threading.get_ident())
        return qr_png(code)

    monkeypatch.setattr(charges, "qr_png", drawing)
    psp = StaticPixProvider(pix_key="fulano@example.com", merchant_name="Loja Teste", merchant_city="Recife")
    purchase = await make_purchase(session)

    tx = await charges.create_pix_charge(session, psp, purchase.id, expires_minutes=30)

    assert len(drawn_on) == 1 and drawn_on[0] != threading.get_ident()
    assert tx.pix_copy_paste is not None
    assert charges.qr_image_bytes(tx) == qr_png(tx.pix_copy_paste)
    assert base64.b64decode((tx.pix_qr_image or "").split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
