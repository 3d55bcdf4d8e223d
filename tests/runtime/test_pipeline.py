"""The stream pipeline's actors: extractor → mapper → loader over bounded streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import msgspec

from connector.runtime.flow import (
    CursorMark,
    Envelope,
    Flow,
    Found,
    LoadContext,
    MapContext,
    Outcome,
    Stream,
    Written,
)
from connector.runtime.runner import FlowRunner
from connector.store import Store


class Doc(msgspec.Struct, frozen=True):
    id: int


class Held:
    """A target whose writes wait for a gate, as a loader waits on an exhausted rate limit."""

    def __init__(self) -> None:
        self.gate = anyio.Event()
        self.writes = 0

    async def find(self, command: Doc) -> Found | None:
        return None

    async def write(self, command: Doc, existing: Found | None, ctx: LoadContext) -> Written:
        await self.gate.wait()
        self.writes += 1
        return Written(Outcome.CREATED, str(command.id))


async def test_mapping_goes_on_while_the_loader_waits_on_its_rate_limit(tmp_path: Path) -> None:
    """With the only loader stuck on a rate-limited write, the mapper actor still maps the
    records behind it (up to its buffer), so mapping never waits for a loader slot."""
    mapped: list[int] = []
    target = Held()

    async def extract(cursor: str | None, full: bool) -> AsyncIterator[Envelope[Doc] | CursorMark]:
        for i in range(1, 21):
            yield Envelope(str(i), Doc(i))

    def map_doc(doc: Doc, ctx: MapContext) -> Doc:
        mapped.append(doc.id)
        return doc

    stream: Stream[Doc, Doc] = Stream(
        name="docs",
        extract=extract,
        fetch=lambda source_id: _none(),
        decode=lambda raw: msgspec.json.decode(raw, type=Doc),
        encode=msgspec.json.encode,
        map=map_doc,
        target=target,
        workers=1,
    )
    store = await Store.open(tmp_path / "state.db")
    try:
        runner = FlowRunner(Flow("pipeline-test", (stream,)), store, buffer=64)
        async with anyio.create_task_group() as tg:
            tg.start_soon(runner.cycle)
            with anyio.fail_after(10):
                while len(mapped) < 20:
                    await anyio.sleep(0.01)
            assert target.writes == 0  # the loader is still waiting on its first write
            target.gate.set()
        assert target.writes == 20
    finally:
        await store.close()


async def _none() -> Doc | None:
    return None
