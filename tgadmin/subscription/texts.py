"""What a subscriber reads about their subscription's end: every text of the domain, in one place.

Portuguese (pt-BR) is the default; buyers whose Telegram language is English (`en`, `en-US`, ...)
get English. Texts are plain (no parse mode): a product title can hold any character.
"""

from __future__ import annotations

from datetime import datetime

from tgadmin.i18n import Language, format_date, language

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


def warning(days: int, product_title: str, expires_at: datetime, language_code: str | None) -> str:
    """The warning sent `days` (7 or 1) ahead of `expires_at`, in the buyer's language."""
    lang = language(language_code)
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


def refunded(product_title: str, removed_from_chat: bool, language_code: str | None) -> str:
    """The notice that a refund ended the buyer's access, in their language."""
    lang = language(language_code)
    chat = LEFT_CHAT[lang] if removed_from_chat else ""
    return REFUNDED[lang].format(product=product_title, chat=chat)
