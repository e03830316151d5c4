"""Finds PIX copy-paste codes (EMV BR Codes) in message text, so the chat page can offer to pay them.

A code is found by walking its TLV fields from `000201` up to the CRC field `6304XXXX`, so names
and cities with spaces inside the code do not cut it short.
"""

from __future__ import annotations

import re

_START = "000201"
_CRC = re.compile(r"[0-9A-Fa-f]{4}")


def _code_at(text: str, start: int) -> str | None:
    pos = start
    while pos + 4 <= len(text):
        tag, length = text[pos : pos + 2], text[pos + 2 : pos + 4]
        if not (tag.isdigit() and length.isdigit()):
            return None
        end = pos + 4 + int(length)
        if end > len(text):
            return None
        if tag == "63":
            value = text[pos + 4 : end]
            return text[start:end] if length == "04" and _CRC.fullmatch(value) else None
        pos = end
    return None


def find_pix_codes(text: str | None) -> list[str]:
    """Every BR Code in `text` that names the PIX arrangement (`br.gov.bcb.pix`)."""
    if not text:
        return []
    codes = []
    start = text.find(_START)
    while start != -1:
        code = _code_at(text, start)
        if code and "br.gov.bcb.pix" in code.lower():
            codes.append(code)
            start = text.find(_START, start + len(code))
        else:
            start = text.find(_START, start + 1)
    return codes
