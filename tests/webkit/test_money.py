"""Amounts in reais as operators type them (the product form's price, the Sales page's "amount
received"): one parser for both."""

from __future__ import annotations

import pytest

from tgadmin.errors import BadRequest
from tgadmin.webkit.money import parse_brl


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("29,90", 2990),
        ("29.90", 2990),
        ("R$ 1.234,56", 123456),
        ("R$\u00a019,9", 1990),
        ("0,01", 1),
        ("7", 700),
        ("99.999.999.999,99", 9_999_999_999_999),
    ],
)
def test_amounts_are_read_as_typed_whatever_their_size(typed: str, cents: int) -> None:
    assert parse_brl(typed) == cents


def test_blank_is_no_amount() -> None:
    assert parse_brl("  ") is None


@pytest.mark.parametrize("typed", ["0", "0,00", "-1", "-29,90", "1,999", "29,905", "abc", "NaN", "Infinity"])
def test_zero_negative_three_decimals_and_words_are_refused(typed: str) -> None:
    with pytest.raises(BadRequest, match="is not an amount in reais like 19,90"):
        parse_brl(typed)
