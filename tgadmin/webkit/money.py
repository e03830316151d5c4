"""Amounts in reais as an operator types them in a form: '29,90', '29.90', 'R$ 1.234,56'."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from tgadmin.errors import BadRequest


def parse_brl(text: str) -> int | None:
    """'19,90', '19.90', 'R$ 1.234,56' -> cents; '' -> None (the caller decides what blank means).

    Zero, negative amounts, more than two decimals and anything that is not a number are refused."""
    cleaned = text.replace("R$", "").replace(" ", "").replace("\u00a0", "").strip()
    if not cleaned:
        return None
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise BadRequest(f"{text!r} is not an amount in reais like 19,90")
    return int(amount * 100)
