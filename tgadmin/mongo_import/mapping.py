"""One mapper per collection: a document of the previous system becomes the values of one of our
rows, or a `Skip` saying why not. Pure functions; the database is the service's business."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from bson import Decimal128, ObjectId

from tgadmin.models.enums import (
    BotMemberStatus,
    ChatType,
    CreatorTier,
    Currency,
    PaymentMethod,
    ProductType,
    PurchaseStatus,
    TransactionStatus,
)
from tgadmin.models.transaction import MAX_AMOUNT_CENTS


class Skip(Exception):
    """The document is not imported: `reason` groups it in the report, `detail` names the case."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Ref:
    """A column holding another imported document's row id (or a buyer named by Telegram id)."""

    column: str
    collection: str
    object_id: str | None = None
    telegram_id: int | None = None


@dataclass
class Row:
    object_id: str
    values: dict[str, Any]
    refs: list[Ref] = field(default_factory=list)
    # Columns (already in `values`) naming the same thing in our table before any import: a creator's
    # username, a buyer's Telegram id. A row found by them is updated rather than duplicated.
    natural_key: tuple[str, ...] = ()


E = TypeVar("E", bound=StrEnum)

# Fields of the previous system that are read, per collection; and those known to have no
# counterpart here, with why (README "Import from the previous system" lists both).
MAPPED: dict[str, tuple[str, ...]] = {
    "creators": (
        "name", "username", "bio", "tier", "country", "isAdult", "isActive", "createdAt", "updatedAt",
    ),
    "telegram_users": (
        "telegramId", "firstName", "lastName", "username", "languageCode", "isBlocked", "blockedBot",
        "ageConfirmedAt", "source", "createdAt", "lastSeenAt", "updatedAt",
    ),
    "groups": (
        "telegramId", "chatId", "type", "title", "username", "memberCount", "botStatus", "botPermissions",
        "settings", "isActive", "lastMessageId", "lastSyncAt", "lastSyncedAt", "migratedToChatId",
        "createdAt", "updatedAt",
    ),
    "products": (
        "modelId", "creatorId", "title", "name", "description", "type", "price", "currency", "starsPrice",
        "photoCount", "videoCount", "subscriptionDays", "durationDays", "accessChatId", "isActive",
        "createdAt", "updatedAt",
    ),
    "purchases": (
        "telegramUserId", "userId", "telegramId", "productId", "amount", "currency", "status",
        "deliveredAt", "accessExpiresAt", "sentMessages", "expirationNotified7Days",
        "expirationNotified1Day", "source", "createdAt", "updatedAt",
    ),
    "transactions": (
        "purchaseId", "paymentMethod", "amount", "currency", "status", "pixKey", "pixQrCode",
        "pixCopyPaste", "pixExpiresAt", "txid", "pixTxid", "endToEndId", "pixEndToEndId", "e2eId",
        "provider", "paidAt", "failedAt", "failureReason", "refundedAt", "createdAt", "updatedAt",
    ),
}  # fmt: skip
NO_COUNTERPART: dict[str, dict[str, str]] = {
    "creators": {
        "previewPhotos": "URLs in the old S3: upload the photos again on the creator's page",
        "coverPhoto": "a URL in the old S3: upload the cover again",
    },
    "telegram_users": {},
    "groups": {},
    "products": {
        "media": "files in the old S3: upload them again on the product's page",
        "photos": "files in the old S3: upload them again on the product's page",
        "videos": "files in the old S3: upload them again on the product's page",
    },
    "purchases": {
        "modelId": "follows from the product",
        "transactionId": "the transaction names its purchase",
        "paidAt": "kept on the transaction",
    },
    "transactions": {"userId": "follows from the purchase"},
}
# Mongoose's own bookkeeping, never data.
_IGNORED = frozenset({"_id", "__v"})


def unknown_fields(collection: str, document: Mapping[str, Any]) -> list[str]:
    """Fields the import does not know: reported, never imported."""
    known = MAPPED[collection]
    dropped = NO_COUNTERPART[collection]
    return [name for name in document if name not in known and name not in dropped and name not in _IGNORED]


