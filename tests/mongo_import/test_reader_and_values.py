"""The export reader and the value conversions, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from bson import Decimal128

from tgadmin.mongo_import.mapping import Skip, cents, map_purchase, unknown_fields
from tgadmin.mongo_import.reader import read_lines


def test_every_kind_of_broken_line_is_named_by_its_number_and_the_rest_is_read(tmp_path: Path) -> None:
    export = tmp_path / "purchases.json"
    export.write_bytes(
        b'{"_id":{"$oid":"65f000000000000000000001"},"createdAt":{"$date":"2026-02-11T10:00:00Z"}}\n'
        b"\n"
        b'{"_id": \n'
        b"[1, 2]\n"
        b'"just text"\n'
        b'{"name":"\xff"}\n'
        b'{"_id":{"$oid":"not-an-object-id"}}\n'
        b'{"_id":{"$oid":"65f000000000000000000002"}}'
    )

    lines = list(read_lines(export))

    assert [line.number for line in lines] == [1, 3, 4, 5, 6, 7, 8]
    assert lines[0].document is not None
    assert lines[0].document["createdAt"] == datetime(2026, 2, 11, 10, tzinfo=UTC)
    assert [line.error for line in lines[1:6]] == [
        "not valid JSON: Expecting value at column 8",
        "a JSON array, not one document (export without --jsonArray)",
        "not a document but str",
        "not UTF-8 text",
        "not valid extended JSON: 'not-an-object-id' is not a valid ObjectId, it must be a 12-byte input"
        " or a 24-character hex string",
    ]
    assert lines[6].document is not None and lines[6].error is None
    assert lines[-1].offset == export.stat().st_size


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (29.9, 2990),
        (0.1, 10),
        (10, 1000),
        (Decimal128("49.90"), 4990),
        ("79.90", 7990),
        (0, 0),
    ],
)
def test_reais_become_exact_cents(value: object, expected: int) -> None:
    assert cents(value, "amount") == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (29.905, "amount has fractions of a cent"),
        (-1, "amount out of range"),
        (1e12, "amount out of range"),
        (True, "amount is not an amount"),
        ("R$ 10", "amount is not an amount"),
        (float("nan"), "amount is not an amount"),
    ],
)
def test_an_amount_that_is_not_whole_cents_is_refused_not_rounded(value: object, reason: str) -> None:
    with pytest.raises(Skip) as refused:
        cents(value, "amount")
    assert refused.value.reason == reason


def test_unknown_fields_are_named_and_mongoose_bookkeeping_is_not() -> None:
    document = {"_id": 1, "__v": 0, "status": "paid", "modelId": 2, "couponCode": "X"}

    assert unknown_fields("purchases", document) == ["couponCode"]


def test_a_purchase_without_a_buyer_is_skipped_with_the_field_it_lacks() -> None:
    with pytest.raises(Skip) as refused:
        map_purchase(
            {
                "_id": "65f000000000000000000001",
                "productId": "65e000000000000000000001",
                "amount": 1,
                "status": "paid",
            }
        )
    assert refused.value.reason == "telegramUserId missing"
