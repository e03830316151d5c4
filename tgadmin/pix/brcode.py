"""PIX BR Code (EMV QRCPS-MPM) builder and parser, exact to Banco Central's manual.

Why our own: the PyPI libraries we examined emit invalid codes (one drops field 62, one
mis-formats amounts, one forgets the CRC's zero padding).

Layout of a code we build (TLV: two-digit id, two-digit length, value; ids ascending):

    00 "01"                       payload format indicator, always first
    01 "12"                       point of initiation: only in dynamic codes (one charge, paid once);
                                  static codes omit it, which means "reusable" (the manual's `11`)
    26 merchant account           00 GUI "br.gov.bcb.pix", then either
                                  01 key (+ optional 02 description)  -> static code, or
                                  25 location URL without scheme      -> dynamic code (PSP payload)
    52 "0000"  53 "986"  54 amount (optional, \\d+\\.\\d{2}, > 0)  58 "BR"
    59 merchant name (<= 25)  60 merchant city (<= 15), both ASCII-folded
    62 additional data, always present: 05 txid (<= 25 alphanumerics, "***" when none; dynamic
       codes always carry "***": their txid lives in the PSP's payload)
    63 CRC16-CCITT-FALSE over everything before it including "6304", 4 upper-case hex digits

The parser is stricter than a bank app on structure (lengths, id order, CRC, mandatory fields)
and reads every published layout: the PIX template at any id 26-51, other arrangements' templates
(e.g. `27` BR.COM.OUTRO), unreserved templates 80-99, postal code 61.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tgadmin.errors import BadRequest

GUI = "br.gov.bcb.pix"
MAX_NAME = 25
MAX_CITY = 15
MAX_STATIC_TXID = 25
MAX_KEY = 77
MAX_AMOUNT_CHARS = 13
MAX_VALUE = 99
NO_TXID = "***"

AMOUNT_RE = re.compile(r"\d+\.\d{2}")
TXID_RE = re.compile(r"[A-Za-z0-9]+")
EVP_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EMAIL_RE = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)+")
PHONE_RE = re.compile(r"\+55[1-9][1-9]\d{8,9}")
URL_RE = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?/[\x21-\x7e]*")


class KeyType(StrEnum):
    CPF = "cpf"
    CNPJ = "cnpj"
    PHONE = "phone"
    EMAIL = "email"
    EVP = "evp"  # random key (UUID)


# --- CRC and TLV -------------------------------------------------------------------------------


def crc16(data: str) -> str:
    """CRC16-CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection) as 4 upper-case hex digits."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def tlv(field_id: str, value: str) -> str:
    if len(value) > MAX_VALUE:
        raise BadRequest(f"field {field_id} is {len(value)} characters; a BR Code field holds at most 99")
    return f"{field_id}{len(value):02d}{value}"


def split_tlv(data: str, where: str = "code") -> list[tuple[str, str]]:
    """Split a TLV string into (id, value) pairs; refuse a truncated or non-numeric header."""
    fields: list[tuple[str, str]] = []
    pos = 0
    while pos < len(data):
        header = data[pos : pos + 4]
        if len(header) < 4 or not header.isdigit() or not header.isascii():
            raise BadRequest(f"malformed {where}: bad TLV header {header!r} at position {pos}")
        length = int(header[2:])
        value = data[pos + 4 : pos + 4 + length]
        if len(value) < length:
            raise BadRequest(
                f"truncated {where}: field {header[:2]} declares {length} characters, {len(value)} remain"
            )
        fields.append((header[:2], value))
        pos += 4 + length
    return fields


# --- text folding and value validation ---------------------------------------------------------


