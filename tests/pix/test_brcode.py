"""BR Code builder and parser against published codes, round trips and every malformed input."""

from __future__ import annotations

import pytest

from tgadmin.errors import BadRequest
from tgadmin.pix.brcode import (
    KeyType,
    build_brcode,
    crc16,
    format_amount,
    normalize_key,
    parse_amount,
    parse_brcode,
    tlv,
)

# Banco Central, "Manual de Padrões para Iniciação do Pix" (section 2 examples): static, dynamic and
# composite codes; and "Manual do BR Code" §2.2: a multi-arrangement code (BR.COM.OUTRO in 27 and 80,
# postal code 61, a txid with a hyphen).
BCB_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
BCB_DYNAMIC = (
    "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***630464E4"
)
BCB_COMPOSITE = (
    "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***"
    "80740014br.gov.bcb.pix2552pix.example.com/rec/2353c790eefb11eaadc10242ac1200026304FB42"
)
BRCODE_MANUAL = (
    "00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-426655440000"
    "27300012BR.COM.OUTRO011001234567895204000053039865406123.455802BR5917NOME DO RECEBEDOR"
    "6008BRASILIA61087007490062190515RP12345678-201980390012BR.COM.OUTRO01190123.ABCD.3456.WXYZ6304AD38"
)
# Independent implementations and real PSPs, found in public repositories:
# the pix.ae Rust crate's test sample (e-mail key, description, amount)...
PIXAE_SAMPLE = (
    "00020126530014br.gov.bcb.pix0119saskenuba@gmail.com0208[Pix.ae]520400005303986540550.00"
    "5802BR5903Pix6003Pix62070503***63048287"
)
# ...a Banco BS2 dynamic code issued through Pagsmile (upper-case GUI, postal code 61)...
BS2_DYNAMIC = (
    "00020126890014BR.GOV.BCB.PIX2567api-pix.bancobs2.com.br/spi/v2/cdbd7c5c-0465-41da-bf4f-2abc393011ec"
    "520400005303986540510.305802BR5908PAGSMILE6014Belo Horizonte61083038040362070503***63044D55"
)
# ...a Mercado Pago in-store code (point of initiation 11 with a location, txid "mpis")...
MERCADOPAGO_INSTORE = (
    "00020101021126810014BR.GOV.BCB.PIX2559pix-qr.mercadopago.com/instore/ol/v2/3Z92vwxO3Le6HS6SjSFvON"
    "5204000053039865802BR5923Joao Victor Concurseiro6009SAO PAULO62080504mpis6304342A"
)
# ...and a donation page's static code with an amount and postal code.
DONATION_WITH_AMOUNT = (
    "00020126580014BR.GOV.BCB.PIX01367562c356-5408-4e37-91cd-a09bb9aa9a54520400005303986540550.00"
    "5802BR5923Lincoln Tarcisio Pontes6009SAO PAULO61080540900062070503***6304FDB5"
)
# Published codes that are wrong, and must be refused with a reason:
# Stark Bank's SDK docstring: the name was edited to "Arya Stark" (10) but still declares 13.
STARK_DOC_EDITED = (
    "00020101021226800014br.gov.bcb.pix2558invoice.starkbank.com/f5333103-3279-4db2-8389-5efe335ba93d"
    "5204000053039865802BR5913Arya Stark6009Sao Paulo6220051656565656565656566304A9A0"
)
# A widely copied community example whose city "Presidente Prudente" has 19 characters (max 15).
COMMUNITY_LONG_CITY = (
    "00020126580014br.gov.bcb.pix0136bee05743-4291-4f3c-9259-595df1307ba1520400005303986540510.00"
    "5802BR5914Alexandre Lima6019Presidente Prudente62180514Um-Id-Qualquer6304D475"
)


def test_crc16_is_ccitt_false() -> None:
    # The CRC catalogue's check value for CRC-16/CCITT-FALSE.
    assert crc16("123456789") == "29B1"


def test_builder_reproduces_the_central_bank_static_example_byte_for_byte() -> None:
    code = build_brcode(key="123e4567-e12b-12d1-a456-426655440000", name="Fulano de Tal", city="BRASILIA")
    assert code == BCB_STATIC


