"""Narrowing for optional and union fields (Telegram's types are full of both): a test names
what it expects to be there, and fails saying so when it is not."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None) -> T:
    """`value`, failing the test when it is None."""
    assert value is not None, "expected a value, got None"
    return value


def of_type(value: object, kind: type[T]) -> T:
    """`value`, failing the test unless it is a `kind`."""
    assert isinstance(value, kind), f"expected a {kind.__name__}, got {value!r}"
    return value
