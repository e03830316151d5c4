from __future__ import annotations

from datetime import datetime

import typer

from tgadmin.cli.common import handle_errors, run, settings
from tgadmin.clock import ensure_utc
from tgadmin.errors import BadRequest

app = typer.Typer(no_args_is_help=True)


def parse_moment(value: str, option: str) -> datetime:
    """An ISO 8601 timestamp as UTC (no offset means UTC)."""
    try:
        return ensure_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise BadRequest(
            f"{option}: {value!r} is not an ISO 8601 timestamp (e.g. 2026-12-01T09:00:00Z)"
        ) from None


async def _backfill(start: datetime, end: datetime, quiet: bool) -> str:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from sqlalchemy.exc import SQLAlchemyError

    from tgadmin.analytics import service
    from tgadmin.db import create_engine, session_factory
    from tgadmin.errors import ServiceUnavailable

    hours = service.backfill_hours(start, end)
    engine = create_engine(settings().database_url)
    sessions = session_factory(engine)
    rows = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, disable=quiet, transient=False) as progress:
            task = progress.add_task("hours", total=len(hours))
            for hour in hours:
                # One commit per hour: an interrupted backfill keeps the hours it finished.
                async with sessions() as session:
                    rows += len(await service.aggregate_hour(session, hour))
                    await session.commit()
                progress.update(task, advance=1, description=f"{hour:%Y-%m-%d %H:00}Z")
    except SQLAlchemyError as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ServiceUnavailable(f"analytics backfill: {first}") from None
    finally:
        await engine.dispose()
    return (
        f"recomputed {len(hours)} hours from {hours[0].isoformat()} to"
        f" {(hours[-1] + service.HOUR).isoformat()}: {rows} rows"
    )


@app.command("backfill", help="Recompute the hourly analytics of every hour in [--from, --to).")
@handle_errors
def backfill(
    start: str = typer.Option(..., "--from", help="ISO timestamp (no offset: UTC); its hour is included."),
    end: str = typer.Option(..., "--to", help="ISO timestamp (no offset: UTC); hours up to it, not over."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    typer.echo(run(_backfill(parse_moment(start, "--from"), parse_moment(end, "--to"), quiet)))
