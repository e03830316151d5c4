"""`tgadmin pix brcode` and `tgadmin pix decode`, run as a user runs them: the real CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.pix.test_brcode import BCB_DYNAMIC, BCB_STATIC


def tgadmin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tgadmin", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_brcode_prints_the_code_alone_on_stdout() -> None:
    result = tgadmin(
        "pix", "brcode", "--key", "123e4567-e12b-12d1-a456-426655440000", "--name", "Fulano de Tal",
        "--city", "BRASILIA",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == BCB_STATIC + "\n"


def test_brcode_with_every_option_decodes_back() -> None:
    built = tgadmin(
        "pix", "brcode", "--key", "+55 (11) 98765-4321", "--name", "Açaí do Zé", "--city", "Belém",
        "--amount", "10.50", "--txid", "Pedido42", "--description", "Pack de fotos",
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    decoded = tgadmin("pix", "decode", built.stdout.strip())
    assert decoded.returncode == 0, decoded.stderr
    fields = json.loads(decoded.stdout)
    assert fields["key"] == "+5511987654321"
    assert (fields["merchant_name"], fields["merchant_city"]) == ("Acai do Ze", "Belem")
    assert (fields["amount"], fields["amount_cents"], fields["txid"]) == ("10.50", 1050, "Pedido42")
    assert fields["description"] == "Pack de fotos"


def test_dynamic_brcode_from_a_location_url() -> None:
    result = tgadmin(
        "pix", "brcode", "--url", "pix.example.com/8b3da2f39a4140d1a91abd93113bd441",
        "--name", "Fulano de Tal", "--city", "BRASILIA",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == BCB_DYNAMIC


def test_brcode_refuses_three_decimals_with_one_line() -> None:
    result = tgadmin(
        "pix", "brcode", "--key", "fulano@example.com", "--name", "A", "--city", "B", "--amount", "1.005"
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: amount '1.005' must be digits, a dot and exactly two decimals, e.g. 10.00"
    ]


def test_brcode_refuses_an_emoji_only_name() -> None:
    result = tgadmin("pix", "brcode", "--key", "fulano@example.com", "--name", "🎉🎉", "--city", "B")
    assert result.returncode == 1
    assert "merchant name is empty after ASCII folding" in result.stderr


def test_decode_prints_fields_as_json() -> None:
    result = tgadmin("pix", "decode", BCB_DYNAMIC)
    assert result.returncode == 0, result.stderr
    fields = json.loads(result.stdout)
    assert fields["url"] == "pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    assert fields["dynamic"] is True and fields["txid"] is None and fields["crc"] == "64E4"


def test_decode_exits_1_with_one_line_for_a_wrong_crc() -> None:
    result = tgadmin("pix", "decode", BCB_STATIC[:-4] + "0000")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: wrong CRC: the code says 0000, its content gives 1D3D"
    ]


def test_decode_exits_1_for_a_truncated_code() -> None:
    result = tgadmin("pix", "decode", BCB_STATIC[:50])
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "truncated code" in result.stderr
