from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors, settings
from tgadmin.cli.common import run as run_async


@handle_errors
def run(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int | None = typer.Option(None, help="Port (default: DASHBOARD_PORT, 3001)."),
    workers: int = typer.Option(
        1, help="Processes serving the port (more than 1 needs PostgreSQL and Redis).", min=1
    ),
) -> None:
    from tgadmin.config import require_webhook_secrets

    cfg = settings()
    cfg.require("session_secret", "magic_link_secret", "data_encryption_key")
    require_webhook_secrets(cfg)  # anonymous PSP notifications are refused: no secret, no start

    from tgadmin.logs import setup_logging
    from tgadmin.web.server import check_workers, serve, serve_workers  # heavy: only when it runs

    check_workers(cfg, workers)
    setup_logging(cfg.log_level, process="dashboard", json_lines=cfg.log_format == "json")
    if workers == 1:
        run_async(serve(cfg, host, port or cfg.dashboard_port))
    else:
        serve_workers(cfg, host, port or cfg.dashboard_port, workers)
