"""Fixtures of the command tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connector import demo
from tests.commands.support import tiny_contractor


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """A tiny seeded contractor for the servicetitan-infor flow (see support.py)."""
    environment = await tiny_contractor(tmp_path / "state")
    yield environment
    await environment.stop()
