"""The import: each collection's export file, in reference order, in batches; every row either
imported whole (the row and its ObjectId mapping) or skipped with a reason naming file and line."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.errors import BadRequest
from tgadmin.models import Creator, Group, Product, Purchase, TelegramUser, Transaction
from tgadmin.mongo_import import repository
from tgadmin.mongo_import.mapping import (
    Mapper,
    Ref,
    Row,
    Skip,
    dropped_fields,
    map_creator,
    map_group,
    map_product,
    map_purchase,
    map_telegram_user,
    map_transaction,
    unknown_fields,
)
from tgadmin.mongo_import.reader import file_size, read_lines

SUFFIXES = (".json", ".jsonl", ".ndjson")
# Skipped rows named one by one in the report, per collection (the counts are always whole).
EXAMPLES = 50
# Referenced rows' ids kept between batches (about 100 bytes each).
TARGETS_KEPT = 100_000


@dataclass(frozen=True)
class Spec:
    name: str
    # Export file names (without suffix) this collection is read from; Mongoose's own first.
    files: tuple[str, ...]
    model: type[Any]
    mapper: Mapper


# Reference order: a row's references are imported before it.
COLLECTIONS = (
    Spec("creators", ("models", "creators"), Creator, map_creator),
    Spec("telegram_users", ("telegramusers", "telegram_users", "users"), TelegramUser, map_telegram_user),
    Spec("groups", ("groups",), Group, map_group),
    Spec("products", ("products",), Product, map_product),
    Spec("purchases", ("purchases",), Purchase, map_purchase),
    Spec("transactions", ("transactions",), Transaction, map_transaction),
)


class Progress(Protocol):
    """Where the import says how far it is (the CLI draws a bar)."""

    def start(self, label: str, total_bytes: int) -> None: ...

    def advance(self, done_bytes: int) -> None: ...


class NoProgress:
    def start(self, label: str, total_bytes: int) -> None:
        pass

    def advance(self, done_bytes: int) -> None:
        pass


@dataclass
class CollectionReport:
    name: str
    files: list[str] = field(default_factory=list)
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    unknown_fields: Counter[str] = field(default_factory=Counter)
    dropped_fields: Counter[str] = field(default_factory=Counter)

    def skip(self, where: str, reason: str, detail: str = "") -> None:
        self.skipped += 1
        self.reasons[reason] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"{where}: {reason}" + (f" ({detail})" if detail else ""))

    def lines(self) -> list[str]:
        head = (
            f"{self.name} ({', '.join(self.files)}): {self.imported} imported, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )
        out = [head]
        out += [f"  skipped {count}: {reason}" for reason, count in self.reasons.most_common()]
        out += [f"    {example}" for example in sorted(self.examples, key=_by_file_and_line)]
        if self.skipped > len(self.examples):
            out.append(f"    ... and {self.skipped - len(self.examples)} more")
        out += [
            f"  unknown field {name!r} ignored in {n} rows" for name, n in sorted(self.unknown_fields.items())
        ]
        out += [
            f"  field {name!r} has no counterpart, not imported ({n} rows)"
            for name, n in sorted(self.dropped_fields.items())
        ]
        return out


@dataclass
class ImportReport:
    dry_run: bool
    collections: list[CollectionReport] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    def of(self, name: str) -> CollectionReport:
        return next(report for report in self.collections if report.name == name)

    def lines(self) -> list[str]:
        out = [line for report in self.collections for line in report.lines()]
        out += [f"ignored {name}: not an export of a known collection" for name in self.ignored_files]
        totals = [
            sum(getattr(c, kind) for c in self.collections)
            for kind in ("imported", "updated", "unchanged", "skipped")
        ]
        out.append("total: {} imported, {} updated, {} unchanged, {} skipped".format(*totals))
        if self.dry_run:
            out.append("dry run: nothing was written")
        return out


@dataclass
class _Context:
    session: AsyncSession
    run_id: str
    bot_id: int | None
    targets: dict[tuple[str, str | int], int] = field(default_factory=dict)


@dataclass
class _Pending:
    where: str
    row: Row


def export_files(directory: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Each collection's export files in `directory`, and the names of files that are none."""
    if not directory.is_dir():
        raise BadRequest(f"{directory}: not a directory")
    by_stem = {spec_file: spec.name for spec in COLLECTIONS for spec_file in spec.files}
    found: dict[str, list[Path]] = {spec.name: [] for spec in COLLECTIONS}
    ignored = []
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        if path.suffix.lower() in SUFFIXES and path.stem.lower() in by_stem:
            found[by_stem[path.stem.lower()]].append(path)
        else:
            ignored.append(path.name)
    if not any(found.values()):
        names = ", ".join(f"{spec.files[0]}.json" for spec in COLLECTIONS)
        raise BadRequest(f"{directory}: no mongoexport files ({names})")
    return found, ignored


