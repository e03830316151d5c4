from __future__ import annotations

import typer

from tgadmin.cli.common import handle_errors, run, settings
from tgadmin.models.enums import OperatorRole

app = typer.Typer(no_args_is_help=True)


async def _create(email: str, role: OperatorRole) -> tuple[str, str]:
    from tgadmin.audit.service import Actor
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.operator import service

    cfg = settings()
    engine = create_engine(cfg.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            operator = await service.create_operator(session, email, role, Actor.system("cli"))
            link = await service.issue_magic_link(session, operator)
            return operator.email, service.login_url(cfg.public_url, link.token)
    finally:
        await engine.dispose()


async def _login_link(email: str) -> tuple[str, str]:
    from tgadmin.audit.service import Actor
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.operator import service

    cfg = settings()
    engine = create_engine(cfg.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            link = await service.issue_magic_link_for(session, email, Actor.system("cli"))
            return link.operator.email, service.login_url(cfg.public_url, link.token)
    finally:
        await engine.dispose()


@app.command("create", help="Create a dashboard operator and print a one-time login link.")
@handle_errors
def create(
    email: str = typer.Option(..., "--email", help="The operator's e-mail (login is by magic link)."),
    role: OperatorRole = typer.Option(OperatorRole.OPERATOR, "--role", help="admin, operator or viewer."),
) -> None:
    address, link = run(_create(email, role))
    typer.echo(f"operator {address} ({role.value}) created")
    typer.echo(f"login link (single use, 15 minutes): {link}")


@app.command(
    "login-link",
    help="Print a fresh one-time login link for an existing operator (earlier unused links stop working).",
)
@handle_errors
def login_link(
    email: str = typer.Option(..., "--email", help="The operator's e-mail."),
) -> None:
    address, link = run(_login_link(email))
    typer.echo(f"login link for {address} (single use, 15 minutes): {link}")
