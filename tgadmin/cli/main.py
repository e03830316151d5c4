"""The `tgadmin` command: every process and operation is a subcommand."""

from __future__ import annotations

import typer

from tgadmin.cli import (
    analytics,
    bot,
    check,
    dashboard,
    db,
    dev,
    importer,
    keys,
    operators,
    pix,
    sandbox,
    seed,
    storage,
    subscriptions,
    worker,
)

app = typer.Typer(
    name="tgadmin",
    help="Run a Telegram business: dashboard, storefront bot, payments and rate-limited workers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("dashboard", help="Dashboard pages, JSON API /api/v1 and PSP webhooks (port 3001).")(
    dashboard.run
)
app.command("bot", help="Bot service: Telegram webhook (secret-token checked), or --polling (port 3002).")(
    bot.run
)
app.command("worker", help="Queue workers; run as many as you like, on as many machines.")(worker.run)
app.command(
    "sandbox", help="The Telegram sandbox: a Bot API server with a control API and chat view (port 8081)."
)(sandbox.run)
app.command("dev", help="Everything in one terminal on the embedded defaults.")(dev.run)
app.command("check", help="Test every configured connection; one line each; non-zero exit if any fails.")(
    check.run
)
app.add_typer(db.app, name="db", help="Database schema (Alembic migrations).")
app.add_typer(storage.app, name="storage", help="File storage (local folder or S3).")
app.add_typer(operators.app, name="operators", help="Dashboard operators.")
app.add_typer(seed.app, name="seed", help="Demo data.")
app.add_typer(pix.app, name="pix", help="PIX BR Codes: build and decode.")
app.add_typer(subscriptions.app, name="subscriptions", help="Subscription warnings and expiry.")
app.add_typer(keys.app, name="keys", help="Secrets: generate keys for the settings.")
app.add_typer(importer.app, name="import", help="Bring data in from the previous system.")
app.add_typer(analytics.app, name="analytics", help="Hourly analytics: recompute a range of hours.")
