"""The collector's settings inside a publication, and what they leave behind."""

from __future__ import annotations

import gc

from pim.garbage_collection import relaxed_collection, settle


def test_settled_objects_are_frozen_until_the_outermost_block_ends() -> None:
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    kept = [[i] for i in range(1000)]
    with relaxed_collection():
        assert gc.get_threshold()[0] > before[0]
        with relaxed_collection():
            settle()
            assert gc.get_freeze_count() >= len(kept)
        assert gc.get_freeze_count() >= len(kept)  # an inner block keeps them frozen
        settle()  # again: what came since
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
    settle()  # outside a block: nothing
    assert gc.get_freeze_count() == 0


def test_what_the_host_froze_stays_frozen_and_nothing_more_is() -> None:
    gc.freeze()  # as a pre-forking server does before forking its workers
    try:
        host = gc.get_freeze_count()
        with relaxed_collection():
            mine = [[i] for i in range(1000)]
            settle()
            assert gc.get_freeze_count() == host
        assert gc.get_freeze_count() == host
        assert gc.is_tracked(mine[0])
    finally:
        gc.unfreeze()
