"""Where a tenant's state lives: the one seam between the cluster and the store.

Each tenant has its own state (ledger, audit, cursors, inbox, runs, mappings) in its own
schema of the cluster's PostgreSQL database, the one Procrastinate's jobs live in: every node
reaches every tenant's state, whatever machine it runs on. The tenant lock of
:mod:`connector.scale.jobs` keeps one node at a time on a tenant; the job also takes the
store's advisory lock for the tenant's schema, so a writing command run by hand beside the
cluster is refused exactly as beside a single service, and a SIGKILLed node's lock goes
with its connection (its claims are then taken over at once, not after their lease).
Only the vault (the tenant's credentials) stays a file under the node's state directory,
as it does with ``store.url``: nodes must share that directory or hold the same copies.
"""

from __future__ import annotations

from pathlib import Path

from connector.scale.settings import NodeSettings
from connector.store import Store, open_store
from connector.vault import Vault, locate_key


def tenant_db_path(settings: NodeSettings, tenant: str) -> Path:
    """The tenant's vault file (its state is in the tenant's PostgreSQL schema)."""
    return settings.state_dir / "tenants" / tenant / "connector.db"


async def open_tenant_store(settings: NodeSettings, tenant: str) -> Store:
    """The tenant's store, opened for writing (the caller holds the tenant's job lock)."""
    return await open_store(settings.database_url, writer=True, schema=tenant)


async def open_tenant_inbox(settings: NodeSettings, tenant: str) -> Store:
    """The tenant's store for one webhook delivery, beside whatever job holds the tenant
    (no process lock: the receiver writes inbox rows only, never a ledger claim)."""
    return await open_store(settings.database_url, writer=True, lock=False, schema=tenant)


def open_tenant_vault(settings: NodeSettings, tenant: str, *, create: bool = False) -> Vault:
    """The tenant's credentials, with the node's vault key; ``create`` makes the vault the
    first time (``tenants add``)."""
    located = locate_key(settings.vault)
    path = tenant_db_path(settings, tenant)
    if create and not Vault.exists(path):
        return Vault.init(path, located.key, key_source=located.source)
    return Vault.open(path, located.key, key_source=located.source)