def ascii_fold(text: str) -> str:
    """Drop accents (NFKD) and everything non-ASCII or non-printable; squeeze spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if ch.isascii() and ch.isprintable())
    return " ".join(kept.split())


def _folded(label: str, text: str, limit: int) -> str:
    folded = ascii_fold(text)
    if not folded:
        raise BadRequest(f"{label} is empty after ASCII folding (only emoji or symbols?): {text!r}")
    if len(folded) > limit:
        raise BadRequest(
            f"{label} {folded!r} is {len(folded)} characters; the BR Code allows at most {limit}"
        )
    return folded


def merchant_name(text: str) -> str:
    return _folded("merchant name", text, MAX_NAME)


def merchant_city(text: str) -> str:
    return _folded("merchant city", text, MAX_CITY)


def parse_amount(text: str) -> int:
    """`10.00` -> 1000 cents; the BR Code's amount is digits, a dot and exactly two decimals, > 0."""
    text = text.strip()
    if text.startswith("-"):
        raise BadRequest(f"amount {text!r} is negative; a PIX amount is positive")
    if not AMOUNT_RE.fullmatch(text):
        raise BadRequest(f"amount {text!r} must be digits, a dot and exactly two decimals, e.g. 10.00")
    cents = int(text.replace(".", ""))
    return _checked_cents(cents)


def _checked_cents(cents: int) -> int:
    if cents <= 0:
        raise BadRequest(f"amount {format_amount_unchecked(cents)} must be greater than zero")
    if len(format_amount_unchecked(cents)) > MAX_AMOUNT_CHARS:
        raise BadRequest(f"amount {format_amount_unchecked(cents)} is longer than 13 characters")
    return cents


def format_amount_unchecked(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def format_amount(cents: int) -> str:
    """1000 cents -> `10.00`; refuses zero, negatives and amounts too long for field 54."""
    return format_amount_unchecked(_checked_cents(cents))


def validate_static_txid(txid: str) -> str:
    if txid == NO_TXID:
        return txid
    if not TXID_RE.fullmatch(txid) or len(txid) > MAX_STATIC_TXID:
        raise BadRequest(f"txid {txid!r} must be 1-25 letters and digits (A-Z, a-z, 0-9) in a static code")
    return txid


def validate_location(url: str) -> str:
    if "://" in url:
        raise BadRequest(f"location URL {url!r} must not include a scheme: write it as host/path")
    if len(url) > MAX_VALUE - 4 - len(GUI) - 4 or not URL_RE.fullmatch(url):
        raise BadRequest(f"location URL {url!r} must look like pix.example.com/qr/v2/ID (≤ 77 characters)")
    return url


# --- PIX keys ----------------------------------------------------------------------------------


def _check_digits(digits: str, weights: list[int]) -> int:
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=False))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def valid_cpf(digits: str) -> bool:
    if len(digits) != 11 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    first = _check_digits(digits[:9], list(range(10, 1, -1)))
    second = _check_digits(digits[:10], list(range(11, 1, -1)))
    return digits[9:] == f"{first}{second}"


def valid_cnpj(digits: str) -> bool:
    if len(digits) != 14 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _check_digits(digits[:12], weights)
    second = _check_digits(digits[:13], [6, *weights])
    return digits[12:] == f"{first}{second}"


def _normalize_phone(key: str) -> str:
    digits = re.sub(r"[\s().-]", "", key)
    if not digits.startswith("+"):
        digits = "+55" + digits.lstrip("0")
    if not PHONE_RE.fullmatch(digits) or (len(digits) == 14 and digits[5] != "9"):
        raise BadRequest(
            f"phone key {key!r} must be +55, a two-digit area code (DDD) and an 8- or 9-digit number"
        )
    return digits


def _normalize_document(key: str) -> tuple[KeyType, str]:
    digits = re.sub(r"[\s./-]", "", key)
    if len(digits) == 11 and digits.isdigit():
        if not valid_cpf(digits):
            raise BadRequest(
                f"key {key!r} is not a valid CPF (check digits); write a phone key as +55 DDD NUMBER"
            )
        return KeyType.CPF, digits
    if len(digits) == 14 and digits.isdigit():
        if not valid_cnpj(digits):
            raise BadRequest(f"key {key!r} is not a valid CNPJ (check digits)")
        return KeyType.CNPJ, digits
    raise BadRequest(
        f"key {key!r} is not a PIX key: expected a CPF (11 digits), CNPJ (14 digits), "
        "phone (+55...), e-mail or random key (UUID)"
    )


