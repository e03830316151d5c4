"""Every allowed and every refused status transition of purchases and transactions."""

from __future__ import annotations

from itertools import product

import pytest

from tgadmin.errors import InvalidTransition
from tgadmin.models.enums import PurchaseStatus as P
from tgadmin.models.enums import TransactionStatus as T
from tgadmin.models.status import allowed_sources, can_transition, ensure_transition

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
