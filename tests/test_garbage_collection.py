"""The collector's settings inside a publication, and what they leave behind."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from pim.garbage_collection import relaxed_collection, settle, settled, start_worker


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


def _job_in_worker() -> tuple[int, int, int]:
    """What a job sees: the frozen count it starts with, after it settles, after it ends."""
    start = gc.get_freeze_count()
    with settled():
        loaded = [[i] for i in range(1000)]
        settle()
        during = gc.get_freeze_count()
    assert loaded
    return start, during, gc.get_freeze_count()


def test_a_publications_own_worker_freezes_what_its_jobs_load_and_never_unfreezes() -> None:
    """Forked from a publication that froze its heap, a worker it started freezes what a
    job loads too (else each full collection scans it) and keeps it all frozen: unfreezing
    would hand its copy of the parent's heap to the collector. A worker it did not start
    (another executor's) freezes nothing, as a host's process does."""
    context = multiprocessing.get_context("fork")
    parent = [[i] for i in range(1000)]
    with settled():
        settle()
        frozen = gc.get_freeze_count()
        with ProcessPoolExecutor(1, mp_context=context, initializer=start_worker) as pool:
            start, during, after = pool.submit(_job_in_worker).result()
            again = pool.submit(_job_in_worker).result()
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            foreign = pool.submit(_job_in_worker).result()
    assert parent
    assert start > frozen // 2  # the parent's heap, inherited frozen
    assert during >= start + 1000
    assert after > during - 100  # not unfrozen (a few frozen objects freed since)
    assert again[0] > frozen // 2 and again[1] >= again[0] + 1000  # the next job alike
    assert foreign[1] == foreign[0] == foreign[2]  # nothing more frozen
    assert gc.get_freeze_count() == 0
