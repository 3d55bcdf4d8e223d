"""One package per external system. ``open_connection`` picks the package for a system's kind.

Nothing outside a system's package knows its URL shapes or field names; this registry only
maps a configured ``kind`` to that package's ``open_connection``.
"""

from __future__ import annotations

from typing import Any

from connector.config import (
    AcumaticaSystem,
    IfsSystem,
    InforSystem,
    ServiceNowSystem,
    ServiceTitanSystem,
    SysproSystem,
    SystemConfig,
)
from connector.errors import ConfigurationError
from connector.http.limiter import LimiterRegistry
from connector.vault import Credential


def open_connection(config: SystemConfig, credential: Credential, limiters: LimiterRegistry) -> Any:
    """The connection (session, tokens, limiter, client) for one configured system."""
    if credential.kind not in _EXPECTED_KIND.get(config.kind, (credential.kind,)):
        raise ConfigurationError(
            f"credential {credential.name!r} is of kind {credential.kind!r}, but a {config.kind} "
            f"system needs one of kind {_EXPECTED_KIND[config.kind][0]!r}: store it with "
            f"`ml-connector creds set` (or `creds import-ionapi` for Infor)"
        )
    if isinstance(config, ServiceTitanSystem):
        from connector.systems import servicetitan

        return servicetitan.open_connection(config, credential, limiters)
    if isinstance(config, InforSystem):
        from connector.systems import infor

        return infor.open_connection(config, credential, limiters)
    if isinstance(config, AcumaticaSystem):
        from connector.systems import acumatica

        return acumatica.open_connection(config, credential, limiters)
    if isinstance(config, IfsSystem):
        from connector.systems import ifs

        return ifs.open_connection(config, credential, limiters)
    if isinstance(config, ServiceNowSystem):
        from connector.systems import servicenow

        return servicenow.open_connection(config, credential, limiters)
    if isinstance(config, SysproSystem):
        from connector.systems import syspro

        return syspro.open_connection(config, credential, limiters)
    raise ConfigurationError(f"systems of kind {config.kind!r} are not supported yet")


_EXPECTED_KIND = {
    "servicetitan": ("servicetitan",),
    "infor": ("ionapi",),
    "acumatica": ("acumatica",),
    "ifs": ("ifs",),
    # The first is the one recommended in the error message.
    "servicenow": ("servicenow-oauth", "servicenow-refresh-token", "servicenow-basic"),
    "syspro": ("syspro",),
}
