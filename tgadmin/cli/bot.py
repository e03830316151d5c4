from __future__ import annotations

import logging
import signal
from types import FrameType

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
    setup_logging(cfg.log_level, process="bot", json_lines=cfg.log_format == "json")
    # aiogram logs every update at INFO; failures reach our own log anyway.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    if polling:
        run_async(poll(cfg))
    else:
        # uvicorn shuts down gracefully on SIGTERM and then re-raises it; a finished shutdown is a success.
        signal.signal(signal.SIGTERM, _stopped)
        run_async(serve_webhook(cfg, host, port or cfg.bot_port))


def _stopped(_sig: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)
