"""One package per pairing. ``build_flow`` finds the pairing of a configured flow by the
kinds of its source and target systems, in :mod:`connector.registry`, where each flow
package declares itself (its name, kinds, streams and build function)."""

from __future__ import annotations

from typing import Any

from connector import registry
from connector.config import Config, FlowConfig
from connector.errors import ConfigurationError
from connector.runtime.flow import BuiltFlow
from connector.runtime.supervisor import SystemSupervisor
from connector.store import Store


def stream_names(source_kind: str, target_kind: str) -> tuple[str, ...] | None:
    """The streams of the pairing between these system kinds, in the order a cycle runs
    them (what a flow's ``streams`` key may name); None when no such pairing exists."""
    pairing = registry.pairing(source_kind, target_kind)
    return None if pairing is None else pairing.streams


async def build_flow(
    name: str,
    flow_config: FlowConfig,
    config: Config,
    source: SystemSupervisor[Any],
    target: SystemSupervisor[Any],
    store: Store,
) -> BuiltFlow:
    """Declare the flow for ``(source.kind, target.kind)`` and check the target is usable
    (the pairing's own build does both, e.g. M3 CONO)."""
    pairing = registry.pairing(source.kind, target.kind)
    if pairing is None:
        supported = ", ".join(f"{p.source_kind} → {p.target_kind}" for p in registry.pairings())
        raise ConfigurationError(
            f"flow {name}: no pairing of {source.kind} → {target.kind} exists; supported: "
            f"{supported}"
        )
    return await pairing.build(name, flow_config, config, source, target, store)
