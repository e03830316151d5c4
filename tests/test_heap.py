"""Long-lived processes leave what start-up made out of the collector's full collections: a full
collection walking ~300,000 start-up objects stopped the event loop for 0.3-0.7 s."""

from __future__ import annotations

import gc

from tgadmin.heap import freeze_start_up_heap


def test_what_start_up_made_is_no_longer_walked_by_a_full_collection() -> None:
    made_at_start_up = {"schemas": [1, 2, 3]}
    assert gc.is_tracked(made_at_start_up)
    assert any(o is made_at_start_up for o in gc.get_objects())
    try:
        freeze_start_up_heap()
        assert gc.get_freeze_count() > 0
        assert not any(o is made_at_start_up for o in gc.get_objects())
        made_later = {"update": [4]}
        assert any(o is made_later for o in gc.get_objects())  # what updates make is still collected
    finally:
        gc.unfreeze()
