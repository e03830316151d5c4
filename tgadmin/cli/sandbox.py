from __future__ import annotations

import typer

from tgadmin.cli import common
from tgadmin.cli.common import handle_errors


@handle_errors
def run(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int | None = typer.Option(None, help="Port (default: SANDBOX_PORT, 8081)."),
) -> None:
    from tgadmin.sandbox.server import serve

    chosen = port or common.settings().sandbox_port
    typer.echo(f"Telegram sandbox on http://{host}:{chosen}  (Bot API /bot<token>/<method>, chats at /)")
    common.run(serve(host, chosen))
