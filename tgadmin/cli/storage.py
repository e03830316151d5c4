from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors, run, settings

app = typer.Typer(no_args_is_help=True)


@app.command("create-bucket", help="Create the S3 bucket (or the local media folder); safe to run again.")
@handle_errors
def create_bucket() -> None:
    from tgadmin.storage import get_storage  # heavy import only when the command runs

    storage = get_storage(settings())
    created = run(storage.create_bucket())
    typer.echo(f"{storage.description}: {'created' if created else 'already exists'}")