def normalize_key(key: str) -> tuple[KeyType, str]:
    """Recognise and normalise a PIX key as DICT stores it; raise BadRequest for any other shape.

    CPF/CNPJ: digits only (punctuation dropped, check digits verified). Phone: +55 DDD NUMBER (a
    key starting with `+` or written with parentheses is a phone). E-mail: lower-cased, ≤ 77.
    Random key (EVP): a UUID, lower-cased, hyphens kept.
    """
    key = key.strip()
    if not key:
        raise BadRequest("PIX key is empty")
    if "@" in key:
        email = key.lower()
        if len(email) > MAX_KEY or not EMAIL_RE.fullmatch(email):
            raise BadRequest(f"e-mail key {key!r} is not a valid address of at most 77 characters")
        return KeyType.EMAIL, email
    if EVP_RE.fullmatch(key.lower()):
        return KeyType.EVP, key.lower()
    if key.startswith("+") or "(" in key:
        return KeyType.PHONE, _normalize_phone(key)
    return _normalize_document(key)


# --- building ----------------------------------------------------------------------------------


def build_brcode(
    *,
    name: str,
    city: str,
    key: str | None = None,
    url: str | None = None,
    amount_cents: int | None = None,
    txid: str | None = None,
    description: str | None = None,
) -> str:
    """Build a static code (`key`) or a dynamic one (`url`, the PSP's location without scheme)."""
    if (key is None) == (url is None):
        raise BadRequest("give either a PIX key (static code) or a location URL (dynamic code), not both")
    if url is not None and (txid not in (None, NO_TXID) or description):
        raise BadRequest("a dynamic code carries its txid and description in the PSP's payload, not here")
    account = tlv("00", GUI)
    if key is not None:
        account += tlv("01", normalize_key(key)[1])
        if description:
            account += tlv("02", ascii_fold(description) or _bad_description(description))
    else:
        account += tlv("25", validate_location(url or ""))
    if len(account) > MAX_VALUE:
        raise BadRequest(
            f"key and description take {len(account)} characters in field 26; at most 99 fit: "
            "shorten the description"
        )
    parts = [tlv("00", "01")]
    if url is not None:
        parts.append(tlv("01", "12"))
    parts += [tlv("26", account), tlv("52", "0000"), tlv("53", "986")]
    if amount_cents is not None:
        parts.append(tlv("54", format_amount(amount_cents)))
    parts += [tlv("58", "BR"), tlv("59", merchant_name(name)), tlv("60", merchant_city(city))]
    parts.append(tlv("62", tlv("05", validate_static_txid(txid or NO_TXID))))
    body = "".join(parts) + "6304"
    return body + crc16(body)


def _bad_description(description: str) -> str:
    raise BadRequest(f"description {description!r} is empty after ASCII folding")


# --- parsing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BRCode:
    """The fields of a parsed PIX BR Code."""

    payload_format: str
    point_of_initiation: str | None  # "11" reusable, "12" one-time, None absent (= reusable)
    key: str | None
    description: str | None
    url: str | None
    merchant_category_code: str
    currency: str
    amount: str | None
    country: str
    merchant_name: str
    merchant_city: str
    postal_code: str | None
    txid: str | None  # None when the code carries "***"
    crc: str
    pix_template_id: str = "26"
    other_fields: dict[str, str] = field(default_factory=dict)

    @property
    def is_dynamic(self) -> bool:
        return self.url is not None

    @property
    def amount_cents(self) -> int | None:
        return None if self.amount is None else int(Decimal(self.amount) * 100)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["dynamic"] = self.is_dynamic
        data["amount_cents"] = self.amount_cents
        return data


def parse_brcode(code: str) -> BRCode:
    """Parse and validate a BR Code; every problem is a BadRequest with a one-line reason."""
    code = code.strip()
    if not code:
        raise BadRequest("empty BR Code")
    if not code.isascii() or not code.isprintable():
        raise BadRequest("BR Code contains non-ASCII or control characters")
    if not code.startswith("000201"):
        raise BadRequest("not a BR Code: it must start with 000201 (payload format indicator 01)")
    fields = split_tlv(code)
    _check_order(fields)
    _check_crc(code, fields)
    values = dict(fields)
    for required in ("52", "53", "58", "59", "60"):
        if required not in values:
            raise BadRequest(f"BR Code lacks mandatory field {required}")
    return _build_record(values)


