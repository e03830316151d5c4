from __future__ import annotations

from tgadmin.cli.common import handle_errors


@handle_errors
def run() -> None:
    from tgadmin.dev.main import run_dev  # heavy imports only when the command runs

    run_dev()
