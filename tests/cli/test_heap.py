"""A run's own process settles its heap before the calls: what is loaded is frozen out of the
collector's walks, and the young generation is collected less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from modelup._cli.heap import YOUNG_THRESHOLD, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_settling_freezes_what_is_alive_and_raises_the_young_threshold() -> None:
    gc.unfreeze()
    middle, old = gc.get_threshold()[1:]
    alive = [object() for _ in range(10)]
    settle_heap()
    assert gc.get_freeze_count() > len(alive)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
