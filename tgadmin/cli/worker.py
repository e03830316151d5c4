from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors, settings
from tgadmin.cli.common import run as run_async
from tgadmin.logs import setup_logging


@handle_errors
def run(
    concurrency: int | None = typer.Option(None, min=1, help="Jobs at once (default: WORKER_CONCURRENCY)."),
) -> None:
    """Process the queues until SIGTERM/SIGINT, then finish (or hand back) in-flight jobs."""
    from tgadmin.worker.runner import WorkerProcess

    current = settings()
    setup_logging(current.log_level, process="worker")
    run_async(WorkerProcess(current, concurrency=concurrency).run())
