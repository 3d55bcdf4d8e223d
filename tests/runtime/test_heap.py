"""The collector settings a connector process starts with."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from connector.runtime import heap


@pytest.fixture
def fresh_collector() -> Iterator[None]:
    """The test process's own collector settings, put back afterwards."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    heap._tuned = False


def test_collector_is_tuned_once_per_process(fresh_collector: None) -> None:
    """The start-up heap is frozen and the young threshold raised; a second call keeps both."""
    heap._tuned = False
    heap.tune_collector()
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gc.set_threshold(700)
    heap.tune_collector()
    assert gc.get_threshold()[0] == 700 and gc.get_freeze_count() == frozen
