"""One module (or package) per pairing. ``build_flow`` finds the pairing of a configured flow
by the kinds of its source and target systems."""

from __future__ import annotations

from typing import Any

from connector.config import Config, FlowConfig, ServiceTitanSystem
from connector.errors import ConfigurationError
from connector.runtime.flow import BuiltFlow
from connector.runtime.supervisor import SystemSupervisor
from connector.store import Store


async def build_flow(
    name: str,
    flow_config: FlowConfig,
    config: Config,
    source: SystemSupervisor[Any],
    target: SystemSupervisor[Any],
    store: Store,
) -> BuiltFlow:
    """Declare the flow for ``(source.kind, target.kind)`` and check the target is usable."""
    pair = (source.kind, target.kind)
    source_config = config.systems[flow_config.source]
    if pair == ("servicetitan", "infor") and isinstance(source_config, ServiceTitanSystem):
        from connector.flows import servicetitan_infor
        from connector.systems.infor import M3Client
        from connector.systems.servicetitan import ServiceTitanClient

        m3: M3Client = target.connection.client
        await m3.validate_company()
        client: ServiceTitanClient = source.connection.client
        return servicetitan_infor.build(name, flow_config, source_config, client, m3, store)
    if pair == ("servicetitan", "acumatica") and isinstance(source_config, ServiceTitanSystem):
        from connector.flows import servicetitan_acumatica
        from connector.systems.acumatica import AcumaticaClient
        from connector.systems.servicetitan import ServiceTitanClient

        acumatica: AcumaticaClient = target.connection.client
        await acumatica.check_endpoint()
        st_client: ServiceTitanClient = source.connection.client
        return servicetitan_acumatica.build(
            name, flow_config, source_config, st_client, acumatica, store
        )
    if pair == ("servicetitan", "syspro") and isinstance(source_config, ServiceTitanSystem):
        from connector.flows import servicetitan_syspro
        from connector.systems.servicetitan import ServiceTitanClient

        servicetitan: ServiceTitanClient = source.connection.client
        # No check here: a SYSPRO check means a logon (a licence seat); `check` does it, and
        # the flow's first call in a cycle fails with the same precise error.
        return servicetitan_syspro.build(
            name, flow_config, source_config, servicetitan, target.connection, store
        )
    raise ConfigurationError(
        f"flow {name}: no pairing of {source.kind} → {target.kind} exists; supported: "
        "servicetitan → infor, servicetitan → acumatica, servicetitan → syspro"
    )
