"""Every allowed and every refused status transition of purchases and transactions, and their one
writers (`purchase.repository.move`, `payment.repository.move_transaction`) refusing on PostgreSQL
and SQLite what the table refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_purchase, make_transaction
from tgadmin.errors import InvalidTransition
from tgadmin.models import Purchase, Transaction
from tgadmin.models.enums import PurchaseStatus as P
from tgadmin.models.enums import TransactionStatus as T
from tgadmin.models.status import allowed_sources, can_transition, ensure_transition, move_sources
from tgadmin.payment import repository as payment_repository
from tgadmin.purchase import repository as purchase_repository

PURCHASE_ALLOWED = {
    (P.PENDING, P.PAID),
    (P.PAID, P.COMPLETED),
    (P.COMPLETED, P.EXPIRED),
    (P.PENDING, P.FAILED),
    (P.PAID, P.REFUNDED),
    (P.COMPLETED, P.REFUNDED),
}
TRANSACTION_ALLOWED = {
    (T.PENDING, T.PROCESSING),
    (T.PROCESSING, T.PAID),
    (T.PENDING, T.PAID),
    (T.PENDING, T.FAILED),
    (T.PROCESSING, T.FAILED),
    (T.PENDING, T.EXPIRED),
    (T.PROCESSING, T.EXPIRED),
    (T.PAID, T.REFUNDED),
}


@pytest.mark.parametrize(("current", "new"), sorted(product(P, P)))
def test_purchase_transition_is_allowed_exactly_as_the_product_says(current: P, new: P) -> None:
    allowed = (current, new) in PURCHASE_ALLOWED
    assert can_transition(current, new) is allowed
    if allowed:
        ensure_transition(current, new)
    else:
        with pytest.raises(InvalidTransition, match=f"from {current.value} to {new.value}"):
            ensure_transition(current, new)


@pytest.mark.parametrize(("current", "new"), sorted(product(T, T)))
def test_transaction_transition_is_allowed_exactly_as_the_product_says(current: T, new: T) -> None:
    allowed = (current, new) in TRANSACTION_ALLOWED
    assert can_transition(current, new) is allowed
    if not allowed:
        with pytest.raises(InvalidTransition):
            ensure_transition(current, new)


def test_conditional_update_sources_for_paid_are_pending_and_processing() -> None:
    assert allowed_sources(T.PAID) == {T.PENDING, T.PROCESSING}
    assert allowed_sources(P.EXPIRED) == {P.COMPLETED}


def test_move_sources_refuse_a_source_that_cannot_reach_the_status() -> None:
    assert move_sources(P.REFUNDED) == {P.PAID, P.COMPLETED}
    assert move_sources(P.REFUNDED, [P.COMPLETED]) == {P.COMPLETED}
    with pytest.raises(InvalidTransition, match="purchase 3 cannot go from pending to refunded"):
        move_sources(P.REFUNDED, [P.COMPLETED, P.PENDING], entity="purchase 3")
    with pytest.raises(InvalidTransition, match="transaction cannot go to pending from any status"):
        move_sources(T.PENDING)


async def _status_of(session: AsyncSession, purchase_id: int) -> P:
    row = await session.get(Purchase, purchase_id, populate_existing=True)
    assert row is not None
    return row.status


async def test_purchase_move_happens_once_with_its_columns(session: AsyncSession) -> None:
    purchase = await make_purchase(session, status=P.PENDING)
    assert await purchase_repository.move(session, purchase.id, to=P.PAID) is True
    assert await purchase_repository.move(session, purchase.id, to=P.PAID) is False  # the racer's turn
    delivered = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert await purchase_repository.move(session, purchase.id, to=P.COMPLETED, delivered_at=delivered)
    assert await _status_of(session, purchase.id) is P.COMPLETED
    assert purchase.delivered_at == delivered


async def test_purchase_move_leaves_a_purchase_where_the_table_forbids_the_change(
    session: AsyncSession,
) -> None:
    failed = await make_purchase(session, status=P.FAILED)
    for to in (P.PAID, P.COMPLETED, P.REFUNDED, P.EXPIRED):
        assert await purchase_repository.move(session, failed.id, to=to) is False
    assert await _status_of(session, failed.id) is P.FAILED


async def test_purchase_move_refuses_a_wrong_transition_with_a_clear_error(session: AsyncSession) -> None:
    paid = await make_purchase(session, status=P.PAID)
    with pytest.raises(InvalidTransition, match=f"purchase {paid.id} cannot go from paid to expired"):
        await purchase_repository.move(session, paid.id, to=P.EXPIRED, sources=[P.PAID])
    with pytest.raises(InvalidTransition, match="cannot go to pending from any status"):
        await purchase_repository.move(session, paid.id, to=P.PENDING)
    with pytest.raises(TypeError):
        await purchase_repository.move(session, paid.id, to=P.COMPLETED, status=P.EXPIRED)
    assert await _status_of(session, paid.id) is P.PAID


async def test_transaction_move_refuses_a_wrong_transition(session: AsyncSession) -> None:
    tx = await make_transaction(session, await make_purchase(session), status=T.EXPIRED)
    assert await payment_repository.move_transaction(session, tx.id, T.PAID) is False
    with pytest.raises(InvalidTransition, match=f"transaction {tx.id} cannot go to pending"):
        await payment_repository.move_transaction(session, tx.id, T.PENDING)
    row = await session.get(Transaction, tx.id, populate_existing=True)
    assert row is not None and row.status is T.EXPIRED
