"""What a buyer reads when their purchase is delivered: every text of the domain, in one place.

Texts are plain (no parse mode): a product title can hold any character.
"""

from __future__ import annotations

from datetime import datetime

from tgadmin.creator.texts import price
from tgadmin.i18n import Language, format_date
from tgadmin.models.enums import Currency, PurchaseStatus

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


def ready(product_title: str, files: int, access_until: datetime | None, lang: Language) -> str:
    """The first message of a delivery: payment confirmed, what follows, how long access lasts."""
    text = READY[lang].format(product=product_title)
    if files:
        text += FILES[lang].format(count=files)
    if access_until is not None:
        text += UNTIL[lang].format(date=format_date(access_until, lang))
    return text


def access(product_title: str, lang: Language) -> tuple[str, str]:
    """The invitation message and its button's label."""
    return ACCESS[lang].format(product=product_title), JOIN[lang]


def renewed(product_title: str, access_until: datetime, lang: Language) -> str:
    """A renewal paid while access still ran: nothing is sent again, the access runs longer."""
    return RENEWED[lang].format(product=product_title, date=format_date(access_until, lang))


# --- /mypurchases --------------------------------------------------------------------------------

STATUS: dict[Language, dict[PurchaseStatus, str]] = {
    "pt": {
        PurchaseStatus.PENDING: "⏳ Aguardando pagamento",
        PurchaseStatus.PAID: "💳 Pago, em entrega",
        PurchaseStatus.COMPLETED: "✅ Entregue",
        PurchaseStatus.REFUNDED: "↩️ Reembolsado",
        PurchaseStatus.EXPIRED: "⌛ Expirado",
        PurchaseStatus.FAILED: "❌ Falhou",
    },
    "en": {
        PurchaseStatus.PENDING: "⏳ Awaiting payment",
        PurchaseStatus.PAID: "💳 Paid, being delivered",
        PurchaseStatus.COMPLETED: "✅ Delivered",
        PurchaseStatus.REFUNDED: "↩️ Refunded",
        PurchaseStatus.EXPIRED: "⌛ Expired",
        PurchaseStatus.FAILED: "❌ Failed",
    },
}
MINE: dict[Language, str] = {"pt": "🛍 Suas compras", "en": "🛍 Your purchases"}
MINE_PAGE: dict[Language, str] = {"pt": " (página {page} de {pages})", "en": " (page {page} of {pages})"}
NO_PURCHASES: dict[Language, str] = {
    "pt": "Você ainda não tem compras. Envie /start para ver as modelos.",
    "en": "You have no purchases yet. Send /start to see the creators.",
}
BOUGHT: dict[Language, str] = {"pt": "compra de {date}", "en": "bought {date}"}
ACCESS_UNTIL: dict[Language, str] = {"pt": "🔑 Acesso até {date}", "en": "🔑 Access until {date}"}
ACCESS_ENDED: dict[Language, str] = {"pt": "🔑 Acesso terminou em {date}", "en": "🔑 Access ended {date}"}
NOT_RESENT: dict[Language, str] = {
    "pt": "Assinatura: o conteúdo fica no grupo de acesso e não é reenviado.",
    "en": "Subscription: its content is in the access group and is not sent again.",
}
RESEND_HINT: dict[Language, str] = {
    "pt": "\n\n🔁 Um pacote entregue pode ser reenviado (uma vez por hora).",
    "en": "\n\n🔁 A delivered pack can be sent again (once an hour).",
}
RESEND_BUTTON: dict[Language, str] = {"pt": "🔁 Reenviar “{title}”", "en": "🔁 Send “{title}” again"}
PREVIOUS: dict[Language, str] = {"pt": "◀️ Anteriores", "en": "◀️ Newer"}
NEXT: dict[Language, str] = {"pt": "Mais antigas ▶️", "en": "Older ▶️"}
AGAIN: dict[Language, str] = {
    "pt": "🔁 Aqui está “{product}” novamente.",
    "en": "🔁 Here is “{product}” again.",
}
RESENDING: dict[Language, str] = {
    "pt": "🔁 Enviando “{title}” novamente…",
    "en": "🔁 Sending “{title}” again…",
}
TOO_SOON: dict[Language, str] = {
    "pt": "Este pacote foi reenviado há pouco. Você poderá pedir de novo a partir de {date}.",
    "en": "This pack was sent again a moment ago. You can ask again from {date}.",
}
# Why a "send again" press sends nothing (purchase.history.Refusal values).
REFUSED: dict[Language, dict[str, str]] = {
    "pt": {
        "unknown": "Não encontramos essa compra entre as suas. Envie /mypurchases para ver a lista.",
        "not_delivered": "Esta compra ainda não foi entregue: não há o que reenviar.",
        "refunded": "Esta compra foi reembolsada: ela não pode ser reenviada.",
        "expired": "Esta compra expirou: ela não pode ser reenviada.",
        "subscription": "Assinaturas não são reenviadas: o conteúdo fica no grupo de acesso.",
        "unavailable": "Não foi possível reenviar agora. Tente de novo em alguns minutos.",
        "bad_button": "Este botão não é válido. Envie /mypurchases para ver suas compras.",
    },
    "en": {
        "unknown": "We could not find that purchase among yours. Send /mypurchases to see the list.",
        "not_delivered": "This purchase has not been delivered yet: there is nothing to send again.",
        "refunded": "This purchase was refunded: it cannot be sent again.",
        "expired": "This purchase has expired: it cannot be sent again.",
        "subscription": "Subscriptions are not sent again: their content is in the access group.",
        "unavailable": "It cannot be sent again right now. Please try again in a few minutes.",
        "bad_button": "This button is not valid. Send /mypurchases to see your purchases.",
    },
}


