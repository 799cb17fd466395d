"""The collector's settings inside a publication, and what they leave behind."""

from __future__ import annotations

import gc
from collections.abc import Iterator

from pim.garbage_collection import relaxed_collection, settle, settled


def test_settled_objects_are_frozen_until_the_outermost_block_ends() -> None:
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    kept = [[i] for i in range(1000)]
    with relaxed_collection(), settled():
        assert gc.get_threshold()[0] > before[0]
        with relaxed_collection(), settled():
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
        with settled():
            mine = [[i] for i in range(1000)]
            settle()
            assert gc.get_freeze_count() == host
        assert gc.get_freeze_count() == host
        assert gc.is_tracked(mine[0])
    finally:
        gc.unfreeze()


def test_an_unfinished_generator_does_not_keep_objects_frozen() -> None:
    """A generator streaming in a relaxed block and left unfinished keeps that block open;
    what a publication froze is unfrozen when the publication ends all the same."""

    def streaming() -> Iterator[int]:
        with relaxed_collection():
            yield 1
            yield 2

    left = streaming()
    with settled():
        next(left)
        settle()
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    left.close()
