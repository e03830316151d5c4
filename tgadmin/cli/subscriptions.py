from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors
from tgadmin.errors import TgadminError

app = typer.Typer(no_args_is_help=True)


@app.command("sweep", help="Run one subscription sweep: 7-day and 1-day warnings, then expiry.")
@handle_errors
def sweep(now: str | None = typer.Option(None, "--now", help="ISO timestamp overriding the clock.")) -> None:
    raise TgadminError("the subscription sweep arrives with the subscriptions issue")
