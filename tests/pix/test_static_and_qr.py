"""Provider `static` (no PSP: the operator confirms), the provider factory, and QR images."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import segno
from PIL import Image

from tests.pix.test_brcode import BCB_STATIC
from tgadmin.clock import frozen_at
from tgadmin.config import load_settings
from tgadmin.errors import BadRequest, ConfigError, Forbidden
from tgadmin.pix.brcode import parse_brcode
from tgadmin.pix.providers import MercadoPagoProvider, StaticPixProvider, get_provider
from tgadmin.pix.providers.base import ChargeRequest, ChargeState, new_txid
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.pix.qr import qr_png, qr_svg


def _static() -> StaticPixProvider:
    provider = get_provider(
        load_settings(
            pix_provider="static",
            pix_key="+55 11 98765-4321",
            pix_merchant_name="Loja da Ana Ltda",
            pix_merchant_city="Belém",
        )
    )
    assert isinstance(provider, StaticPixProvider)
    return provider


async def test_static_charge_is_a_static_code_with_amount_and_txid_prefix() -> None:
    provider = _static()
    txid = new_txid()
    with frozen_at(datetime(2026, 11, 23, 10, 0, tzinfo=UTC)):
        charge = await provider.create_charge(ChargeRequest(txid, 4590, 1800, "Pack de fotos da Ana"))
    code = parse_brcode(charge.copy_paste)
    assert (code.key, code.amount, code.txid) == ("+5511987654321", "45.90", txid[:25])
    assert (code.merchant_name, code.merchant_city, code.description) == (
        "Loja da Ana Ltda",
        "Belem",
        "Pack de fotos da Ana",
    )
    assert not code.is_dynamic and code.point_of_initiation is None
    assert charge.expires_at is not None and charge.expires_at.isoformat() == "2026-11-23T10:30:00+00:00"
    assert (charge.txid, charge.state) == (txid, ChargeState.ACTIVE)


async def test_static_never_reports_paid_and_explains_cancel_and_refund() -> None:
    provider = _static()
    assert (await provider.get_charge("abc")).state == ChargeState.ACTIVE
    cancelled = await provider.cancel_charge("abc")
    assert cancelled.state == ChargeState.CANCELLED and "cannot be revoked" in cancelled.raw["note"]
    with pytest.raises(BadRequest, match="send the amount back from the bank app"):
        await provider.refund("E1", "R1", 100)
    with pytest.raises(Forbidden, match="an operator confirms"):
        provider.parse_notification(b"{}", {}, {})


async def test_static_long_description_is_cut_to_fit_field_26() -> None:
    provider = StaticPixProvider(pix_key="a" * 60 + "@example.com", merchant_name="A", merchant_city="B")
    charge = await provider.create_charge(ChargeRequest(new_txid(), 100, 60, "Descrição muito longa " * 5))
    description = parse_brcode(charge.copy_paste).description
    assert description is not None and "Descricao muito longa".startswith(description)


def test_factory_picks_each_provider_and_names_missing_settings() -> None:
    assert isinstance(get_provider(load_settings(pix_provider="sandbox")), SandboxProvider)
    sandbox = get_provider(
        load_settings(pix_provider="sandbox", telegram_api_base_url="http://127.0.0.1:9999")
    )
    assert isinstance(sandbox, SandboxProvider) and sandbox.base_url == "http://127.0.0.1:9999"
    mp = get_provider(
        load_settings(
            pix_provider="mercadopago", mercadopago_access_token="t", public_url="https://shop.example.com"
        )
    )
    assert isinstance(mp, MercadoPagoProvider)
    assert mp.notification_url == "https://shop.example.com/webhooks/pix/mercadopago"
    with pytest.raises(ConfigError, match="PIX_KEY: is required"):
        get_provider(load_settings(pix_provider="static", pix_key=None))
    with pytest.raises(ConfigError, match="MERCADOPAGO_ACCESS_TOKEN: is required"):
        get_provider(load_settings(pix_provider="mercadopago", mercadopago_access_token=None))
    with pytest.raises(ConfigError, match=r"PIX_MERCHANT_NAME.*at most 25"):
        get_provider(load_settings(pix_provider="static", pix_key="a@b.co", pix_merchant_name="N" * 30))


def test_png_is_a_scannable_size_qr_of_the_code() -> None:
    png = qr_png(BCB_STATIC, scale=5)
    image = Image.open(io.BytesIO(png))
    symbol = segno.make_qr(BCB_STATIC, error="m", mode="byte", boost_error=False)
    assert (
        image.format == "PNG" and image.size[0] == image.size[1] == (symbol.symbol_size(scale=5, border=4)[0])
    )
    assert symbol.mode == "byte" and symbol.error == "M"
    # Dark modules where the matrix says so: the top-left finder pattern's corner module.
    pixels = image.convert("L")
    assert pixels.getpixel((4 * 5 + 2, 4 * 5 + 2)) == 0 and pixels.getpixel((2, 2)) == 255


def test_svg_is_well_formed() -> None:
    root = ET.fromstring(qr_svg(BCB_STATIC))  # noqa: S314 - our own output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    with pytest.raises(BadRequest):
        qr_svg("")
