"""The dashboard in the operator's language: Portuguese (pt-BR) by default, English on request.

Templates write English and wrap it: `{{ _("Creators") }}`, `{{ _("%(n)s groups", n=total) }}`,
`{{ pgettext("product", "active") }}` where the Portuguese depends on what is spoken of (msgctxt).
The Portuguese texts are gettext catalogs, one `.po` file per area under
`tgadmin/templates/locale/pt/` (read with Babel at start-up; a msgid without a translation shows
the English). The language comes from the `tgadmin_lang` cookie (the header's switch), else the
browser's Accept-Language. Dates and money are formatted by Babel in the same language."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context

from tgadmin.i18n import BRASILIA, Language

LANG_COOKIE = "tgadmin_lang"
CATALOG_DIR = Path(__file__).resolve().parents[1] / "templates" / "locale" / "pt"
LOCALES: dict[Language, str] = {"pt": "pt_BR", "en": "en"}


def page_language(request: Request) -> Language:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in ("pt", "en"):
        return "en" if chosen == "en" else "pt"
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "pt"


def _key(context: str | None, text: str) -> str:
    # gettext's own convention for a text with a context (msgctxt): "context\x04text".
    return f"{context}\x04{text}" if context else text


@cache
def portuguese() -> dict[str, str]:
    """msgid -> Portuguese, from every catalog in CATALOG_DIR."""
    texts: dict[str, str] = {}
    for path in sorted(CATALOG_DIR.glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="pt_BR"):
                # Plural entries (tuples) are not used: ngettext picks the English form first.
                if isinstance(message.id, str) and isinstance(message.string, str) and message.string:
                    texts[_key(message.context, message.id)] = message.string
    return texts


def translate(text: str, lang: Language) -> str:
    return portuguese().get(text, text) if lang == "pt" else text


@pass_context
def gettext(context: Context, text: str) -> str:
    return translate(text, context.get("lang", "pt"))


@pass_context
def pgettext(context: Context, text_context: str, text: str) -> str:
    """A text whose Portuguese depends on what it speaks of ("active" creator: ativa; product: ativo)."""
    if context.get("lang", "pt") != "pt":
        return text
    return portuguese().get(_key(text_context, text), portuguese().get(text, text))


@pass_context
def ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translate(singular if n == 1 else plural, context.get("lang", "pt"))


@pass_context
def money(context: Context, cents: int | None, currency: str) -> str:
    """Integer cents as the operator reads them (R$ 1.234,56 / R$1,234.56); Stars as a count."""
    if cents is None:
        return ""
    code = getattr(currency, "value", currency)
    if code == "XTR":
        return f"{cents} ⭐"
    return format_currency(Decimal(cents) / 100, code, locale=LOCALES[context.get("lang", "pt")])


@pass_context
def when(context: Context, moment: datetime | None, style: str = "short") -> str:
    """A moment in Brasília time (the operators' time), in the page's language."""
    if moment is None:
        return ""
    return format_datetime(moment, style, tzinfo=BRASILIA, locale=LOCALES[context.get("lang", "pt")])


def page_context(request: Request) -> dict[str, Any]:
    """What every dashboard template can use (a Jinja2Templates context processor)."""
    return {"lang": page_language(request)}
