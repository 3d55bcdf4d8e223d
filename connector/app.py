"""The assembled connector: config, store, vault, one supervisor per system, flow runners.

CLI commands and the service both start from :class:`App`, so a flow run by ``sync`` and by
``run`` is built the same way. Connections open lazily, when a flow first needs them, and
``aclose`` closes every one (revoking tokens where the system supports it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from connector.config import Config
from connector.errors import ConfigurationError
from connector.flows import build_flow
from connector.http.limiter import LimiterRegistry
from connector.runtime.flow import BuiltFlow
from connector.runtime.runner import FlowRunner
from connector.runtime.supervisor import SystemSupervisor
from connector.store import Store, open_store
from connector.systems import open_connection
from connector.vault import Vault, open_vault

log = logging.getLogger("connector.mappings")


async def apply_config_mappings(store: Store, config: Config) -> None:
    """Replace the config's mappings in the store by the file's (a key deleted from the file
    is gone), keeping `review resolve` answers for keys the file does not declare. An
    answer the file overrides is logged, since the operator may not expect it."""
    for override in await store.load_config_mappings(config.mappings):
        log.warning(
            "mapping %s %s: the config says %r, `review resolve` had stored %r; the config "
            "wins (change [mappings.%s] in the config to use the other value)",
            override.kind,
            override.key,
            override.config_value,
            override.cli_value,
            override.kind,
        )


class App:
    def __init__(self, config: Config, store: Store, vault: Vault, *, writer: bool = True) -> None:
        self.config = config
        self.writer = writer
        self.store = store
        self.vault = vault
        self.limiters = LimiterRegistry()
        self.supervisors: dict[str, SystemSupervisor[Any]] = {}
        self.runners: dict[str, FlowRunner] = {}

    @classmethod
    async def open(cls, config: Config, *, writer: bool = True) -> App:
        """Open the store (marking runs a crash left 'running' as interrupted), the vault,
        and make the stored mappings match the config (:func:`apply_config_mappings`).

        A writer holds the state's process lock until :meth:`aclose` (a second writer gets
        :class:`~connector.store.lock.StateLockedError`). ``writer=False`` opens the state
        for reading only, beside a running service: nothing is marked or seeded, and no
        flow may be run.
        """
        store = await open_store(config.store.location, writer=writer, schema=config.store.schema)
        try:
            vault = open_vault(config)
            if writer:
                await store.interrupt_running()
                await apply_config_mappings(store, config)
        except BaseException:
            await store.close()
            raise
        return cls(config, store, vault, writer=writer)

    async def supervisor(self, system: str) -> SystemSupervisor[Any]:
        if system not in self.supervisors:
            try:
                system_config = self.config.systems[system]
            except KeyError:
                raise ConfigurationError(f"no system named {system!r} in the config") from None
            credential = self.vault.get(system_config.credential)
            connection = open_connection(system_config, credential, self.limiters)
            self.supervisors[system] = SystemSupervisor(system, system_config.kind, connection)
        return self.supervisors[system]

    async def runner(self, flow: str) -> FlowRunner:
        """The flow's runner, built on first use (and its target validated, e.g. M3 CONO)."""
        if flow not in self.runners:
            if not self.writer:
                raise ConfigurationError(
                    f"flow {flow} cannot run: this command opened the state read-only"
                )
            built = await self.built_flow(flow)
            flow_config = self.config.flows[flow]
            # Webhook events feed only the streams the config runs; the others' events are
            # left to the drain's handling of event types no stream takes.
            webhook_streams = {
                event: stream
                for event, stream in built.webhook_streams.items()
                if flow_config.streams is None or stream in flow_config.streams
            }
            self.runners[flow] = FlowRunner(
                built.flow,
                self.store,
                webhook_streams=webhook_streams,
                refusal_limit=self.config.service.circuit_breaker_refusals,
            )
        return self.runners[flow]

    async def built_flow(self, flow: str) -> BuiltFlow:
        """The flow's declaration with its connections (and its target validated), without
        a runner: enough for a reader such as ``reconcile``, which writes nothing."""
        try:
            flow_config = self.config.flows[flow]
        except KeyError:
            known = ", ".join(self.config.flows) or "none"
            raise ConfigurationError(
                f"no flow named {flow!r} in the config; configured: {known}"
            ) from None
        if not flow_config.enabled:
            raise ConfigurationError(
                f"flow {flow} is disabled in the config (enabled = false under "
                f"[flows.{flow}]); set enabled = true, or delete that line, to run it"
            )
        source = await self.supervisor(flow_config.source)
        target = await self.supervisor(flow_config.target)
        return await build_flow(flow, flow_config, self.config, source, target, self.store)

    def enabled_flows(self) -> list[str]:
        """The configured flows that may run (``enabled = true``), in config order."""
        return [name for name, flow in self.config.flows.items() if flow.enabled]

    async def streams_to_run(
        self, flow: str, requested: Sequence[str] | None = None
    ) -> list[str] | None:
        """The streams a cycle of ``flow`` runs: those asked for, else the config's
        ``streams``, else None (all of them). A name the flow lacks is a ConfigurationError."""
        runner = await self.runner(flow)
        if not requested:
            configured = self.config.flows[flow].streams
            return None if configured is None else list(configured)
        known = [stream.name for stream in runner.flow.streams]
        for name in requested:
            if name not in known:
                raise ConfigurationError(
                    f"flow {flow} has no stream {name!r}; its streams are: {', '.join(known)}"
                )
        return list(requested)

    async def aclose(self) -> None:
        for supervisor in self.supervisors.values():
            try:
                await supervisor.aclose()
            except Exception:  # noqa: BLE001, S110 - closing is best effort; the store must close
                pass
        await self.store.close()
