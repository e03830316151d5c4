"""The dashboard in the operator's language: Portuguese (pt-BR) by default, English on request.

Templates write English and wrap it: `{{ _("Creators") }}`, `{{ _("%(n)s groups", n=total) }}`,
`{{ pgettext("product", "active") }}` where the Portuguese depends on what is spoken of (msgctxt).
The Portuguese texts are gettext catalogs, one `.po` file per area under
`tgadmin/templates/locale/pt/` (read with Babel at start-up; a msgid without a translation shows
the English). The language comes from the `tgadmin_lang` cookie (the header's switch), else the
browser's Accept-Language. Dates and money are formatted by Babel in the same language, dates in
the operator's time zone (their account page; Brasília's until they choose)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from tgadmin.clock import DEFAULT_TIME_ZONE, zone
from tgadmin.i18n import Language

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


# What a text without variables finally reads in a page, by (autoescape, language, msgctxt, text):
# most of a page's texts are these, and a page asks for hundreds of them. Bounded, since a template
# may pass a text that is not ours (an alert's); past the bound such texts are just not kept.
_READY: dict[tuple[bool, Language, str | None, str], str] = {}
_READY_MAX = 20_000


def _finish(context: Context, text: str, variables: dict[str, Any]) -> str:
    """Jinja's "newstyle" gettext: Markup where the template autoescapes, always %-formatted (the
    variables escaped), so "%%" reads "%" whether or not there are variables."""
    if context.eval_ctx.autoescape:
        return Markup(text) % variables  # noqa: S704 - our catalog's text, as Jinja's own gettext does
    return text % variables


def _context_text(lang: Language, text_context: str, text: str) -> str:
    if lang != "pt":
        return text
    texts = portuguese()
    return texts.get(_key(text_context, text), texts.get(text, text))


@pass_context
def gettext(context: Context, text: str, **variables: Any) -> str:
    """`_("...")` in a template, in the page's language (installed as Jinja's newstyle gettext)."""
    lang: Language = context.get("lang", "pt")
    if variables:
        return _finish(context, translate(text, lang), variables)
    key = (context.eval_ctx.autoescape, lang, None, text)
    ready = _READY.get(key)
    if ready is None:
        ready = _finish(context, translate(text, lang), {})
        if len(_READY) < _READY_MAX:
            _READY[key] = ready
    return ready


@pass_context
def pgettext(context: Context, text_context: str, text: str, **variables: Any) -> str:
    """A text whose Portuguese depends on what it speaks of ("active" creator: ativa; product: ativo)."""
    lang: Language = context.get("lang", "pt")
    variables.setdefault("context", text_context)
    if len(variables) > 1:
        return _finish(context, _context_text(lang, text_context, text), variables)
    key = (context.eval_ctx.autoescape, lang, text_context, text)
    ready = _READY.get(key)
    if ready is None:
        ready = _finish(context, _context_text(lang, text_context, text), variables)
        if len(_READY) < _READY_MAX:
            _READY[key] = ready
    return ready


@pass_context
def ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any) -> str:
    variables.setdefault("num", n)
    return _finish(context, translate(singular if n == 1 else plural, context.get("lang", "pt")), variables)


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
    """A moment in the operator's time zone, in the page's language."""
    if moment is None:
        return ""
    return _moment(moment, style, LOCALES[context.get("lang", "pt")], context.get("tz", DEFAULT_TIME_ZONE))


@lru_cache(maxsize=8192)
def _moment(moment: datetime, style: str, locale: str, time_zone: str) -> str:
    # Babel formats a moment in ~50 µs; a page shows the same moments again and again (the queue
    # monitor's failed jobs, every few seconds).
    return format_datetime(moment, style, tzinfo=zone(time_zone), locale=locale)


def page_time_zone(request: Request) -> str:
    """The logged-in operator's zone (set by the session check), else the default."""
    return getattr(request.state, "time_zone", DEFAULT_TIME_ZONE)


def page_context(request: Request) -> dict[str, Any]:
    """What every dashboard template can use (a Jinja2Templates context processor)."""
    return {"lang": page_language(request), "tz": page_time_zone(request)}
