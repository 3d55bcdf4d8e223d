"""A tenant's configuration: the TOML text stored in its row, completed by the node.

The text names the tenant's systems, flows and mappings; the node supplies the rest (where
the state lives, the vault key, logging), so the same row runs on any node.
"""

from __future__ import annotations

import tomllib

import msgspec

from connector.config import Config, StoreConfig
from connector.config.loader import parse_config
from connector.errors import ConfigurationError
from connector.scale.settings import NodeSettings
from connector.scale.state import tenant_db_path

#: Sections a node decides for every tenant; a tenant's text must leave them out.
NODE_SECTIONS = ("store", "vault", "service")


def tenant_config(settings: NodeSettings, tenant: str, text: str) -> Config:
    """Decode and check ``text`` (ConfigurationError naming the tenant and key if wrong)."""
    source = f"tenant {tenant}"
    config = parse_config(text, source)
    present = [name for name in NODE_SECTIONS if name in tomllib.loads(text)]
    if present:
        raise ConfigurationError(
            f"{source}: [{'], ['.join(present)}] belong to the node's own connector.toml, "
            "not to a tenant (every node must run every tenant); remove them"
        )
    if not config.flows:
        raise ConfigurationError(
            f"{source}: no [flows.NAME] section, so nothing would ever run for this tenant"
        )
    return msgspec.structs.replace(
        config,
        store=StoreConfig(
            path=tenant_db_path(settings, tenant), url=settings.database_url, schema=tenant
        ),
        vault=settings.vault,
        service=settings.service,
    )
