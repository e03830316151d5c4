"""Queue and job names: enums, never free strings."""

from __future__ import annotations

from enum import StrEnum


class QueueName(StrEnum):
    BOT_TASKS = "bot-tasks"
    SUBSCRIPTIONS = "subscriptions"
    SYSTEM = "system"


class JobName(StrEnum):
    # bot-tasks
    SEND_MESSAGE = "send-message"
    DELETE_MESSAGE = "delete-message"
    DELETE_MESSAGES_BULK = "delete-messages-bulk"
    CLEAR_ALL_MESSAGES = "clear-all-messages"
    SYNC_GROUPS = "sync-groups"
    SYNC_SINGLE_GROUP = "sync-single-group"
    GET_CHAT_INFO = "get-chat-info"
    CHECK_PERMISSIONS = "check-permissions"
    DELIVER_PURCHASE = "deliver-purchase"
    SEND_PROMO = "send-promo"
    # /mypurchases: a completed pack sent again (tgadmin.purchase.jobs)
    RESEND_PURCHASE = "resend-purchase"
    # subscriptions
    SUBSCRIPTION_SWEEP = "subscription-sweep"
    REVOKE_ACCESS = "revoke-access"
    # system
    AUDIT_LOG = "audit-log"
    ANALYTICS_AGGREGATE = "analytics-aggregate"
    # A range of hours recomputed on request (the analytics page, with progress).
    ANALYTICS_BACKFILL = "analytics-backfill"
    CAMPAIGN_CHECK = "campaign-check"
    # system: PIX charges (tgadmin.payment.jobs)
    PIX_EXPIRY_SWEEP = "pix-expiry-sweep"
    PIX_POLL = "pix-poll"
    # system: Stars payments Telegram took that we have no record of (tgadmin.payment.reconcile)
    STARS_RECONCILE = "stars-reconcile"

    @property
    def queue(self) -> QueueName:
        return QUEUE_OF[self]


QUEUE_OF: dict[JobName, QueueName] = {
    **{job: QueueName.BOT_TASKS for job in list(JobName)[:11]},
    JobName.SUBSCRIPTION_SWEEP: QueueName.SUBSCRIPTIONS,
    JobName.REVOKE_ACCESS: QueueName.SUBSCRIPTIONS,
    JobName.AUDIT_LOG: QueueName.SYSTEM,
    JobName.ANALYTICS_AGGREGATE: QueueName.SYSTEM,
    JobName.ANALYTICS_BACKFILL: QueueName.SYSTEM,
    JobName.CAMPAIGN_CHECK: QueueName.SYSTEM,
    JobName.PIX_EXPIRY_SWEEP: QueueName.SYSTEM,
    JobName.PIX_POLL: QueueName.SYSTEM,
    JobName.STARS_RECONCILE: QueueName.SYSTEM,
}
