"""Fixtures of the reliability harness: soak gating and the figures line.

Every scenario has a normal-size variant that always runs and, where a longer run proves
more, a variant marked ``soak`` that runs only with ``ML_CONNECTOR_SOAK=1`` (``make soak``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests.reliability.support import Figures

ShowFigures = Callable[[Figures], None]


@pytest.fixture(autouse=True)
def _soak_only_when_asked(request: pytest.FixtureRequest) -> None:
    """Skip ``soak`` variants unless ML_CONNECTOR_SOAK=1 (their normal-size twins still run)."""
    if request.node.get_closest_marker("soak") and os.environ.get("ML_CONNECTOR_SOAK") != "1":
        pytest.skip("soak variant: run with ML_CONNECTOR_SOAK=1 (make soak)")


@pytest.fixture
def show_figures(capsys: pytest.CaptureFixture[str]) -> ShowFigures:
    """Print a scenario's figures line past pytest's capture, so plain runs and CI show it."""

    def show(figures: Figures) -> None:
        with capsys.disabled():
            print(f"\n{figures.line()}", flush=True)

    return show
