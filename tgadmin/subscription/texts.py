"""What a subscriber reads about their subscription's end: every text of the domain, in one place.

Portuguese (pt-BR) is the default; each text is in the buyer's language as `i18n.buyer_language`
decides it (the one they chose, else Telegram's). Texts are plain (no parse mode): a product title
can hold any character.
"""

from __future__ import annotations

from datetime import datetime

from tgadmin.i18n import Language, format_date

# Keyed by how many days ahead the warning is due (7 or 1).
WARNINGS: dict[tuple[int, Language], str] = {
    (7, "pt"): (
        "⏳ Sua assinatura “{product}” termina em {date}.\n"
        "Faltam 7 dias: renove pelo bot para continuar com acesso."
    ),
    (1, "pt"): (
        "⚠️ Último aviso: sua assinatura “{product}” termina em {date}, em menos de 24 horas.\n"
        "Depois disso o conteúdo enviado e o acesso ao grupo são removidos. Renove pelo bot para continuar."
    ),
    (7, "en"): (
        "⏳ Your subscription “{product}” ends on {date}.\n7 days left: renew in the bot to keep your access."
    ),
    (1, "en"): (
        "⚠️ Last reminder: your subscription “{product}” ends on {date}, in less than 24 hours.\n"
        "After that the content we sent and the access to the group are removed. Renew in the bot to keep it."
    ),
}


def warning(days: int, product_title: str, expires_at: datetime, lang: Language) -> str:
    """The warning sent `days` (7 or 1) ahead of `expires_at`."""
    return WARNINGS[(days, lang)].format(product=product_title, date=format_date(expires_at, lang))


# What a buyer reads when a refund ends their access (a subscription or a content pack).
REFUNDED: dict[Language, str] = {
    "pt": (
        "↩️ O pagamento de “{product}” foi reembolsado, por isso o seu acesso terminou: apagamos o "
        "conteúdo enviado (o que o Telegram ainda permite apagar){chat}."
    ),
    "en": (
        "↩️ Your payment for “{product}” was refunded, so your access has ended: we deleted the content "
        "we sent (what Telegram still allows us to delete){chat}."
    ),
}
LEFT_CHAT: dict[Language, str] = {
    "pt": " e você saiu do grupo de acesso",
    "en": " and you were removed from the access group",
}


def refunded(product_title: str, removed_from_chat: bool, lang: Language) -> str:
    """The notice that a refund ended the buyer's access."""
    chat = LEFT_CHAT[lang] if removed_from_chat else ""
    return REFUNDED[lang].format(product=product_title, chat=chat)


# What a buyer reads when their subscription's time ran out (the Renew button follows while the
# product is still sold).
EXPIRED: dict[Language, str] = {
    "pt": (
        "⌛ Sua assinatura “{product}” terminou: apagamos o conteúdo enviado (o que o Telegram ainda "
        "permite apagar){chat}."
    ),
    "en": (
        "⌛ Your subscription “{product}” has ended: we deleted the content we sent (what Telegram still "
        "allows us to delete){chat}."
    ),
}
COME_BACK: dict[Language, str] = {
    "pt": "\nRenove quando quiser para voltar a ter acesso.",
    "en": "\nRenew whenever you like to get your access back.",
}


def expired(product_title: str, removed_from_chat: bool, can_renew: bool, lang: Language) -> str:
    """The notice that a subscription's time ran out."""
    chat = LEFT_CHAT[lang] if removed_from_chat else ""
    text = EXPIRED[lang].format(product=product_title, chat=chat)
    return text + COME_BACK[lang] if can_renew else text


RENEW: dict[Language, str] = {"pt": "🔄 Renovar por {price}", "en": "🔄 Renew for {price}"}


def renew_label(price_cents: int, currency: str, lang: Language) -> str:
    """The Renew button, with the price checkout will charge."""
    return RENEW[lang].format(price=price(price_cents, currency, lang))


def price(cents: int, currency: str, lang: Language) -> str:
    if currency == "XTR":
        return f"⭐ {cents}"
    symbol = {"BRL": "R$", "USD": "US$"}.get(currency, currency)
    units, rest = divmod(cents, 100)
    if lang == "pt":
        return f"{symbol} {units:,}".replace(",", ".") + f",{rest:02d}"
    return f"{symbol}{units:,}.{rest:02d}"
