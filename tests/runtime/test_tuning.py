"""The interpreter settings a connector process starts with."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from connector.runtime import tuning


@pytest.fixture
def fresh_process() -> Iterator[None]:
    """The test process's own collector and switch settings, put back afterwards."""
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    sys.setswitchinterval(interval)
    tuning._tuned = False


def test_process_is_tuned_once(fresh_process: None) -> None:
    """The start-up heap is frozen, the young threshold raised and the GIL switch interval
    shortened; a second call changes nothing an operator or test set since."""
    tuning._tuned = False
    tuning.tune_process()
    assert gc.get_threshold()[0] == tuning.YOUNG_THRESHOLD
    assert sys.getswitchinterval() == pytest.approx(tuning.SWITCH_INTERVAL_S)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gc.set_threshold(700)
    sys.setswitchinterval(0.005)
    tuning.tune_process()
    assert gc.get_threshold()[0] == 700 and gc.get_freeze_count() == frozen
    assert sys.getswitchinterval() == pytest.approx(0.005)
