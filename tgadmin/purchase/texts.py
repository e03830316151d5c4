"""What a buyer reads when their purchase is delivered: every text of the domain, in one place.

Texts are plain (no parse mode): a product title can hold any character.
"""

from __future__ import annotations

from datetime import datetime

from tgadmin.i18n import Language, format_date, language

READY: dict[Language, str] = {
    "pt": "✅ Pagamento confirmado! Aqui está “{product}”.",
    "en": "✅ Payment confirmed! Here is “{product}”.",
}
FILES: dict[Language, str] = {
    "pt": "\n{count} arquivo(s) a seguir. O conteúdo é protegido: não pode ser encaminhado nem salvo.",
    "en": "\n{count} file(s) follow. The content is protected: it cannot be forwarded or saved.",
}
UNTIL: dict[Language, str] = {
    "pt": "\nSeu acesso vale até {date}.",
    "en": "\nYour access lasts until {date}.",
}
ACCESS: dict[Language, str] = {
    "pt": "🔑 Seu convite para o grupo de “{product}”: vale para uma única entrada.",
    "en": "🔑 Your invitation to the group of “{product}”: it admits one person, once.",
}
RENEWED: dict[Language, str] = {
    "pt": "✅ Pagamento confirmado! Sua assinatura “{product}” foi renovada.\n"
    "Seu acesso agora vale até {date}.",
    "en": "✅ Payment confirmed! Your subscription “{product}” is renewed.\n"
    "Your access now lasts until {date}.",
}
JOIN: dict[Language, str] = {"pt": "Entrar no grupo", "en": "Join the group"}


def ready(product_title: str, files: int, access_until: datetime | None, language_code: str | None) -> str:
    """The first message of a delivery: payment confirmed, what follows, how long access lasts."""
    lang = language(language_code)
    text = READY[lang].format(product=product_title)
    if files:
        text += FILES[lang].format(count=files)
    if access_until is not None:
        text += UNTIL[lang].format(date=format_date(access_until, lang))
    return text


def access(product_title: str, language_code: str | None) -> tuple[str, str]:
    """The invitation message and its button's label."""
    lang = language(language_code)
    return ACCESS[lang].format(product=product_title), JOIN[lang]


def renewed(product_title: str, access_until: datetime, lang: Language) -> str:
    """A renewal paid while access still ran: nothing is sent again, the access runs longer."""
    return RENEWED[lang].format(product=product_title, date=format_date(access_until, lang))
