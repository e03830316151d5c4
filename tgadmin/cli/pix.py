from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors
from tgadmin.errors import TgadminError

app = typer.Typer(no_args_is_help=True)


@app.command("brcode", help="Print a PIX BR Code (copy-paste) built from the options.")
@handle_errors
def brcode() -> None:
    raise TgadminError("built by the payments issue (#5)")


@app.command("decode", help="Print the fields of a BR Code as JSON; exit 1 for a malformed code.")
@handle_errors
def decode(code: str) -> None:
    raise TgadminError("built by the payments issue (#5)")
