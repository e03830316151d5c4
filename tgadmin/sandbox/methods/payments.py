"""Telegram Stars: invoices in XTR, the pre-checkout handshake, successful payments and refunds.

The sandbox has no card provider, so invoices in other currencies are refused as Telegram refuses
an invoice without a payment provider (`PAYMENT_PROVIDER_INVALID`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from tgadmin.sandbox import errors
from tgadmin.sandbox.errors import bad_request
from tgadmin.sandbox.events import EventError, deliver_message
from tgadmin.sandbox.methods.common import Call, method, reply_markup, sendable_chat
from tgadmin.sandbox.render import message_json, user_json
from tgadmin.sandbox.state.bots import Bot, User
from tgadmin.sandbox.state.chats import Chat
from tgadmin.sandbox.state.payments import Charge, PreCheckout
from tgadmin.sandbox.state.world import World

PRE_CHECKOUT_SECONDS = 10.0


def _prices(call: Call) -> list[dict[str, Any]]:
    try:
        value = json.loads(call.args.required("prices"))
    except ValueError:
        raise bad_request("can't parse prices JSON object") from None
    if not isinstance(value, list):
        raise bad_request("expected an Array of labeled prices")
    for price in value:
        if not isinstance(price, dict):
            raise bad_request("can't parse labeled price: LabeledPrice must be an Object")
        if not isinstance(price.get("label"), str) or not price["label"]:
            raise bad_request("can't parse labeled price: LabeledPrice label must be non-empty")
        if isinstance(price.get("amount"), bool) or not isinstance(price.get("amount"), int):
            raise bad_request('can\'t parse labeled price: Field "amount" must be a valid Number')
    if not value:
        raise bad_request("there must be at least one price")
    return value


def _invoice(call: Call) -> dict[str, Any]:
    title = call.args.required("title")
    description = call.args.required("description")
    payload = call.args.required("payload")
    currency = call.args.required("currency")
    prices = _prices(call)
    if currency != "XTR" or call.args.get("provider_token"):
        raise bad_request(errors.PAYMENT_PROVIDER_INVALID)
    if len(prices) != 1:
        raise bad_request(errors.STARS_INVOICE_INVALID)
    total = sum(int(p["amount"]) for p in prices)
    if total <= 0:
        raise bad_request(errors.CURRENCY_TOTAL_AMOUNT_INVALID)
    return {
        "title": title,
        "description": description,
        "payload": payload,
        "currency": currency,
        "total_amount": total,
        "start_parameter": call.args.get("start_parameter"),
        "prices": prices,
    }


@method("sendInvoice", sending=True)
def send_invoice(call: Call) -> dict[str, Any]:
    invoice = _invoice(call)
    markup = reply_markup(call)
    if markup and "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        first: dict[str, Any] = rows[0][0] if rows and rows[0] else {}
        if not first.get("pay"):
            raise bad_request("REPLY_MARKUP_BUY_EMPTY")
    chat = sendable_chat(call, "text messages")
    message = chat.add_message(
        call.bot.id,
        call.world.now(),
        invoice=invoice,
        reply_markup=markup,
        protect_content=call.args.flag("protect_content"),
    )
    return message_json(call.world, message)


@method("createInvoiceLink")
def create_invoice_link(call: Call) -> str:
    invoice = _invoice(call)
    slug = secrets.token_urlsafe(16)
    call.bot.invoice_links[slug] = invoice
    return f"https://t.me/${slug}"


@method("answerPreCheckoutQuery")
def answer_pre_checkout_query(call: Call) -> bool:
    query = call.bot.pre_checkouts.get(call.args.get("pre_checkout_query_id"))
    if query is None or query.answered:
        raise bad_request(errors.QUERY_INVALID)
    ok = call.args.flag("ok")
    message = None if ok else call.args.required("error_message")
    query.answered = True
    if query.future is not None:
        future = query.future
        future.get_loop().call_soon_threadsafe(_settle, future, (ok, message))
    return True


def _settle(future: asyncio.Future[tuple[bool, str | None]], value: tuple[bool, str | None]) -> None:
    if not future.done():
        future.set_result(value)


@method("refundStarPayment")
def refund_star_payment(call: Call) -> bool:
    user_id = max(call.args.integer("user_id"), 0)
    if user_id == 0:
        raise bad_request("invalid user_id specified")
    charge = call.bot.charges.get(call.args.required("telegram_payment_charge_id"))
    if charge is None or charge.user_id != user_id:
        raise bad_request(errors.CHARGE_NOT_FOUND)
    if charge.refunded:
        raise bad_request(errors.CHARGE_ALREADY_REFUNDED)
    charge.refunded = True
    buyer = call.world.user(user_id)
    if buyer is not None:
        # Outgoing: the same id as the payment, the buyer as `receiver`.
        call.bot.star_transactions.append(
            _star_transaction(charge, buyer, call.world.now(), direction="receiver")
        )
    chat = call.world.chat_by_key(charge.chat_key)
    if chat is not None:
        refund = {
            "currency": "XTR",
            "total_amount": charge.amount,
            "invoice_payload": charge.payload,
            "telegram_payment_charge_id": charge.charge_id,
        }
        message = chat.add_message(user_id, call.world.now(), service={"refunded_payment": refund})
        deliver_message(call.world, chat, message)
    return True


def _star_transaction(charge: Charge, user: User, date: int, *, direction: str) -> dict[str, Any]:
    """A StarTransaction as the Bot API renders an invoice sale: the partner is `source` for the
    payment and `receiver` for its refund, and both carry the payment's charge id as `id`."""
    partner: dict[str, Any] = {"type": "user", "transaction_type": "invoice_payment", "user": user_json(user)}
    if charge.payload:
        partner["invoice_payload"] = charge.payload
    return {"id": charge.charge_id, "date": date, direction: partner, "amount": charge.amount}


