from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tgadmin.cli.common import handle_errors, run, settings
from tgadmin.errors import Conflict

if TYPE_CHECKING:
    from tgadmin.creator.demo import DemoSeed

app = typer.Typer(no_args_is_help=True)

NO_GROUP = "no active group where the bot is an admin: add the bot to a group and make it admin"
NO_BOT = "no active bot yet: register one (TELEGRAM_BOT_TOKEN, or `tgadmin dev` starts one in the sandbox)"


def _money(cents: int) -> str:
    return f"R${cents // 100},{cents % 100:02d}"


def describe(seed: DemoSeed) -> list[str]:
    """What the operator reads after a seed: the creator, its products, and where buyers enter."""
    lines = [
        f"creator: {seed.name} (@{seed.username}) id={seed.creator_id}",
        f"tier: {seed.tier}  country: {seed.country}  preview photos: {seed.previews}",
        "products:",
    ]
    for product in seed.products:
        what = f"{product.photo_count} photos" + (
            f" + {product.video_count} videos" if product.video_count else ""
        )
        if product.subscription_days:
            what += f", {product.subscription_days} days"
        stars = f" / {product.stars_price} ⭐" if product.stars_price else ""
        lines.append(
            f"  id={product.id} {product.title} [{product.type}] {_money(product.price_cents)}{stars}"
            f" ({what}; {product.files} files to deliver)"
        )
    lines.append(f"deep link: {seed.deep_link or NO_BOT}")
    lines.append("changes: " + ("saved" if seed.changed else "none (already up to date)"))
    return lines


async def _seed(promo: bool) -> tuple[list[str], str | None]:
    from tgadmin.creator.demo import seed_demo
    from tgadmin.creator.jobs import SendPromoData
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.group import service as group_service
    from tgadmin.queue.client import Queues
    from tgadmin.queue.names import JobName
    from tgadmin.storage import get_storage
    from tgadmin.telegram import bots

    cfg = settings()
    engine = create_engine(cfg.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            seed = await seed_demo(session, get_storage(cfg))
            bot_id = await bots.first_active_id(session)
            group = None if bot_id is None else await group_service.first_admin_group(session, bot_id)
        lines = describe(seed)
        if not promo:
            return lines, None
        if group is None:
            return lines, NO_GROUP
        queues = Queues(cfg)
        try:
            data = SendPromoData(creatorId=seed.creator_id, groupId=group.id)
            job_id = await queues.enqueue(JobName.SEND_PROMO, data.model_dump())
        finally:
            await queues.close()
        lines.append(
            f"promo: queued as job {job_id} for group {group.title!r} (id={group.id}); the worker posts it"
        )
        return lines, None
    finally:
        await engine.dispose()


@app.command("demo", help="Create or update the demo creator and products; --promo posts a promo to a group.")
@handle_errors
def demo(
    promo: bool = typer.Option(False, "--promo", help="Post the promo to the first active admin group."),
) -> None:
    lines, problem = run(_seed(promo))
    for line in lines:
        typer.echo(line)
    if problem is not None:
        # The seed itself is saved; only the promo could not be asked for.
        raise Conflict(problem)
