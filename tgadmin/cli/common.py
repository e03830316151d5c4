"""What every CLI command shares: async entry, one-line errors, settings loading."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import typer

from tgadmin.config import Settings, get_settings
from tgadmin.errors import ConfigError, TgadminError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected errors end the command with one line on stderr and a non-zero status."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConfigError as error:
            raise fail(error.message, 2) from None
        except TgadminError as error:
            raise fail(error.message) from None
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


def settings() -> Settings:
    return get_settings()
