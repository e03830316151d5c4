"""What a `/start` payload names, and how prices read in each language."""

from __future__ import annotations

import pytest

from tgadmin.creator.service import DeepLink, parse_payload
from tgadmin.creator.texts import price, product_button
from tgadmin.models.enums import Currency


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("model_42", DeepLink(42, None)),
        ("model_42_grupo-praia", DeepLink(42, "grupo-praia")),
        ("model_42_" + "a" * 32, DeepLink(42, "a" * 32)),
        # A tag that is no tag is dropped; the buyer still gets the creator the link was for.
        ("model_42_" + "a" * 33, DeepLink(42, None)),
        ("model_42_bad:tag", DeepLink(42, None)),
        ("model_42_", DeepLink(42, None)),
        ("model_abc", None),
        ("model_", None),
        ("model_0", None),
        ("model_9223372036854775808", None),  # past a row id's range
        ("model_99999999999999999999", None),
        ("modelo_42", None),
        ("42", None),
        ("", None),
    ],
)
def test_a_payload_names_a_creator_and_maybe_a_source(payload: str, expected: DeepLink | None) -> None:
    assert parse_payload(payload) == expected


@pytest.mark.parametrize(
    ("cents", "pt", "en"),
    [
        (2990, "R$ 29,90", "R$29.90"),
        (5, "R$ 0,05", "R$0.05"),
        (123456789, "R$ 1.234.567,89", "R$1,234,567.89"),
    ],
)
def test_brl_prices_read_the_way_each_language_writes_them(cents: int, pt: str, en: str) -> None:
    assert (price("pt", cents), price("en", cents)) == (pt, en)


def test_a_product_button_adds_the_stars_price_when_there_is_one() -> None:
    assert product_button("pt", "Pack", 4990, Currency.BRL, 250) == "Pack — R$ 49,90 · ⭐ 250"
    assert product_button("en", "Pack", 4990, Currency.BRL, None) == "Pack — R$49.90"
