"""Every status and kind the product stores: enums, never free strings."""

from enum import StrEnum


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class BotMemberStatus(StrEnum):
    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"


class PostKind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    VIDEO = "video"
    DOCUMENT = "document"
    ALBUM = "album"
    PROMO = "promo"
    INVOICE = "invoice"


class PostStatus(StrEnum):
    SENT = "sent"
    DELETED = "deleted"
    FAILED = "failed"
    UNDELETABLE = "undeletable"


class CreatorTier(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    DIAMOND = "diamond"


class ProductType(StrEnum):
    CONTENT = "content"
    PPV = "ppv"
    SUBSCRIPTION = "subscription"


class Currency(StrEnum):
    BRL = "BRL"
    USD = "USD"
    XTR = "XTR"


class PurchaseStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDED = "refunded"
    EXPIRED = "expired"


class TransactionStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"
    EXPIRED = "expired"


class PaymentMethod(StrEnum):
    PIX = "pix"
    STARS = "stars"
    CREDIT_CARD = "credit_card"
    BANK_TRANSFER = "bank_transfer"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class CampaignTargetStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DELETED = "deleted"  # sent, then removed by the campaign's auto-delete


class OperatorRole(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class ActorType(StrEnum):
    OPERATOR = "operator"
    SYSTEM = "system"
    BUYER = "buyer"
