"""The sweep's due-row queries read purchases through ix_purchases_status_expires on both backends,
so their cost follows the rows due, not the table (bench/sweep.py measures it at 200,000 rows)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tgadmin.clock import utcnow
from tgadmin.subscription import repository
from tgadmin.subscription.repository import Due
from tgadmin.subscription.service import WarningKind, flag_of


async def test_every_due_query_uses_the_status_expiry_index(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    now = utcnow()
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        for after in (None, Due(1, now + timedelta(days=2))):  # a first page and a next one
            for kind in WarningKind:
                start, until = kind.window(now)
                await repository.due(
                    session,
                    expires_after=start,
                    expires_until=until,
                    unflagged=flag_of(kind),
                    after=after,
                    limit=50,
                )
            await repository.due(
                session, expires_after=None, expires_until=now, unflagged=None, after=after, limit=50
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)

    assert len(captured) == 6
    connection = await session.connection()
    for statement, parameters in captured:
        if engine.dialect.name == "sqlite":
            rows = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = " ".join(str(row) for row in rows.all())
        else:
            # The test table is nearly empty: make the planner show the index it would use at size.
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = await connection.exec_driver_sql("EXPLAIN " + statement, parameters)
            plan = " ".join(str(row[0]) for row in rows.all())
        assert "ix_purchases_status_expires" in plan, plan
