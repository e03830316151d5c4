"""The one place where purchase and transaction status transitions are decided.

Services call `transition()` for an in-memory change. Each table's status has one writer, its
domain's repository `move` (`purchase.repository.move`, `payment.repository.move_transaction`): a
conditional UPDATE `WHERE status IN move_sources(...)`, so a change happens exactly once under
concurrency (payment confirmation).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from tgadmin.errors import InvalidTransition
from tgadmin.models.enums import PurchaseStatus as P
from tgadmin.models.enums import TransactionStatus as T

PURCHASE_TRANSITIONS: dict[P, frozenset[P]] = {
    P.PENDING: frozenset({P.PAID, P.FAILED}),
    P.PAID: frozenset({P.COMPLETED, P.REFUNDED}),
    P.COMPLETED: frozenset({P.EXPIRED, P.REFUNDED}),
    P.FAILED: frozenset(),
    P.REFUNDED: frozenset(),
    P.EXPIRED: frozenset(),
}

TRANSACTION_TRANSITIONS: dict[T, frozenset[T]] = {
    T.PENDING: frozenset({T.PROCESSING, T.PAID, T.FAILED, T.EXPIRED}),
    T.PROCESSING: frozenset({T.PAID, T.FAILED, T.EXPIRED}),
    T.PAID: frozenset({T.REFUNDED}),
    T.FAILED: frozenset(),
    T.REFUNDED: frozenset(),
    T.EXPIRED: frozenset(),
}

S = TypeVar("S", P, T)


class HasStatus(Protocol[S]):
    id: int
    status: S


def _table(status: P | T) -> dict[P, frozenset[P]] | dict[T, frozenset[T]]:
    return PURCHASE_TRANSITIONS if isinstance(status, P) else TRANSACTION_TRANSITIONS


def can_transition(current: S, new: S) -> bool:
    table = _table(current)
    return new in table[current]  # type: ignore[index]


def ensure_transition(current: S, new: S, *, entity: str = "") -> None:
    if not can_transition(current, new):
        kind = entity or ("purchase" if isinstance(current, P) else "transaction")
        raise InvalidTransition(
            f"{kind} cannot go from {current.value} to {new.value}",
            details={"from": current.value, "to": new.value},
        )


def transition(obj: HasStatus[S], new: S) -> S:
    """Move `obj` to `new` or raise InvalidTransition; returns the previous status."""
    previous = obj.status
    ensure_transition(previous, new, entity=f"{type(obj).__name__.lower()} {obj.id}")
    obj.status = new
    return previous


def allowed_sources(new: S) -> frozenset[S]:
    """Statuses from which `new` may be reached: the WHERE clause of a conditional update."""
    table = PURCHASE_TRANSITIONS if isinstance(new, P) else TRANSACTION_TRANSITIONS
    return frozenset(src for src, targets in table.items() if new in targets)


def move_sources(new: S, sources: Iterable[S] | None = None, *, entity: str = "") -> frozenset[S]:
    """The WHERE of a conditional move to `new`: every status allowed to reach it, or `sources`
    once each is checked. InvalidTransition for a source that may not, or a `new` nothing reaches."""
    if sources is None:
        allowed = allowed_sources(new)
    else:
        allowed = frozenset(sources)
        for source in allowed:
            ensure_transition(source, new, entity=entity)
    if not allowed:
        kind = entity or ("purchase" if isinstance(new, P) else "transaction")
        raise InvalidTransition(f"{kind} cannot go to {new.value} from any status", details={"to": new.value})
    return allowed
