from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors, settings
from tgadmin.cli.common import run as run_async
from tgadmin.config import LogFormat
from tgadmin.logs import setup_logging


@handle_errors
def run(
    concurrency: int | None = typer.Option(None, min=1, help="Jobs at once (default: WORKER_CONCURRENCY)."),
    metrics_port: int | None = typer.Option(
        None, min=0, max=65535, help="Serve Prometheus metrics on this port (/metrics)."
    ),
    metrics_host: str = typer.Option(
        "127.0.0.1", help="Interface for --metrics-port (other than loopback: set METRICS_TOKEN)."
    ),
) -> None:
    """Process the queues until SIGTERM/SIGINT, then finish (or hand back) in-flight jobs."""
    from tgadmin.worker.metrics_http import MetricsServer
    from tgadmin.worker.runner import WorkerProcess

    current = settings()
    setup_logging(current.log_level, process="worker", json_lines=current.log_format is LogFormat.JSON)
    # Before the worker starts: a port in use stops it with one line, having taken no job.
    server = MetricsServer(current, metrics_host, metrics_port) if metrics_port is not None else None
    try:
        port = server.port if server is not None else None
        run_async(WorkerProcess(current, concurrency=concurrency, metrics_port=port).run())
    finally:
        if server is not None:
            server.close()
