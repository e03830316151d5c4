from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors
from tgadmin.errors import TgadminError


@handle_errors
def run(
    polling: bool = typer.Option(
        False, "--polling", help="Long-poll getUpdates instead of serving a webhook."
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int | None = typer.Option(None, help="Port (default: BOT_PORT, 3002)."),
) -> None:
    raise TgadminError("the bot service is built by the workers issue (#4)")
