"""All SQL of the import: the ObjectId mapping, lookups by natural key, and the batch writes."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Bot, MongoId, TelegramUser


def _among(session: AsyncSession, column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL as `= ANY(array)`: one parameter, so one prepared statement
    serves every batch (a thousand-parameter IN is prepared anew for each, and that dominated)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def table_of(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_MONGO_IDS = table_of(MongoId)


async def mapped_ids(
    session: AsyncSession, collection: str, object_ids: Collection[str]
) -> dict[str, tuple[int, str]]:
    """object id -> (our id, the run that last read it), for those imported before."""
    if not object_ids:
        return {}
    rows = await session.execute(
        select(MongoId.object_id, MongoId.our_id, MongoId.run_id).where(
            MongoId.collection == collection, _among(session, _MONGO_IDS.c.object_id, object_ids)
        )
    )
    return {oid: (our_id, run_id) for oid, our_id, run_id in rows}


async def users_by_telegram_id(session: AsyncSession, telegram_ids: Collection[int]) -> dict[int, int]:
    if not telegram_ids:
        return {}
    rows = await session.execute(
        select(TelegramUser.telegram_id, TelegramUser.id).where(
            _among(session, table_of(TelegramUser).c.telegram_id, telegram_ids)
        )
    )
    return {telegram_id: our_id for telegram_id, our_id in rows}


async def ids_by_natural_key(
    session: AsyncSession, table: Table, columns: Sequence[str], keys: Collection[tuple[Any, ...]]
) -> dict[tuple[Any, ...], int]:
    """Rows already in our table (made here, or by an earlier system) named the same way."""
    if not keys:
        return {}
    cols = [table.c[name] for name in columns]
    if len(cols) == 1:
        condition = _among(session, cols[0], [key[0] for key in keys])
    else:
        condition = tuple_(*cols).in_(list(keys))
    rows = await session.execute(select(table.c.id, *cols).where(condition))
    return {tuple(row[1:]): row[0] for row in rows}


async def current_values(
    session: AsyncSession, table: Table, ids: Collection[int], columns: Iterable[str]
) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    names = list(columns)
    rows = await session.execute(
        select(table.c.id, *(table.c[name] for name in names)).where(_among(session, table.c.id, ids))
    )
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


async def insert_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """One multi-row INSERT; the new ids in the order of `rows`."""
    if not rows:
        return []
    result = await session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return list(result.scalars().all())


async def update_row(session: AsyncSession, table: Table, row_id: int, values: dict[str, Any]) -> None:
    await session.execute(update(table).where(table.c.id == row_id).values(values))


async def insert_mappings(
    session: AsyncSession, collection: str, pairs: Sequence[tuple[str, int]], run_id: str
) -> None:
    if pairs:
        await session.execute(
            insert(table_of(MongoId)),
            [
                {"collection": collection, "object_id": oid, "our_id": our_id, "run_id": run_id}
                for oid, our_id in pairs
            ],
        )


async def mark_read(session: AsyncSession, collection: str, object_ids: Collection[str], run_id: str) -> None:
    if object_ids:
        await session.execute(
            update(MongoId)
            .where(MongoId.collection == collection, _among(session, _MONGO_IDS.c.object_id, object_ids))
            .values(run_id=run_id)
        )


async def first_bot_id(session: AsyncSession) -> int | None:
    """The bot imported groups belong to: the old system had one bot (its token in Settings)."""
    return (await session.execute(select(Bot.id).order_by(Bot.id).limit(1))).scalar_one_or_none()
