"""QR images of a BR Code (PNG for Telegram photos, SVG for the dashboard), drawn by segno."""

from __future__ import annotations

import io

import segno

from tgadmin.errors import BadRequest

# Error correction M: what bank apps scan reliably at phone-screen sizes; a 4-module quiet zone
# is the QR standard's minimum and the manual's recommendation.
ERROR_LEVEL = "m"
QUIET_ZONE = 4


def _qr(code: str) -> segno.QRCode:
    if not code:
        raise BadRequest("cannot draw a QR code of an empty BR Code")
    # A BR Code is ASCII; forcing byte mode keeps segno from picking Kanji or ECI variants that some
    # bank apps misread.
    return segno.make_qr(code, error=ERROR_LEVEL, mode="byte", boost_error=False)


def qr_png(code: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    _qr(code).save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    return buffer.getvalue()


def qr_svg(code: str, *, scale: int = 4) -> str:
    buffer = io.BytesIO()
    _qr(code).save(buffer, kind="svg", scale=scale, border=QUIET_ZONE, xmldecl=False, svgns=True)
    return buffer.getvalue().decode("utf-8")
