"""Message text with `parse_mode`: the text Telegram stores and its entities (UTF-16 offsets)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from tgadmin.sandbox.errors import TelegramError, bad_request

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.entities: list[dict[str, Any]] = []
        self.open: list[tuple[str, int, dict[str, Any]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        if kind is None:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        extra: dict[str, Any] = {}
        if tag == "a":
            extra["url"] = dict(attrs).get("href") or ""
        self.open.append((tag, utf16_len(self.text), {"type": kind, **extra}))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise bad_request(f'can\'t parse entities: Unmatched end tag "{tag}"')
        _, start, entity = self.open.pop()
        length = utf16_len(self.text) - start
        if length:
            self.entities.append({**entity, "offset": start, "length": length})

    def handle_data(self, data: str) -> None:
        self.text += data


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _Html()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{parser.open[-1][0]}\""
        )
    return parser.text, sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))


_MARKDOWN_MARKS = re.compile(r"\\(.)|[*_~|`]+|\[([^\]]*)\]\([^)]*\)")


def _parse_markdown(text: str) -> str:
    """Formatting marks dropped, escapes resolved; entities are not reproduced for Markdown."""
    return _MARKDOWN_MARKS.sub(lambda m: m.group(1) or m.group(2) or "", text)


def parse(text: str, parse_mode: str, entities: Any) -> tuple[str, list[dict[str, Any]]]:
    mode = parse_mode.strip().lower()
    if mode == "html":
        try:
            return _parse_html(text)
        except TelegramError:
            raise
        except Exception:  # any other parser failure is Telegram's "can't parse entities"
            raise bad_request("can't parse entities") from None
    if mode in ("markdown", "markdownv2"):
        return _parse_markdown(text), []
    if mode:
        raise bad_request("unsupported parse_mode")
    return text, entities if isinstance(entities, list) else []
