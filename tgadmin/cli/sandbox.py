from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors
from tgadmin.errors import TgadminError


@handle_errors
def run(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int | None = typer.Option(None, help="Port (default: SANDBOX_PORT, 8081)."),
) -> None:
    raise TgadminError("the sandbox is built by issue #3")
