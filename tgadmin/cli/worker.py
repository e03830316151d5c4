from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors
from tgadmin.errors import TgadminError


@handle_errors
def run(
    concurrency: int | None = typer.Option(None, help="Jobs at once (default: WORKER_CONCURRENCY)."),
) -> None:
    raise TgadminError("workers are built by issue #4")
