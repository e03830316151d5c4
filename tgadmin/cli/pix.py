from __future__ import annotations

import json

import typer

from tgadmin.cli.common import handle_errors
from tgadmin.pix.brcode import build_brcode, parse_amount, parse_brcode

app = typer.Typer(no_args_is_help=True)


@app.command("brcode", help="Print a PIX BR Code (copy-paste) built from the options.")
@handle_errors
def brcode(
    key: str | None = typer.Option(
        None, "--key", help="PIX key: CPF, CNPJ, +55 phone, e-mail or random key (static code)."
    ),
    name: str = typer.Option(..., "--name", help="Merchant name (≤ 25 after ASCII folding)."),
    city: str = typer.Option(..., "--city", help="Merchant city (≤ 15 after ASCII folding)."),
    amount: str | None = typer.Option(
        None, "--amount", help="Amount in reais with two decimals, e.g. 10.00."
    ),
    txid: str | None = typer.Option(None, "--txid", help="Up to 25 letters and digits (static codes)."),
    description: str | None = typer.Option(None, "--description", help="Text shown to the payer."),
    url: str | None = typer.Option(
        None, "--url", help="PSP location without scheme, for a dynamic code (instead of --key)."
    ),
) -> None:
    code = build_brcode(
        key=key,
        url=url,
        name=name,
        city=city,
        amount_cents=None if amount is None else parse_amount(amount),
        txid=txid,
        description=description,
    )
    typer.echo(code)


@app.command("decode", help="Print the fields of a BR Code as JSON; exit 1 for a malformed code.")
@handle_errors
def decode(code: str) -> None:
    typer.echo(json.dumps(parse_brcode(code).as_dict(), indent=2, ensure_ascii=False))