@method("getStarTransactions")
def get_star_transactions(call: Call) -> dict[str, Any]:
    """Oldest first (Telegram asks in ascending order for bots); `offset` skips that many."""
    offset = call.args.clamped("offset", 0, 0, 2**31 - 1)
    limit = call.args.clamped("limit", 100, 1, 100)
    return {"transactions": call.bot.star_transactions[offset : offset + limit]}


def start_pre_checkout(world: World, bot: Bot, user: User, invoice: dict[str, Any]) -> PreCheckout:
    """Ask the bot to confirm the order (caller holds the lock); the answer settles `query.future`."""
    query = PreCheckout(str(secrets.randbelow(10**18) + 10**17), user.id, invoice)
    query.future = asyncio.get_running_loop().create_future()
    bot.pre_checkouts[query.id] = query
    bot.push(
        "pre_checkout_query",
        {
            "id": query.id,
            "from": user_json(user),
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice["payload"],
        },
    )
    return query


def complete_payment(
    world: World, bot: Bot, user: User, chat: Chat, invoice: dict[str, Any]
) -> dict[str, Any]:
    """After the bot said yes: the `successful_payment` message the bot receives (caller holds the lock)."""
    charge = Charge(
        "stxT" + secrets.token_urlsafe(30), user.id, invoice["total_amount"], invoice["payload"], chat.key
    )
    bot.charges[charge.charge_id] = charge
    bot.star_transactions.append(_star_transaction(charge, user, world.now(), direction="source"))
    payment = {
        "currency": invoice["currency"],
        "total_amount": invoice["total_amount"],
        "invoice_payload": invoice["payload"],
        "telegram_payment_charge_id": charge.charge_id,
        "provider_payment_charge_id": "",
    }
    message = chat.add_message(user.id, world.now(), service={"successful_payment": payment})
    deliver_message(world, chat, message)
    return {
        "status": "paid",
        "telegram_payment_charge_id": charge.charge_id,
        "message_id": message.message_id,
    }


async def pay(
    world: World, bot: Bot, user: User, chat: Chat, invoice: dict[str, Any], wait_seconds: float
) -> dict[str, Any]:
    """The buyer pays: pre-checkout query, the bot's answer (within `wait_seconds`), then the payment."""
    with world.lock:
        query = start_pre_checkout(world, bot, user, invoice)
    assert query.future is not None
    try:
        ok, error_message = await asyncio.wait_for(asyncio.shield(query.future), wait_seconds)
    except TimeoutError:
        with world.lock:
            query.answered = True
        raise EventError(f"the bot did not answer the pre-checkout query within {wait_seconds:g} s") from None
    if not ok:
        return {"status": "declined", "error_message": error_message}
    with world.lock:
        return complete_payment(world, bot, user, chat, invoice)
