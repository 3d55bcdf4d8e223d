"""The toy pairing ``toy-copy``: items of one toy bucket copied into another, exactly once.

A flow package's whole declaration: its streams, its build function (the signature of
:func:`connector.flows.build_flow`), and one ``register_pairing``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from connector.config import Config, FlowConfig
from connector.registry import PairingSpec, register_pairing
from connector.runtime.flow import (
    BuiltFlow,
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
from connector.runtime.supervisor import SystemSupervisor
from connector.store import Store
from tests.toy.system import KIND, Item, ToyClient

NAME = "toy-copy"
ITEMS = "items"
STREAMS = (ITEMS,)


class PutItem(msgspec.Struct, frozen=True):
    id: str
    name: str
    price: float


def map_item(item: Item, ctx: MapContext) -> PutItem:
    """Pure: the target's copy, its name through the ``toy_names`` mapping if there is one."""
    return PutItem(id=item.id, name=ctx.lookup("toy_names", item.name) or item.name,
                   price=item.price)


class ItemTarget:
    """Natural key: the item id."""

    def __init__(self, client: ToyClient) -> None:
        self.client = client

    async def find(self, command: PutItem) -> Found | None:
        existing = await self.client.get(command.id)
        if existing is None:
            return None
        same = (existing.name, existing.price) == (command.name, command.price)
        return Found(existing.id, matches=same)

    async def write(self, command: PutItem, existing: Found | None, ctx: LoadContext) -> Written:
        await self.client.put(Item(command.id, command.name, command.price))
        outcome = Outcome.CREATED if existing is None else Outcome.UPDATED
        return Written(outcome, command.id)


def build(name: str, source: ToyClient, target: ToyClient, workers: int) -> BuiltFlow:
    async def extract(cursor: str | None, full: bool) -> AsyncIterator[Envelope[Item] | CursorMark]:
        for item in await source.list():
            yield Envelope(item.id, item)

    stream: Stream[Item, PutItem] = Stream(
        name=ITEMS,
        extract=extract,
        fetch=source.get,
        decode=lambda payload: msgspec.json.decode(payload, type=Item),
        encode=msgspec.json.encode,
        map=map_item,
        target=ItemTarget(target),
        reference=True,
        workers=workers,
    )
    return BuiltFlow(Flow(name, (stream,)), {"item": ITEMS})


async def build_flow(
    name: str,
    flow_config: FlowConfig,
    config: Config,
    source: SystemSupervisor[Any],
    target: SystemSupervisor[Any],
    store: Store,
) -> BuiltFlow:
    # Like M3's CONO check: prove the target answers before the flow is declared.
    await target.connection.client.list()
    return build(name, source.connection.client, target.connection.client, flow_config.workers)


register_pairing(
    PairingSpec(name=NAME, source_kind=KIND, target_kind=KIND, streams=STREAMS, build=build_flow)
)