def _check_order(fields: list[tuple[str, str]]) -> None:
    # 63 (CRC) is always last; every other id ascends, each once (the manual's order).
    ids = [field_id for field_id, _ in fields[:-1]]
    if "63" in ids:
        raise BadRequest("CRC field 63 appears before the end of the code")
    for before, after in itertools.pairwise(ids):
        if after <= before:
            raise BadRequest(f"fields out of order: {after} after {before} (ids must ascend, each once)")


def _check_crc(code: str, fields: list[tuple[str, str]]) -> None:
    last_id, last_value = fields[-1]
    if last_id != "63" or len(last_value) != 4:
        raise BadRequest("BR Code must end with the CRC field 63 of 4 hex digits")
    expected = crc16(code[:-4])
    if last_value.upper() != expected:
        raise BadRequest(f"wrong CRC: the code says {last_value}, its content gives {expected}")


def _pix_template(values: dict[str, str]) -> tuple[str, dict[str, str]]:
    for field_id in sorted(values):
        if "26" <= field_id <= "51":
            sub = dict(split_tlv(values[field_id], f"merchant account field {field_id}"))
            if sub.get("00", "").lower() == GUI:
                return field_id, sub
    raise BadRequest("BR Code has no PIX merchant account (GUI br.gov.bcb.pix in fields 26-51)")


def _build_record(values: dict[str, str]) -> BRCode:
    if values["00"] != "01":
        raise BadRequest(f"payload format indicator must be 01, not {values['00']!r}")
    initiation = values.get("01")
    if initiation not in (None, "11", "12"):
        raise BadRequest(f"point of initiation method must be 11 or 12, not {initiation!r}")
    template_id, account = _pix_template(values)
    key, url = account.get("01"), account.get("25")
    if (key is None) == (url is None):
        raise BadRequest("PIX merchant account must hold either a key (01) or a location URL (25)")
    if url is not None:
        validate_location(url)
    _check_fixed(values)
    amount = values.get("54")
    if amount is not None and (not AMOUNT_RE.fullmatch(amount) or len(amount) > MAX_AMOUNT_CHARS):
        raise BadRequest(f"amount {amount!r} must be digits, a dot and two decimals (≤ 13 characters)")
    if amount is not None and Decimal(amount) <= 0:
        raise BadRequest(f"amount {amount!r} must be greater than zero")
    name, city = values["59"], values["60"]
    if not 0 < len(name) <= MAX_NAME or not 0 < len(city) <= MAX_CITY:
        raise BadRequest("merchant name must be 1-25 and merchant city 1-15 characters")
    txid = _txid(values)
    known = {"00", "01", template_id, "52", "53", "54", "58", "59", "60", "61", "62", "63"}
    return BRCode(
        payload_format=values["00"],
        point_of_initiation=initiation,
        key=key,
        description=account.get("02"),
        url=url,
        merchant_category_code=values["52"],
        currency=values["53"],
        amount=amount,
        country=values["58"],
        merchant_name=name,
        merchant_city=city,
        postal_code=values.get("61"),
        txid=txid,
        crc=values["63"].upper(),
        pix_template_id=template_id,
        other_fields={k: v for k, v in values.items() if k not in known},
    )


def _check_fixed(values: dict[str, str]) -> None:
    if not re.fullmatch(r"\d{4}", values["52"]):
        raise BadRequest(f"merchant category code must be 4 digits, not {values['52']!r}")
    if values["53"] != "986":
        raise BadRequest(f"currency must be 986 (BRL), not {values['53']!r}")
    if values["58"] != "BR":
        raise BadRequest(f"country code must be BR, not {values['58']!r}")


def _txid(values: dict[str, str]) -> str | None:
    if "62" not in values:
        raise BadRequest("BR Code lacks field 62 (additional data with the txid, *** when none)")
    additional = dict(split_tlv(values["62"], "additional data field 62"))
    txid = additional.get("05")
    if txid is None:
        raise BadRequest("field 62 lacks sub-field 05 (txid, *** when none)")
    if not txid:
        raise BadRequest("field 62 has an empty txid (05); write *** when there is none")
    return None if txid == NO_TXID else txid
