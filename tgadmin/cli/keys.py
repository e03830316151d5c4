from __future__ import annotations

import typer

from tgadmin.crypto import generate_key, random_token

app = typer.Typer(no_args_is_help=True)


@app.command(
    "generate", help="Print fresh values for DATA_ENCRYPTION_KEY, SESSION_SECRET and MAGIC_LINK_SECRET."
)
def generate() -> None:
    typer.echo(f"DATA_ENCRYPTION_KEY={generate_key()}")
    typer.echo(f"SESSION_SECRET={random_token()}")
    typer.echo(f"MAGIC_LINK_SECRET={random_token()}")
