"""ORM models, one per file; importing this package registers every table on `Base.metadata`."""

from tgadmin.models.analytics import AnalyticsHourly
from tgadmin.models.api_token import ApiToken
from tgadmin.models.audit import AuditLog
from tgadmin.models.base import Base
from tgadmin.models.bot import Bot
from tgadmin.models.campaign import Campaign, CampaignTarget
from tgadmin.models.creator import Creator, CreatorPreview
from tgadmin.models.group import Group
from tgadmin.models.media import MediaAsset, MediaFileId
from tgadmin.models.mongo_id import MongoId
from tgadmin.models.operator import MagicLinkToken, Operator, OperatorSession
from tgadmin.models.payment_event import PaymentEvent
from tgadmin.models.post import PostHistory
from tgadmin.models.product import Product, ProductMedia
from tgadmin.models.purchase import Purchase
from tgadmin.models.setting import AppSetting, PaymentProviderConfig
from tgadmin.models.storefront_start import StorefrontStart
from tgadmin.models.telegram_user import TelegramUser
from tgadmin.models.transaction import Transaction

__all__ = [
    "AnalyticsHourly",
    "ApiToken",
    "AppSetting",
    "AuditLog",
    "Base",
    "Bot",
    "Campaign",
    "CampaignTarget",
    "Creator",
    "CreatorPreview",
    "Group",
    "MagicLinkToken",
    "MediaAsset",
    "MediaFileId",
    "MongoId",
    "Operator",
    "OperatorSession",
    "PaymentEvent",
    "PaymentProviderConfig",
    "PostHistory",
    "Product",
    "ProductMedia",
    "Purchase",
    "StorefrontStart",
    "TelegramUser",
    "Transaction",
]