def test_builder_reproduces_the_central_bank_dynamic_example_byte_for_byte() -> None:
    code = build_brcode(
        url="pix.example.com/8b3da2f39a4140d1a91abd93113bd441", name="Fulano de Tal", city="BRASILIA"
    )
    assert code == BCB_DYNAMIC


def test_builder_reproduces_an_independent_implementations_sample() -> None:
    code = build_brcode(
        key="saskenuba@gmail.com", description="[Pix.ae]", amount_cents=5000, name="Pix", city="Pix"
    )
    assert code == PIXAE_SAMPLE


def test_parser_reads_the_manual_examples() -> None:
    static = parse_brcode(BCB_STATIC)
    assert (static.key, static.txid, static.amount, static.is_dynamic) == (
        "123e4567-e12b-12d1-a456-426655440000",
        None,
        None,
        False,
    )
    dynamic = parse_brcode(BCB_DYNAMIC)
    assert dynamic.url == "pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    assert dynamic.point_of_initiation == "12"
    composite = parse_brcode(BCB_COMPOSITE)
    assert composite.url == dynamic.url
    assert composite.other_fields["80"].startswith("0014br.gov.bcb.pix25")
    manual = parse_brcode(BRCODE_MANUAL)
    assert manual.key == "123e4567-e12b-12d1-a456-426655440000"
    assert manual.amount_cents == 12345
    assert manual.txid == "RP12345678-2019"
    assert manual.postal_code == "70074900"
    assert set(manual.other_fields) == {"04", "27", "80"}


