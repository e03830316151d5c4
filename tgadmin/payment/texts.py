"""What a buyer reads at checkout: every text of it, in pt-BR and English, chosen through i18n.

Texts are plain (no parse mode) except the copy-paste code, sent alone as `<code>` so that a tap
copies it whole; product titles are therefore never put into HTML.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from html import escape

from tgadmin.i18n import Language, format_date
from tgadmin.models.enums import Currency


def price(amount: int, currency: Currency, lang: Language) -> str:
    """R$ 29,90 / R$29.90; Stars as a whole number."""
    if currency == Currency.XTR:
        return f"{amount} ⭐"
    whole, cents = divmod(amount, 100)
    symbol = "R$" if currency == Currency.BRL else "US$"
    if lang == "pt":
        return f"{symbol} {whole:,}".replace(",", ".") + f",{cents:02d}"
    return f"{symbol}{whole:,}.{cents:02d}"


OFF_SALE: dict[Language, str] = {
    "pt": "Este produto não está mais à venda. Veja o que há de novo em /start.",
    "en": "This product is no longer on sale. See what is new with /start.",
}
PRICE_CHANGED: dict[Language, str] = {
    "pt": "O preço de “{title}” mudou: agora é {price}. Toque abaixo para comprar pelo preço atual.",
    "en": "The price of “{title}” changed: it is now {price}. Tap below to buy at today's price.",
}
BUY_AGAIN: dict[Language, str] = {"pt": "Comprar por {price}", "en": "Buy for {price}"}
BAD_BUTTON: dict[Language, str] = {
    "pt": "Este botão não é mais válido. Abra o catálogo com /start.",
    "en": "This button is no longer valid. Open the catalog with /start.",
}
NOT_PENDING: dict[Language, str] = {
    "pt": "Este pedido já foi pago ou encerrado. Veja seus pedidos em /mypurchases.",
    "en": "This order was already paid or closed. See your orders with /mypurchases.",
}
NO_METHOD: dict[Language, str] = {
    "pt": "No momento não há forma de pagamento para “{title}”. Tente mais tarde ou fale com /paysupport.",
    "en": "There is no way to pay for “{title}” right now. Try later or ask /paysupport.",
}
CHOOSE: dict[Language, str] = {
    "pt": "Como você quer pagar “{title}”?",
    "en": "How would you like to pay for “{title}”?",
}
METHOD: dict[Language, dict[str, str]] = {
    "pt": {"pix": "PIX · {price}", "stars": "Estrelas · {price}"},
    "en": {"pix": "PIX · {price}", "stars": "Stars · {price}"},
}
PIX_CAPTION: dict[Language, str] = {
    "pt": (
        "💳 PIX de {price} para “{title}”\n"
        "Escaneie o QR code ou copie o código da próxima mensagem no app do seu banco.\n"
        "Válido até {date}.\n"
        "Depois de pagar, toque em “Já paguei”."
    ),
    "en": (
        "💳 PIX of {price} for “{title}”\n"
        "Scan the QR code, or copy the code in the next message into your bank app.\n"
        "Valid until {date}.\n"
        "Once you have paid, tap “I have paid”."
    ),
}
I_HAVE_PAID: dict[Language, str] = {"pt": "✅ Já paguei", "en": "✅ I have paid"}
PIX_UNAVAILABLE: dict[Language, str] = {
    "pt": "Não conseguimos gerar o PIX agora. Tente de novo em alguns instantes.",
    "en": "We could not create the PIX charge right now. Please try again in a moment.",
}
STARS_UNAVAILABLE: dict[Language, str] = {
    "pt": "Não conseguimos gerar a fatura em Estrelas agora. Tente de novo em alguns instantes.",
    "en": "We could not create the Stars invoice right now. Please try again in a moment.",
}
CLOSED: dict[Language, str] = {
    "pt": "Este pedido expirou sem pagamento. Toque abaixo para comprar de novo.",
    "en": "This order expired unpaid. Tap below to buy again.",
}


class Check(StrEnum):
    """What the buyer learns on "I have paid"."""

    CONFIRMED = "confirmed"
    NOT_YET = "not_yet"
    ALREADY_PAID = "already_paid"
    EXPIRED = "expired"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    PROBLEM = "problem"


CHECK: dict[Check, dict[Language, str]] = {
    Check.CONFIRMED: {
        "pt": "✅ Pagamento confirmado! Seu conteúdo está a caminho.",
        "en": "✅ Payment confirmed! Your content is on its way.",
    },
    Check.NOT_YET: {
        "pt": "Ainda não recebemos este pagamento. Pode levar alguns instantes: enviaremos seu conteúdo "
        "assim que ele chegar.",
        "en": "We have not received this payment yet. It can take a moment: your content is sent as "
        "soon as it arrives.",
    },
    Check.ALREADY_PAID: {
        "pt": "Este pagamento já foi confirmado. Veja seus pedidos em /mypurchases.",
        "en": "This payment is already confirmed. See your orders with /mypurchases.",
    },
    Check.EXPIRED: {
        "pt": "Este PIX expirou sem pagamento. Toque abaixo para gerar outro.",
        "en": "This PIX charge expired unpaid. Tap below for a new one.",
    },
    Check.NOT_FOUND: {
        "pt": "Não encontramos este pagamento entre os seus.",
        "en": "We could not find this payment among yours.",
    },
    Check.UNAVAILABLE: {
        "pt": "Não conseguimos consultar o banco agora. Seguimos verificando e enviamos seu conteúdo "
        "assim que o pagamento chegar.",
        "en": "We could not reach the bank right now. We keep checking and send your content as soon "
        "as the payment arrives.",
    },
    Check.PROBLEM: {
        "pt": "Houve um problema com este pagamento e ele será devolvido. Fale com /paysupport.",
        "en": "Something is wrong with this payment and it will be refunded. Ask /paysupport.",
    },
}


def off_sale(lang: Language) -> str:
    return OFF_SALE[lang]


def price_changed(title: str, amount: int, currency: Currency, lang: Language) -> str:
    return PRICE_CHANGED[lang].format(title=title, price=price(amount, currency, lang))


def buy_again(amount: int, currency: Currency, lang: Language) -> str:
    return BUY_AGAIN[lang].format(price=price(amount, currency, lang))


def no_method(title: str, lang: Language) -> str:
    return NO_METHOD[lang].format(title=title)


def choose(title: str, lang: Language) -> str:
    return CHOOSE[lang].format(title=title)


def method_label(method: str, amount: int, currency: Currency, lang: Language) -> str:
    return METHOD[lang][method].format(price=price(amount, currency, lang))


def pix_caption(title: str, amount: int, expires_at: datetime, lang: Language) -> str:
    # A caption holds 1024 characters; the rest of it is short.
    return PIX_CAPTION[lang].format(
        title=title[:200], price=price(amount, Currency.BRL, lang), date=format_date(expires_at, lang)
    )


def copy_paste(code: str) -> str:
    """The code alone, monospace (HTML parse mode): one tap copies exactly the code."""
    return f"<code>{escape(code)}</code>"


def check(result: Check, lang: Language) -> str:
    return CHECK[result][lang]