async def import_directory(
    session: AsyncSession,
    directory: Path,
    *,
    commit: Callable[[], Awaitable[None]],
    batch_size: int = 1000,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every export file in `directory`; `commit` runs after each batch (not in a dry run:
    the caller rolls the whole run back)."""
    if batch_size < 1:
        raise BadRequest("--batch must be at least 1")
    found, ignored = export_files(directory)
    report = ImportReport(dry_run=dry_run, ignored_files=ignored)
    context = _Context(session, uuid.uuid4().hex, await repository.first_bot_id(session))
    for spec in COLLECTIONS:
        collection = CollectionReport(spec.name, [path.name for path in found[spec.name]])
        report.collections.append(collection)
        for path in found[spec.name]:
            await _import_file(
                context, spec, path, collection, progress or NoProgress(), batch_size, commit, dry_run
            )
    return report


async def _import_file(
    context: _Context,
    spec: Spec,
    path: Path,
    report: CollectionReport,
    progress: Progress,
    batch_size: int,
    commit: Callable[[], Awaitable[None]],
    dry_run: bool,
) -> None:
    progress.start(f"{spec.name} ({path.name})", file_size(path))
    batch: list[_Pending] = []
    for line in read_lines(path):
        where = f"{path.name}:{line.number}"
        if line.document is None:
            report.skip(where, "broken line", line.error or "")
            continue
        report.unknown_fields.update(unknown_fields(spec.name, line.document))
        report.dropped_fields.update(dropped_fields(spec.name, line.document))
        try:
            batch.append(_Pending(where, spec.mapper(line.document)))
        except Skip as skip:
            report.skip(where, skip.reason, skip.detail)
        if len(batch) >= batch_size:
            await _write_batch(context, spec, batch, report)
            if not dry_run:
                await commit()
            batch = []
            progress.advance(line.offset)
    if batch:
        await _write_batch(context, spec, batch, report)
        if not dry_run:
            await commit()
    progress.advance(file_size(path))


async def _write_batch(
    context: _Context, spec: Spec, batch: list[_Pending], report: CollectionReport
) -> None:
    """The batch in one savepoint; if the database refuses it, row by row, each in its own."""
    ready, known = await _resolve(context, spec, batch, report)
    if not ready:
        return
    session = context.session
    try:
        async with session.begin_nested():
            outcomes = await _store(context, spec, ready, known)
    except SQLAlchemyError:
        outcomes = []
        for pending in ready:
            try:
                async with session.begin_nested():
                    outcomes += await _store(context, spec, [pending], known)
            except SQLAlchemyError as error:
                report.skip(pending.where, "refused by the database", _first_line(error))
    for outcome in outcomes:
        setattr(report, outcome, getattr(report, outcome) + 1)


async def _resolve(
    context: _Context, spec: Spec, batch: list[_Pending], report: CollectionReport
) -> tuple[list[_Pending], dict[str, int]]:
    """Fill each row's references with our ids; skip duplicates and rows whose references are missing."""
    session = context.session
    first_seen: dict[str, str] = {}
    unique: list[_Pending] = []
    for pending in batch:
        oid = pending.row.object_id
        if oid in first_seen:
            report.skip(pending.where, "duplicate _id", f"{oid}, first at {first_seen[oid]}")
            continue
        first_seen[oid] = pending.where
        unique.append(pending)
    read_before = await repository.mapped_ids(session, spec.name, first_seen)
    targets = await _reference_targets(context, unique)
    ready = []
    for pending in unique:
        row = pending.row
        if read_before.get(row.object_id, (0, ""))[1] == context.run_id:
            report.skip(pending.where, "duplicate _id", f"{row.object_id}, read earlier in this run")
            continue
        try:
            _fill(context, spec, row, targets)
        except Skip as skip:
            report.skip(pending.where, skip.reason, skip.detail)
            continue
        ready.append(pending)
    return ready, {oid: our_id for oid, (our_id, _run) in read_before.items()}


_Targets = dict[tuple[str, str | int], int]


async def _reference_targets(context: _Context, batch: Sequence[_Pending]) -> _Targets:
    """Our ids of what the batch refers to. Kept between batches (a million purchases name the same
    thousand products), up to a bound that keeps memory flat; only rows of earlier collections are
    kept, and those no later batch rolls back."""
    needed = {_target_key(ref) for pending in batch for ref in pending.row.refs}
    cache = context.targets
    if len(cache) + len(needed) > TARGETS_KEPT:
        cache.clear()
    wanted: dict[str, set[Any]] = {}
    for collection, key in needed - cache.keys():
        wanted.setdefault(collection, set()).add(key)
    for collection, keys in wanted.items():
        if collection == "telegram_id":
            cache.update(
                {
                    (collection, tid): our_id
                    for tid, our_id in (await repository.users_by_telegram_id(context.session, keys)).items()
                }
            )
        else:
            found = await repository.mapped_ids(context.session, collection, keys)
            cache.update({(collection, oid): our_id for oid, (our_id, _run) in found.items()})
    return cache


def _target_key(ref: Ref) -> tuple[str, str | int]:
    if ref.object_id is not None:
        return ref.collection, ref.object_id
    return "telegram_id", ref.telegram_id or 0


def _fill(context: _Context, spec: Spec, row: Row, targets: _Targets) -> None:
    for ref in row.refs:
        key = _target_key(ref)
        if key not in targets:
            name = ref.collection.removesuffix("s").replace("_", " ")
            raise Skip(f"{name} not imported", f"{ref.column.removesuffix('_id')} {key[1]}")
        row.values[ref.column] = targets[key]
    if spec.model is Group:
        if context.bot_id is None:
            raise Skip("no bot in the database to own the group (set TELEGRAM_BOT_TOKEN and start once)")
        row.values["bot_id"] = context.bot_id


async def _store(context: _Context, spec: Spec, batch: list[_Pending], known: dict[str, int]) -> list[str]:
    """Insert new rows, update changed ones, record the mapping; one outcome per row. `known`: the
    mapping as it was before the batch (a refused batch is rolled back to just that)."""
    session, table = context.session, repository.table_of(spec.model)
    rows = [pending.row for pending in batch]
    ours = {row.object_id: known[row.object_id] for row in rows if row.object_id in known}
    mapped_before = set(ours)
    adopted = await _adopt(session, table, [row for row in rows if row.object_id not in ours])
    ours.update(adopted)
    new = [row for row in rows if row.object_id not in ours]
    for group in _same_columns(new):
        ids = await repository.insert_rows(session, table, [row.values for row in group])
        ours.update(zip((row.object_id for row in group), ids, strict=True))
    outcomes = {row.object_id: "imported" for row in new}
    old = [row for row in rows if row.object_id not in outcomes]
    outcomes.update(await _update_changed(session, table, old, ours))
    await repository.insert_mappings(
        session, spec.name, [(oid, ours[oid]) for oid in ours if oid not in mapped_before], context.run_id
    )
    await repository.mark_read(session, spec.name, mapped_before, context.run_id)
    return [outcomes[row.object_id] for row in rows]


async def _adopt(session: AsyncSession, table: Table, rows: list[Row]) -> dict[str, int]:
    """Rows without a mapping that name a row we already have (a creator's username...)."""
    keyed = [row for row in rows if row.natural_key]
    if not keyed:
        return {}
    columns = keyed[0].natural_key
    keys = {tuple(row.values[name] for name in columns): row.object_id for row in keyed}
    found = await repository.ids_by_natural_key(session, table, columns, set(keys))
    return {keys[key]: our_id for key, our_id in found.items() if key in keys}


async def _update_changed(
    session: AsyncSession, table: Table, rows: list[Row], ours: dict[str, int]
) -> dict[str, str]:
    if not rows:
        return {}
    columns = {name for row in rows for name in row.values}
    current = await repository.current_values(session, table, [ours[row.object_id] for row in rows], columns)
    outcomes = {}
    for row in rows:
        our_id = ours[row.object_id]
        now = current.get(our_id, {})
        changed = {name: value for name, value in row.values.items() if now.get(name) != value}
        if changed:
            await repository.update_row(session, table, our_id, changed)
        outcomes[row.object_id] = "updated" if changed else "unchanged"
    return outcomes


def _same_columns(rows: list[Row]) -> list[list[Row]]:
    # One multi-row INSERT needs the same columns in every row.
    groups: dict[frozenset[str], list[Row]] = {}
    for row in rows:
        groups.setdefault(frozenset(row.values), []).append(row)
    return list(groups.values())


def _by_file_and_line(example: str) -> tuple[str, int]:
    name, _, rest = example.partition(":")
    number = rest.partition(":")[0]
    return name, int(number) if number.isdigit() else 0


def _first_line(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