@pytest.mark.parametrize(
    ("code", "key", "url", "amount_cents", "txid"),
    [
        (PIXAE_SAMPLE, "saskenuba@gmail.com", None, 5000, None),
        (
            BS2_DYNAMIC,
            None,
            "api-pix.bancobs2.com.br/spi/v2/cdbd7c5c-0465-41da-bf4f-2abc393011ec",
            1030,
            None,
        ),
        (
            MERCADOPAGO_INSTORE,
            None,
            "pix-qr.mercadopago.com/instore/ol/v2/3Z92vwxO3Le6HS6SjSFvON",
            None,
            "mpis",
        ),
        (DONATION_WITH_AMOUNT, "7562c356-5408-4e37-91cd-a09bb9aa9a54", None, 5000, None),
    ],
)
def test_parser_reads_codes_from_real_psps_and_other_implementations(
    code: str, key: str | None, url: str | None, amount_cents: int | None, txid: str | None
) -> None:
    parsed = parse_brcode(code)
    assert (parsed.key, parsed.url, parsed.amount_cents, parsed.txid) == (key, url, amount_cents, txid)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (STARK_DOC_EDITED, "bad TLV header"),
        (COMMUNITY_LONG_CITY, "merchant city 1-15"),
        (BCB_STATIC[:-4] + "1D3E", "wrong CRC: the code says 1D3E, its content gives 1D3D"),
        (BCB_STATIC[:60], "truncated code"),
        (BCB_STATIC[:-8], "must end with the CRC field 63"),
        ("pix copia e cola", "must start with 000201"),
        ("", "empty BR Code"),
        (BCB_STATIC.replace("Fulano de Tal", "Fulano de Tál"), "non-ASCII"),
    ],
)
def test_parser_refuses_malformed_codes_with_a_one_line_reason(code: str, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_brcode(code)
    assert reason in caught.value.message
    assert "\n" not in caught.value.message


def _with_crc(body: str) -> str:
    return body + "6304" + crc16(body + "6304")


def test_parser_refuses_fields_out_of_order_even_with_a_right_crc() -> None:
    account = tlv("00", "br.gov.bcb.pix") + tlv("01", "fulano@example.com")
    body = tlv("00", "01") + tlv("26", account) + tlv("53", "986") + tlv("52", "0000") + tlv("58", "BR")
    body += tlv("59", "Fulano") + tlv("60", "BRASILIA") + tlv("62", tlv("05", "***"))
    with pytest.raises(BadRequest, match="fields out of order: 52 after 53"):
        parse_brcode(_with_crc(body))


def _body(*, amount: str | None = None, additional: str | None = tlv("05", "***"), account: str = "") -> str:
    account = account or tlv("00", "br.gov.bcb.pix") + tlv("01", "fulano@example.com")
    body = tlv("00", "01") + tlv("26", account) + tlv("52", "0000") + tlv("53", "986")
    if amount is not None:
        body += tlv("54", amount)
    body += tlv("58", "BR") + tlv("59", "Fulano") + tlv("60", "BRASILIA")
    if additional is not None:
        body += tlv("62", additional)
    return body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_body(amount="10.005"), "amount '10.005' must be digits, a dot and two decimals"),
        (_body(amount="10"), "amount '10' must be digits"),
        (_body(amount="-1.00"), "amount '-1.00' must be digits"),
        (_body(amount="0.00"), "must be greater than zero"),
        (_body(additional=None), "lacks field 62"),
        (_body(additional=tlv("01", "x")), "lacks sub-field 05"),
        (_body(additional="0509AB"), "truncated additional data field 62"),
        (_body(account=tlv("00", "br.gov.bcb.pix")), "either a key (01) or a location URL (25)"),
        (_body(account=tlv("00", "br.com.outro") + tlv("01", "x")), "no PIX merchant account"),
        (
            _body(account=tlv("00", "br.gov.bcb.pix") + tlv("25", "https://pix.example.com/x")),
            "must not include a scheme",
        ),
    ],
)
def test_parser_refuses_bad_fields_even_with_a_right_crc(body: str, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_brcode(_with_crc(body))
    assert reason in caught.value.message


def test_parser_accepts_the_template_at_id_51_and_a_lower_case_crc() -> None:
    account = tlv("00", "br.gov.bcb.pix") + tlv("01", "12345678909")
    body = tlv("00", "01") + tlv("51", account) + tlv("52", "0000") + tlv("53", "986") + tlv("58", "BR")
    body += tlv("59", "Fulano") + tlv("60", "BRASILIA") + tlv("62", tlv("05", "***"))
    code = _with_crc(body)
    parsed = parse_brcode(code[:-4] + code[-4:].lower())
    assert (parsed.pix_template_id, parsed.key) == ("51", "12345678909")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "12345678909", "amount_cents": 1, "txid": "A"},
        {"key": "11.222.333/0001-81", "amount_cents": 999_999_999_999, "txid": "X" * 25},
        {"key": "+55 (11) 98765-4321", "description": "Pedido 42", "amount_cents": 1050},
        {"key": "Fulano.De.Tal@Example.COM"},
        {"key": "123E4567-E12B-12D1-A456-426655440000", "txid": "Pedido42"},
        {"url": "127.0.0.1:8081/pix/qr/v2/abc123", "amount_cents": 2990},
    ],
)
def test_round_trip_keeps_every_field(kwargs: dict[str, object]) -> None:
    code = build_brcode(name="José da Conceição", city="São Paulo", **kwargs)  # type: ignore[arg-type]
    parsed = parse_brcode(code)
    assert parsed.merchant_name == "Jose da Conceicao"
    assert parsed.merchant_city == "Sao Paulo"
    assert parsed.amount_cents == kwargs.get("amount_cents")
    assert parsed.txid == kwargs.get("txid")
    assert parsed.description == kwargs.get("description")
    if "key" in kwargs:
        assert parsed.key == normalize_key(str(kwargs["key"]))[1]
        assert parsed.point_of_initiation is None
    else:
        assert (parsed.url, parsed.point_of_initiation) == (kwargs["url"], "12")
    assert "62" in code and code[-8:-4] == "6304"


def test_crc_is_zero_padded_to_four_digits() -> None:
    # Find a txid whose code has a CRC below 0x1000: the builder must still print 4 digits.
    for n in range(10_000):
        code = build_brcode(key="fulano@example.com", name="Fulano", city="BRASILIA", txid=f"T{n}")
        if code[-4] == "0":
            break
    else:
        pytest.fail("no CRC with a leading zero in 10 000 tries")
    assert len(code[-4:]) == 4 and code[-4:] == crc16(code[:-4])
    assert parse_brcode(code).crc == code[-4:]


