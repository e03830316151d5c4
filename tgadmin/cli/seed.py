from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors
from tgadmin.errors import TgadminError

app = typer.Typer(no_args_is_help=True)


@app.command("demo", help="Create or update the demo creator and products; --promo posts a promo to a group.")
@handle_errors
def demo(
    promo: bool = typer.Option(False, "--promo", help="Post the promo to the first active admin group."),
) -> None:
    raise TgadminError("the demo seed arrives with the storefront issue")
