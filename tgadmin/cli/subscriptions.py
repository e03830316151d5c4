from __future__ import annotations

from datetime import datetime

import typer

from tgadmin.cli.common import handle_errors, run, settings
from tgadmin.clock import ensure_utc
from tgadmin.errors import BadRequest

app = typer.Typer(no_args_is_help=True)


def parse_now(value: str | None) -> datetime | None:
    """`--now` as a UTC datetime (ISO 8601; no offset means UTC)."""
    if value is None:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise BadRequest(
            f"--now: {value!r} is not an ISO 8601 timestamp (e.g. 2026-12-01T09:00:00Z)"
        ) from None


async def _sweep(now: datetime | None) -> str:
    from redis.exceptions import RedisError
    from sqlalchemy.exc import SQLAlchemyError

    from tgadmin.clock import frozen_at, utcnow
    from tgadmin.db import create_engine, session_factory
    from tgadmin.errors import ServiceUnavailable
    from tgadmin.queue.client import connection_url
    from tgadmin.redis import client as redis_client
    from tgadmin.subscription.jobs import sweep
    from tgadmin.telegram.client import BotClients
    from tgadmin.telegram.gateway import Gateway
    from tgadmin.worker.events import DomainEvents

    cfg = settings()
    engine = create_engine(cfg.database_url)
    sessions = session_factory(engine)
    redis = redis_client(connection_url(cfg))
    clients = BotClients(cfg, sessions)
    try:
        # Everything that asks the clock (audit times, the gateway's records) sees the same `now`.
        with frozen_at(now or utcnow()):
            async with sessions() as session:
                summary = await sweep(
                    session,
                    Gateway.create(cfg, redis, clients, DomainEvents()),
                    session.commit,
                    now=now,
                    batch_size=cfg.subscription_batch_size,
                )
        return summary.line()
    except (SQLAlchemyError, RedisError, OSError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ServiceUnavailable(f"subscription sweep: {first}") from None
    finally:
        await clients.close()
        await redis.aclose()
        await engine.dispose()


@app.command("sweep", help="Run one subscription sweep: 7-day and 1-day warnings, then expiry.")
@handle_errors
def sweep(now: str | None = typer.Option(None, "--now", help="ISO timestamp overriding the clock.")) -> None:
    moment = parse_now(now)
    typer.echo(run(_sweep(moment)))
