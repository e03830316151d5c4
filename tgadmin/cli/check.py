from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors, settings
from tgadmin.cli.common import run as run_async


@handle_errors
def run() -> None:
    from tgadmin.connections import run_checks  # heavy imports only when the command runs

    results = run_async(run_checks(settings()))
    for result in results:
        typer.echo(result.line())
    if not all(result.ok for result in results):
        raise typer.Exit(1)
