from __future__ import annotations

from pathlib import Path

import typer
from alembic import command
from alembic.config import Config

from tgadmin.cli.common import handle_errors, settings
from tgadmin.cli.common import run as run_async
from tgadmin.config import Settings
from tgadmin.db import create_engine, ping

app = typer.Typer(no_args_is_help=True)

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade_database(cfg: Settings, revision: str = "head") -> None:
    """Migrate to head, after checking the database answers (a clear line instead of a traceback)."""

    async def _reachable() -> None:
        engine = create_engine(cfg.database_url)
        try:
            await ping(engine)
        finally:
            await engine.dispose()

    run_async(_reachable())
    command.upgrade(alembic_config(cfg.database_url), revision)


@app.command("upgrade", help="Apply every pending migration.")
@handle_errors
def upgrade(revision: str = typer.Argument("head")) -> None:
    cfg = settings()
    upgrade_database(cfg, revision)
    typer.echo(f"database at {revision}")
