from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors
from tgadmin.errors import TgadminError


@handle_errors
def run(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int | None = typer.Option(None, help="Port (default: DASHBOARD_PORT, 3001)."),
) -> None:
    raise TgadminError(
        "the dashboard arrives with the dashboard issue; the webhooks app is wired by payments"
    )
