"""`tgadmin import mongo DIR`: the previous system's mongoexport files into this database."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from tgadmin.cli.common import handle_errors, run, settings

app = typer.Typer(no_args_is_help=True)


class Bar:
    """One bar per export file, in bytes read (on stderr: the report on stdout stays clean)."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> Bar:
        self._progress.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._progress.stop()

    def start(self, label: str, total_bytes: int) -> None:
        self._task = self._progress.add_task(label, total=total_bytes)

    def advance(self, done_bytes: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=done_bytes)


async def _import(directory: Path, batch: int, dry_run: bool, bar: Bar) -> list[str]:
    from sqlalchemy.exc import SQLAlchemyError

    from tgadmin.db import create_engine, session_factory
    from tgadmin.errors import ServiceUnavailable
    from tgadmin.mongo_import.service import import_directory

    engine = create_engine(settings().database_url)
    try:
        async with session_factory(engine)() as session:
            report = await import_directory(
                session, directory, commit=session.commit, batch_size=batch, dry_run=dry_run, progress=bar
            )
            if dry_run:
                await session.rollback()
        return report.lines()
    except (SQLAlchemyError, OSError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ServiceUnavailable(f"import: {first}") from None
    finally:
        await engine.dispose()


@app.command(
    "mongo",
    help="Import the previous system's mongoexport files (JSON lines) from DIR; reruns change nothing.",
)
@handle_errors
def mongo(
    directory: Path = typer.Argument(..., help="Folder with models.json, products.json, purchases.json..."),
    batch: int = typer.Option(1000, "--batch", help="Rows per transaction."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and check everything, write nothing."),
) -> None:
    with Bar() as bar:
        lines = run(_import(directory, batch, dry_run, bar))
    for line in lines:
        typer.echo(line)