def money(cents: int, currency: Currency, lang: Language) -> str:
    """R$ 29,90 / R$29.90; Stars as a whole number."""
    if currency == Currency.XTR:
        return f"{cents} ⭐"
    return price(lang, cents, currency)


def purchase_line(
    index: int,
    title: str,
    status: PurchaseStatus,
    amount: str,
    created_at: datetime,
    access_expires_at: datetime | None,
    subscription: bool,
    lang: Language,
) -> str:
    """One purchase of the list: title and price, status and date, and for a subscription its access."""
    date = format_date(created_at, lang)
    lines = [f"{index}. {title} — {amount}", f"   {STATUS[lang][status]} · {BOUGHT[lang].format(date=date)}"]
    if subscription:
        if access_expires_at is not None and status in (PurchaseStatus.PAID, PurchaseStatus.COMPLETED):
            lines.append("   " + ACCESS_UNTIL[lang].format(date=format_date(access_expires_at, lang)))
        elif access_expires_at is not None and status is PurchaseStatus.EXPIRED:
            lines.append("   " + ACCESS_ENDED[lang].format(date=format_date(access_expires_at, lang)))
        lines.append("   " + NOT_RESENT[lang])
    return "\n".join(lines)


def purchases(lines: list[str], page: int, pages: int, resendable: bool, lang: Language) -> str:
    heading = MINE[lang] + (MINE_PAGE[lang].format(page=page + 1, pages=pages) if pages > 1 else "")
    return heading + "\n\n" + "\n\n".join(lines) + (RESEND_HINT[lang] if resendable else "")


def again(product_title: str, files: int, lang: Language) -> str:
    """The first message of a pack sent again from /mypurchases."""
    text = AGAIN[lang].format(product=product_title)
    return text + (FILES[lang].format(count=files) if files else "")


def resend_button(title: str, lang: Language) -> str:
    return RESEND_BUTTON[lang].format(title=title if len(title) <= 40 else title[:39] + "…")


def too_soon(when: datetime, lang: Language) -> str:
    return TOO_SOON[lang].format(date=format_date(when, lang))
