"""Every domain's aiogram Router, in the order they see updates: add a domain's `bot.router` here."""

from __future__ import annotations

from aiogram import Router

from tgadmin.buyer import bot as buyer_bot
from tgadmin.creator import bot as creator_bot
from tgadmin.group import bot as group_bot
from tgadmin.payment import bot as payment_bot
from tgadmin.purchase import bot as purchase_bot


def domain_routers() -> list[Router]:
    return [
        # First: plain private text, which only the fallback below would answer (see buyer/bot.py).
        buyer_bot.plain_text,
        group_bot.router,
        payment_bot.router,
        creator_bot.router,
        buyer_bot.router,
        purchase_bot.router,
        # Keep last: it answers every private message and button no router above took.
        buyer_bot.fallback,
    ]
