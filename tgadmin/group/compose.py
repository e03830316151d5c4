"""A message an operator writes to a group: Telegram's HTML formatting checked before anything is
queued (Telegram refuses the whole message for one bad tag), URL buttons checked, and the preview
the page shows, rebuilt from the parsed text so that nothing the operator typed reaches the page
unescaped."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tgadmin.errors import InvalidInput

# Telegram's HTML parse mode: these tags only (https://core.telegram.org/bots/api#html-style).
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"tg-emoji", "code", "pre", "blockquote"}
)
# The attributes each tag may carry; anything else Telegram refuses or ignores.
ALLOWED_ATTRS = {
    "a": {"href"},
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "blockquote": {"expandable"},
}
# Telegram knows only these named entities; numeric ones are all fine.
NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MAX_BUTTONS = 8
BUTTON_TEXT_LIMIT = 64
URL_LIMIT = 2048


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]


@dataclass
class Parsed:
    """What Telegram will show: the visible text and the preview's (safe) HTML."""

    text: str = ""
    html: list[str] = field(default_factory=list)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parsed = Parsed()
        self.open: list[_Node] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise _refusal(
                f"<{tag}> is not a tag Telegram accepts; allowed: {', '.join(sorted(ALLOWED_TAGS))}"
            )
        values = {name: value or "" for name, value in attrs}
        unknown = set(values) - ALLOWED_ATTRS.get(tag, set())
        if unknown:
            raise _refusal(f"<{tag}> cannot have the attribute {', '.join(sorted(unknown))}")
        if tag == "span" and values.get("class") != "tg-spoiler":
            raise _refusal('<span> is accepted only as <span class="tg-spoiler">')
        if tag == "a":
            _check_link(values.get("href", ""))
        self.open.append(_Node(tag, values))
        self.parsed.html.append(_preview_open(tag, values))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _refusal(f"<{tag}/> is not accepted: Telegram has no empty tags (write a line break instead)")

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            raise _refusal(f"</{tag}> closes a tag that was never opened")
        if self.open[-1].tag != tag:
            raise _refusal(f"</{tag}> found where </{self.open[-1].tag}> was expected")
        self.open.pop()
        self.parsed.html.append(_preview_close(tag))

    def handle_data(self, data: str) -> None:
        self.parsed.text += data
        self.parsed.html.append(escape(data).replace("\n", "<br>"))

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise _refusal(f"&{name}; is not an entity Telegram knows: use &lt; &gt; &amp; &quot; only")
        self._character({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name.lower().startswith("x") else int(name)
            self._character(chr(code))
        except (ValueError, OverflowError):
            raise _refusal(f"&#{name}; is not a character") from None

    def _character(self, char: str) -> None:
        self.parsed.text += char
        self.parsed.html.append(escape(char))

    def handle_comment(self, data: str) -> None:
        raise _refusal("HTML comments are not accepted by Telegram")

    def handle_decl(self, decl: str) -> None:
        raise _refusal(f"<!{decl}> is not accepted by Telegram")

    def unknown_decl(self, data: str) -> None:
        raise _refusal("this declaration is not accepted by Telegram")

    def handle_pi(self, data: str) -> None:
        raise _refusal("processing instructions are not accepted by Telegram")


def _refusal(problem: str) -> InvalidInput:
    return InvalidInput(f"the message's formatting: {problem}", details={"field": "text"})


def _check_link(href: str) -> None:
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https", "tg") or not (parts.netloc or parts.scheme == "tg"):
        raise _refusal(f"the link {href!r} is not an http(s) or tg:// address")


_PREVIEW_TAGS = {"tg-spoiler": "span", "tg-emoji": "span"}


def _preview_open(tag: str, attrs: dict[str, str]) -> str:
    if tag == "a":
        return f'<a href="{escape(attrs["href"])}" rel="noopener noreferrer" target="_blank">'
    if tag in ("tg-spoiler", "span"):
        return '<span class="tg-spoiler">'
    if tag == "blockquote":
        return "<blockquote>"
    return f"<{_PREVIEW_TAGS.get(tag, tag)}>"


def _preview_close(tag: str) -> str:
    return f"</{'span' if tag in ('tg-spoiler', 'tg-emoji') else tag}>"


def parse_html(text: str, *, caption: bool = False) -> Parsed:
    """Check `text` as Telegram's HTML parse mode would; InvalidInput says what is wrong and where.

    The limits count what Telegram counts: the visible text, after the tags are taken out."""
    if len(text) > TEXT_LIMIT:
        raise InvalidInput(
            f"the message, tags included, can have at most {TEXT_LIMIT} characters; this one has {len(text)}",
            details={"field": "text"},
        )
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.rawdata:
        raise _refusal(f"unfinished tag or entity near {checker.rawdata[:30]!r}")
    if checker.open:
        raise _refusal(f"<{checker.open[-1].tag}> is never closed")
    parsed = checker.parsed
    visible = len(parsed.text.encode("utf-16-le")) // 2
    if not parsed.text.strip():
        raise InvalidInput("the message has no visible text", details={"field": "text"})
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if visible > limit:
        what = "a photo's caption" if caption else "a message"
        raise InvalidInput(
            f"{what} can have at most {limit} characters; this one has {visible}", details={"field": "text"}
        )
    return parsed


def check_button(text: str, url: str) -> tuple[str, str]:
    """A URL button as Telegram takes it: 1-64 characters of label, an https:// address."""
    label, address = text.strip(), url.strip()
    if not label or len(label) > BUTTON_TEXT_LIMIT:
        raise InvalidInput(
            f"a button's text must have 1 to {BUTTON_TEXT_LIMIT} characters", details={"field": "buttons"}
        )
    parts = urlsplit(address)
    if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname or len(address) > URL_LIMIT:
        raise InvalidInput(
            f"the button {label!r} needs an https:// address (https://example.com/page), not {address!r}",
            details={"field": "buttons"},
        )
    return label, address


def preview_html(parsed: Parsed) -> str:
    """The message body as the preview shows it (every piece of text escaped)."""
    return "".join(parsed.html)