def dropped_fields(collection: str, document: Mapping[str, Any]) -> list[str]:
    dropped = NO_COUNTERPART[collection]
    return [name for name in document if name in dropped and document[name] not in (None, [], "")]


# --- values ---------------------------------------------------------------------------------------


def object_id(value: Any, name: str) -> str:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{24}", value):
        return value.lower()
    raise Skip(f"{name} is not an ObjectId", repr(value)[:60])


def _present(document: Mapping[str, Any], *names: str) -> tuple[str, Any]:
    for name in names:
        value = document.get(name)
        if value is not None:
            return name, value
    return names[0], None


def _required(document: Mapping[str, Any], *names: str) -> tuple[str, Any]:
    name, value = _present(document, *names)
    if value is None or value == "":
        raise Skip(f"{name} missing")
    return name, value


def text(value: Any, name: str, limit: int = 255) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Skip(f"{name} is not text", repr(value)[:60])
    if len(value) > limit:
        raise Skip(f"{name} longer than {limit} characters")
    return value


def integer(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise Skip(f"{name} is not a whole number", repr(value))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise Skip(f"{name} is not a whole number", repr(value)[:60])


def flag(value: Any, name: str, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise Skip(f"{name} is not true or false", repr(value)[:60])
    return value


def moment(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise Skip(f"{name} is not a date", repr(value)[:60])
    return value


def cents(value: Any, name: str) -> int:
    """Reais (the old system stored 29.9 for R$29.90) as integer cents, exactly or not at all."""
    try:
        if isinstance(value, Decimal128):
            amount = value.to_decimal()
        elif isinstance(value, bool) or not isinstance(value, int | float | str):
            raise Skip(f"{name} is not an amount", repr(value)[:60])
        else:
            # repr of a float is its shortest exact spelling: 29.9 -> "29.9", never 29.899999...
            amount = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        raise Skip(f"{name} is not an amount", repr(value)[:60]) from None
    if not amount.is_finite():
        raise Skip(f"{name} is not an amount", str(amount))
    result = amount * 100
    if result != result.to_integral_value():
        raise Skip(f"{name} has fractions of a cent", str(amount))
    if not 0 <= result <= MAX_AMOUNT_CENTS:
        raise Skip(f"{name} out of range", str(amount))
    return int(result)


def currency(value: Any) -> Currency:
    if value is None:
        return Currency.BRL
    if not isinstance(value, str) or value.strip().upper() not in Currency.__members__:
        raise Skip(f"currency {value!r} has no counterpart")
    return Currency(value.strip().upper())


def choice(enum: type[E], value: Any, name: str, table: Mapping[str, E] | None = None) -> E:
    """A status or kind through our enum (same words), or `table` where the words differ."""
    if not isinstance(value, str):
        raise Skip(f"{name} is not text", repr(value)[:60])
    word = value.strip().lower()
    if table is not None and word in table:
        return table[word]
    try:
        return enum(word)
    except ValueError:
        raise Skip(f"{name} {word!r} has no counterpart") from None


def _times(document: Mapping[str, Any], oid: ObjectId | str) -> dict[str, Any]:
    # An ObjectId carries its creation second: the fallback when the document has no createdAt.
    created = moment(document.get("createdAt"), "createdAt")
    if created is None and isinstance(oid, ObjectId):
        created = oid.generation_time
    times: dict[str, Any] = {}
    if created is not None:
        times["created_at"] = created
    updated = moment(document.get("updatedAt"), "updatedAt") or created
    if updated is not None:
        times["updated_at"] = updated
    return times


def _doc_id(document: Mapping[str, Any]) -> tuple[str, Any]:
    raw = document.get("_id")
    if raw is None:
        raise Skip("_id missing")
    return object_id(raw, "_id"), raw


# --- one mapper per collection ---------------------------------------------------------------------


def map_creator(document: Mapping[str, Any]) -> Row:
    oid, raw = _doc_id(document)
    username = text(_required(document, "username")[1], "username")
    assert username is not None
    values = {
        "name": text(_required(document, "name")[1], "name"),
        "username": username.removeprefix("@"),
        "bio": text(document.get("bio"), "bio", limit=10_000),
        "tier": choice(CreatorTier, document.get("tier") or "bronze", "tier"),
        "country": text(document.get("country"), "country"),
        "is_adult": flag(document.get("isAdult"), "isAdult"),
        "is_active": flag(document.get("isActive"), "isActive", default=True),
        **_times(document, raw),
    }
    return Row(oid, values, natural_key=("username",))


def map_telegram_user(document: Mapping[str, Any]) -> Row:
    oid, raw = _doc_id(document)
    times = _times(document, raw)
    seen = moment(document.get("lastSeenAt"), "lastSeenAt") or times.get("updated_at")
    blocked = _present(document, "isBlocked", "blockedBot")
    values: dict[str, Any] = {
        "telegram_id": integer(_required(document, "telegramId")[1], "telegramId"),
        "first_name": text(_required(document, "firstName")[1], "firstName"),
        "last_name": text(document.get("lastName"), "lastName"),
        "username": text(document.get("username"), "username"),
        "language_code": text(document.get("languageCode"), "languageCode"),
        "blocked_bot": flag(blocked[1], blocked[0]),
        "age_confirmed_at": moment(document.get("ageConfirmedAt"), "ageConfirmedAt"),
        "source": text(document.get("source"), "source", limit=64),
    }
    if "created_at" in times:
        values["first_seen_at"] = times["created_at"]
    if seen is not None:
        values["last_seen_at"] = seen
    return Row(oid, values, natural_key=("telegram_id",))


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _rights(value: Any) -> dict[str, Any]:
    # Telegram names admin rights in snake_case; the old system kept them in camelCase.
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Skip("botPermissions is not a document", repr(value)[:60])
    return {_CAMEL.sub("_", key).lower(): item for key, item in value.items()}


def map_group(document: Mapping[str, Any]) -> Row:
    oid, raw = _doc_id(document)
    settings = document.get("settings") or {}
    if not isinstance(settings, dict):
        raise Skip("settings is not a document", repr(settings)[:60])
    active = _present({**document, **settings}, "isActive")[1]
    rights = _rights(_present(document, "botPermissions")[1])
    status = document.get("botStatus") or ("administrator" if rights.get("can_delete_messages") else "member")
    values = {
        "telegram_id": integer(_required(document, "telegramId", "chatId")[1], "telegramId"),
        "type": choice(ChatType, document.get("type") or "supergroup", "type"),
        "title": text(_required(document, "title")[1], "title"),
        "username": text(document.get("username"), "username"),
        "member_count": integer(document.get("memberCount"), "memberCount"),
        "bot_status": choice(BotMemberStatus, status, "botStatus"),
        "bot_rights": rights,
        "is_active": flag(active, "settings.isActive", default=True),
        "cooldown_seconds": integer(settings.get("cooldownSeconds"), "settings.cooldownSeconds") or 0,
        "last_message_id": integer(document.get("lastMessageId"), "lastMessageId"),
        "last_synced_at": moment(_present(document, "lastSyncAt", "lastSyncedAt")[1], "lastSyncAt"),
        "migrated_to_chat_id": integer(document.get("migratedToChatId"), "migratedToChatId"),
        **_times(document, raw),
    }
    return Row(oid, values, natural_key=("bot_id", "telegram_id"))


def map_product(document: Mapping[str, Any]) -> Row:
    oid, raw = _doc_id(document)
    creator_field, creator = _required(document, "modelId", "creatorId")
    kind = choice(ProductType, _required(document, "type")[1], "type")
    days = integer(_present(document, "subscriptionDays", "durationDays")[1], "subscriptionDays")
    if kind is ProductType.SUBSCRIPTION and not days:
        raise Skip("subscription without subscriptionDays")
    values = {
        "title": text(_required(document, "title", "name")[1], "title"),
        "description": text(document.get("description"), "description", limit=100_000),
        "type": kind,
        "price_cents": cents(_required(document, "price")[1], "price"),
        "currency": currency(document.get("currency")),
        "stars_price": integer(document.get("starsPrice"), "starsPrice") or None,
        "photo_count": integer(document.get("photoCount"), "photoCount") or 0,
        "video_count": integer(document.get("videoCount"), "videoCount") or 0,
        "subscription_days": days,
        "access_chat_id": integer(document.get("accessChatId"), "accessChatId"),
        "is_active": flag(document.get("isActive"), "isActive", default=True),
        **_times(document, raw),
    }
    return Row(oid, values, [Ref("creator_id", "creators", object_id(creator, creator_field))])


def _sent_messages(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Skip("sentMessages is not a list", repr(value)[:60])
    sent = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("messageIds"), list):
            raise Skip("sentMessages entry is not {chatId, messageIds}", repr(item)[:60])
        chat = integer(item.get("chatId"), "sentMessages.chatId")
        ids = [integer(message, "sentMessages.messageIds") for message in item["messageIds"]]
        sent.append({"chat_id": chat, "message_ids": ids})
    return sent


def _buyer(document: Mapping[str, Any]) -> Ref:
    name, value = _present(document, "telegramUserId", "userId")
    if value is not None:
        return Ref("user_id", "telegram_users", object_id(value, name))
    telegram_id = integer(_required(document, "telegramUserId", "telegramId")[1], "telegramId")
    return Ref("user_id", "telegram_users", telegram_id=telegram_id)


def map_purchase(document: Mapping[str, Any]) -> Row:
    oid, raw = _doc_id(document)
    product = object_id(_required(document, "productId")[1], "productId")
    values = {
        "status": choice(PurchaseStatus, _required(document, "status")[1], "status"),
        "amount_cents": cents(_required(document, "amount")[1], "amount"),
        "currency": currency(document.get("currency")),
        "delivered_at": moment(document.get("deliveredAt"), "deliveredAt"),
        "access_expires_at": moment(document.get("accessExpiresAt"), "accessExpiresAt"),
        "sent_messages": _sent_messages(document.get("sentMessages")),
        "expiration_notified_7_days": flag(
            document.get("expirationNotified7Days"), "expirationNotified7Days"
        ),
        "expiration_notified_1_day": flag(document.get("expirationNotified1Day"), "expirationNotified1Day"),
        "source": text(document.get("source"), "source", limit=64),
        **_times(document, raw),
    }
    return Row(oid, values, [_buyer(document), Ref("product_id", "products", product)])


# The old system had no Stars; "card" and "transfer" are spellings its dashboard also wrote.
_METHODS = {"card": PaymentMethod.CREDIT_CARD, "transfer": PaymentMethod.BANK_TRANSFER}


def map_transaction(document: Mapping[str, Any]) -> Row:
    oid, raw = _doc_id(document)
    purchase = object_id(_required(document, "purchaseId")[1], "purchaseId")
    amount = cents(_required(document, "amount")[1], "amount")
    if amount == 0:
        raise Skip("amount is zero")
    values = {
        "method": choice(PaymentMethod, document.get("paymentMethod") or "pix", "paymentMethod", _METHODS),
        "amount_cents": amount,
        "currency": currency(document.get("currency")),
        "status": choice(TransactionStatus, _required(document, "status")[1], "status"),
        "provider": text(document.get("provider"), "provider"),
        "provider_txid": text(_present(document, "txid", "pixTxid")[1], "txid"),
        "end_to_end_id": text(_present(document, "endToEndId", "pixEndToEndId", "e2eId")[1], "endToEndId"),
        "pix_key": text(document.get("pixKey"), "pixKey"),
        "pix_qr_image": text(document.get("pixQrCode"), "pixQrCode", limit=1_000_000),
        "pix_copy_paste": text(document.get("pixCopyPaste"), "pixCopyPaste", limit=10_000),
        "pix_expires_at": moment(document.get("pixExpiresAt"), "pixExpiresAt"),
        "paid_at": moment(document.get("paidAt"), "paidAt"),
        "failed_at": moment(document.get("failedAt"), "failedAt"),
        "failure_reason": text(document.get("failureReason"), "failureReason", limit=10_000),
        "refunded_at": moment(document.get("refundedAt"), "refundedAt"),
        **_times(document, raw),
    }
    return Row(oid, values, [Ref("purchase_id", "purchases", purchase)])


Mapper = Callable[[Mapping[str, Any]], Row]