@pytest.mark.parametrize(
    ("key", "kind", "normalized"),
    [
        ("123.456.789-09", KeyType.CPF, "12345678909"),
        ("11.222.333/0001-81", KeyType.CNPJ, "11222333000181"),
        ("(11) 98765-4321", KeyType.PHONE, "+5511987654321"),
        ("+55 21 3456-7890", KeyType.PHONE, "+552134567890"),
        (" Fulano@Example.COM ", KeyType.EMAIL, "fulano@example.com"),
        ("123E4567-E12B-12D1-A456-426655440000", KeyType.EVP, "123e4567-e12b-12d1-a456-426655440000"),
    ],
)
def test_keys_are_normalised_as_dict_stores_them(key: str, kind: KeyType, normalized: str) -> None:
    assert normalize_key(key) == (kind, normalized)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("123.456.789-00", "not a valid CPF"),
        ("11.222.333/0001-80", "not a valid CNPJ"),
        ("111.111.111-11", "not a valid CPF"),
        ("1234567890", "is not a PIX key"),
        ("+1 212 555 0100", "must be +55"),
        ("+55 11 8765-43", "must be +55"),
        ("+55 11 88765-4321", "must be +55"),  # 9-digit numbers are mobiles and start with 9
        ("fulano@", "not a valid address"),
        ("a" * 70 + "@example.com", "at most 77"),
        ("123e4567-e12b-12d1-a456-42665544000", "is not a PIX key"),
        ("", "empty"),
    ],
)
def test_keys_of_the_wrong_shape_are_refused(key: str, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        normalize_key(key)
    assert reason in caught.value.message


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"name": "🎉🎉"}, "merchant name is empty after ASCII folding"),
        ({"name": "A" * 26}, "at most 25"),
        ({"city": "Presidente Prudente"}, "at most 15"),
        ({"amount_cents": 0}, "greater than zero"),
        ({"amount_cents": -100}, "greater than zero"),
        ({"amount_cents": 10**13}, "longer than 13"),
        ({"txid": "pedido-42"}, "1-25 letters and digits"),
        ({"txid": "A" * 26}, "1-25 letters and digits"),
        ({"key": "nao é chave"}, "is not a PIX key"),
        ({"description": "x" * 60}, "shorten the description"),
        ({"url": "pix.example.com/x"}, "either a PIX key"),
    ],
)
def test_builder_refuses_bad_input(kwargs: dict[str, object], reason: str) -> None:
    args: dict[str, object] = {"key": "fulano@example.com", "name": "Fulano", "city": "BRASILIA", **kwargs}
    with pytest.raises(BadRequest) as caught:
        build_brcode(**args)  # type: ignore[arg-type]
    assert reason in caught.value.message


def test_dynamic_codes_refuse_a_scheme_or_a_txid() -> None:
    with pytest.raises(BadRequest, match="must not include a scheme"):
        build_brcode(url="https://pix.example.com/x", name="A", city="B")
    with pytest.raises(BadRequest, match="PSP's payload"):
        build_brcode(url="pix.example.com/x", name="A", city="B", txid="ABC")


def test_name_with_emoji_keeps_the_letters() -> None:
    code = build_brcode(key="fulano@example.com", name="Loja 🎉 da Ana", city="Brasília")
    parsed = parse_brcode(code)
    assert (parsed.merchant_name, parsed.merchant_city) == ("Loja da Ana", "Brasilia")


@pytest.mark.parametrize(("text", "cents"), [("10.00", 1000), ("0.01", 1), ("1234567890.99", 123456789099)])
def test_amounts_parse_to_cents(text: str, cents: int) -> None:
    assert parse_amount(text) == cents
    assert format_amount(cents) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("10.005", "exactly two decimals"),
        ("10", "exactly two decimals"),
        ("10,00", "exactly two decimals"),
        ("-5.00", "negative"),
        ("0.00", "greater than zero"),
        ("abc", "exactly two decimals"),
    ],
)
def test_bad_amounts_are_refused(text: str, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_amount(text)
    assert reason in caught.value.message
