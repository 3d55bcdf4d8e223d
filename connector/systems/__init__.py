"""One package per external system. ``open_connection`` finds the package for a system's kind.

Nothing outside a system's package knows its URL shapes or field names: each package
declares itself to :mod:`connector.registry` (config struct, credential kinds, connection
factory, check, webhook receiver), and this module only looks the kind up there.
"""

from __future__ import annotations

from typing import Any

from connector import registry
from connector.config.models import SystemConfigBase
from connector.errors import ConfigurationError
from connector.http.limiter import LimiterRegistry
from connector.vault import Credential


def open_connection(
    config: SystemConfigBase, credential: Credential, limiters: LimiterRegistry
) -> Any:
    """The connection (session, tokens, limiter, client) for one configured system."""
    try:
        spec = registry.system(config.kind)
    except KeyError:
        raise ConfigurationError(f"systems of kind {config.kind!r} are not supported yet") from None
    expected = [kind.name for kind in spec.credential_kinds]
    if expected and credential.kind not in expected:
        raise ConfigurationError(
            f"credential {credential.name!r} is of kind {credential.kind!r}, but a {config.kind} "
            f"system needs one of kind {expected[0]!r}: store it with "
            f"`ml-connector creds set` (or `creds import-ionapi` for Infor)"
        )
    return spec.open_connection(config, credential, limiters)
