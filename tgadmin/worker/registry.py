"""Which handler runs which job: every domain's `jobs.py` contributes its `HANDLERS`."""

from __future__ import annotations

from typing import Any

from tgadmin.queue.jobs import Handler
from tgadmin.queue.names import JobName


def all_handlers() -> dict[JobName, Handler[Any]]:
    """Handlers of every job type this version runs."""
    from tgadmin.analytics import jobs as analytics_jobs
    from tgadmin.audit import jobs as audit_jobs
    from tgadmin.campaign import jobs as campaign_jobs
    from tgadmin.creator import jobs as creator_jobs
    from tgadmin.group import jobs as group_jobs
    from tgadmin.payment import jobs as payment_jobs
    from tgadmin.payment import reconcile as stars_reconcile
    from tgadmin.post import jobs as post_jobs
    from tgadmin.purchase import jobs as purchase_jobs
    from tgadmin.subscription import jobs as subscription_jobs

    handlers: dict[JobName, Handler[Any]] = {}
    for module in (
        post_jobs,
        group_jobs,
        audit_jobs,
        payment_jobs,
        stars_reconcile,
        purchase_jobs,
        analytics_jobs,
        campaign_jobs,
        subscription_jobs,
        creator_jobs,
    ):
        handlers.update(module.HANDLERS)
    return handlers
