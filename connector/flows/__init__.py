"""One module (or package) per pairing. ``build_flow`` finds the pairing of a configured flow
by the kinds of its source and target systems."""

from __future__ import annotations

from typing import Any

from connector.config import Config, FlowConfig, ServiceTitanSystem
from connector.errors import ConfigurationError
from connector.runtime.flow import BuiltFlow
from connector.runtime.supervisor import SystemSupervisor
from connector.store import Store


def stream_names(source_kind: str, target_kind: str) -> tuple[str, ...] | None:
    """The streams of the pairing between these system kinds, in the order a cycle runs
    them (what a flow's ``streams`` key may name); None when no such pairing exists."""
    if (source_kind, target_kind) == ("servicetitan", "infor"):
        from connector.flows import servicetitan_infor

        return servicetitan_infor.STREAMS
    if (source_kind, target_kind) == ("servicetitan", "acumatica"):
        from connector.flows import servicetitan_acumatica

        return servicetitan_acumatica.STREAMS
    if (source_kind, target_kind) == ("infor", "servicenow"):
        from connector.flows import infor_servicenow

        return infor_servicenow.STREAMS
    return None


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
    target_config = config.systems[flow_config.target]
    if pair == ("ifs", "servicetitan") and isinstance(target_config, ServiceTitanSystem):
        from connector.flows import ifs_servicetitan
        from connector.systems.ifs import IfsClient
        from connector.systems.servicetitan import ServiceTitanClient

        ifs: IfsClient = source.connection.client
        await ifs.check()
        st_target: ServiceTitanClient = target.connection.client
        return ifs_servicetitan.build(name, flow_config, target_config, ifs, st_target, store)
    if pair == ("infor", "servicenow"):
        from connector.flows import infor_servicenow
        from connector.systems.infor import M3Client
        from connector.systems.servicenow import ServiceNowClient

        source_m3: M3Client = source.connection.client
        await source_m3.validate_company()
        sn: ServiceNowClient = target.connection.client
        await sn.check_plugin()
        return infor_servicenow.build(name, flow_config, source_m3, sn)
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
        "servicetitan → infor, servicetitan → acumatica, servicetitan → syspro, "
        "ifs → servicetitan, infor → servicenow"
    )
