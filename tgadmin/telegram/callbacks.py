"""What the storefront's inline buttons carry (`callback_data`, at most 64 bytes), in one place.

Plain data shapes, no rules: the domain that draws a button and the domain that answers it both
import the shape from here. A payload that does not parse, or names something gone or changed, is a
stale button: the handler answers the callback with a clear message and a fresh button, never a crash.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class CatalogPage(CallbackData, prefix="cat"):
    """A page of the creators list (0 is the first)."""

    page: int


class OpenCreator(CallbackData, prefix="cr"):
    creator_id: int


class ConfirmAge(CallbackData, prefix="age"):
    """The buyer confirms 18+ once, then sees the creator they asked for; `source` is the deep link's
    source tag that led there ("" when none), handed on to the creator's `Buy` buttons."""

    creator_id: int
    source: str = ""


class Buy(CallbackData, prefix="buy"):
    """Checkout of a product at the price the button showed (a changed price makes it stale);
    `source` is the deep link's source tag that led here ("" when none), stored on the purchase."""

    product_id: int
    price_cents: int
    source: str = ""


class PayWith(CallbackData, prefix="pay"):
    """The method chosen for a pending purchase: `pix` or `stars`."""

    purchase_id: int
    method: str


class CheckPaid(CallbackData, prefix="paid"):
    """ "I have paid": ask the PSP once about this charge."""

    transaction_id: int


class Resend(CallbackData, prefix="rs"):
    """/mypurchases: send a completed pack again."""

    purchase_id: int


class MyPurchasesPage(CallbackData, prefix="myp"):
    page: int


class SetLanguage(CallbackData, prefix="lang"):
    """`pt` or `en`."""

    code: str
