from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors, settings

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade", help="Apply every pending migration.")
@handle_errors
def upgrade(revision: str = typer.Argument("head")) -> None:
    from tgadmin import migrate  # heavy import only when the command runs

    migrate.upgrade(settings().database_url, revision)
    typer.echo(f"database at {revision}")
