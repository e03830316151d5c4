from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors, settings
from tgadmin.cli.common import run as run_async


@handle_errors
def run(
    polling: bool = typer.Option(
        False, "--polling", help="Long-poll getUpdates instead of serving a webhook."
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int | None = typer.Option(None, help="Port (default: BOT_PORT, 3002)."),
) -> None:
    from tgadmin.bot.run import poll, serve_webhook  # heavy imports only when the command runs
    from tgadmin.logs import setup_logging

    cfg = settings()
    setup_logging(cfg.log_level, process="bot")
    if polling:
        run_async(poll(cfg))
    else:
        run_async(serve_webhook(cfg, host, port or cfg.bot_port))
