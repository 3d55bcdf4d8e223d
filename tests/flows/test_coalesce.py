"""Coalescer: concurrent one-record calls become one call, each caller keeps its own answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import anyio
import pytest

from connector.errors import InDoubtError
from connector.flows.coalesce import Coalescer


async def test_concurrent_calls_share_one_call_and_get_their_own_values() -> None:
    """Twelve concurrent callers with batches of five make three calls; each gets its value,
    a key the call does not answer gets None."""
    seen: list[list[int]] = []

    async def call(keys: Sequence[int]) -> Mapping[int, str]:
        seen.append(list(keys))
        return {key: f"v{key}" for key in keys if key != 11}

    coalescer: Coalescer[int, str] = Coalescer(call, size=5, window_s=0.05)
    results: dict[int, str | None] = {}

    async def ask(key: int) -> None:
        results[key] = await coalescer(key)

    async with anyio.create_task_group() as tg:
        for key in range(12):
            tg.start_soon(ask, key)
    assert sorted(len(keys) for keys in seen) == [2, 5, 5] and coalescer.calls == 3
    assert results == {key: (None if key == 11 else f"v{key}") for key in range(12)}


async def test_a_failed_call_raises_in_every_caller_of_its_batch() -> None:
    """An answer lost for the batch is in doubt for every record in it."""

    async def call(keys: Sequence[int]) -> Mapping[int, str]:
        raise InDoubtError("lost answer")

    coalescer: Coalescer[int, str] = Coalescer(call, size=3, window_s=0.05)
    errors: list[BaseException] = []

    async def ask(key: int) -> None:
        with pytest.raises(InDoubtError) as caught:
            await coalescer(key)
        errors.append(caught.value)

    async with anyio.create_task_group() as tg:
        for key in range(3):
            tg.start_soon(ask, key)
    assert len(errors) == 3 and coalescer.calls == 1


async def test_a_lone_caller_waits_only_the_window() -> None:
    """With nobody to batch with, the call is made once the window has passed."""

    async def call(keys: Sequence[int]) -> Mapping[int, int]:
        return {key: key * 2 for key in keys}

    coalescer: Coalescer[int, int] = Coalescer(call, size=50, window_s=0.01)
    with anyio.fail_after(5):
        assert await coalescer(21) == 42
