"""The Renew button under a warning or the expiry notice: checkout of the same product at its
current price (`callbacks.Buy`, answered by the storefront's checkout)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tgadmin.subscription import service, texts
from tgadmin.subscription.repository import Subscription
from tgadmin.telegram.callbacks import Buy


def renew(sub: Subscription) -> InlineKeyboardMarkup | None:
    """None once the product is no longer sold: the button would only lead to a refusal."""
    if not service.can_renew(sub):
        return None
    product = sub.product
    label = texts.renew_label(product.price_cents, product.currency.value, service.buyer_lang(sub))
    data = Buy(product_id=product.id, price_cents=product.price_cents).pack()
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)]])
