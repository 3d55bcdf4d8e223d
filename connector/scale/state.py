"""Where a tenant's state lives: the one seam between the cluster and the store.

Each tenant has its own state (ledger, audit, cursors, inbox, vault…). Until the store runs
on PostgreSQL it is a SQLite file per tenant under the node's state directory; nodes that
share that directory (one machine, or a shared volume) share the tenants' state, and the
tenant lock of :mod:`connector.scale.jobs` keeps one node at a time on each file. Moving a
tenant's state into PostgreSQL (one schema per tenant) changes the two ``Store.open`` lines
below only, to ``open_store(settings.database_url, schema=tenant, …)`` with the same
``writer``/``lock``; the vault stays in the file, as with ``store.url``.
"""

from __future__ import annotations

from pathlib import Path

from connector.scale.settings import NodeSettings
from connector.store import Store
from connector.vault import Vault, locate_key


def tenant_db_path(settings: NodeSettings, tenant: str) -> Path:
    """The tenant's SQLite state (and vault) file."""
    return settings.state_dir / "tenants" / tenant / "connector.db"


async def open_tenant_store(settings: NodeSettings, tenant: str) -> Store:
    """The tenant's store, opened for writing (the caller holds the tenant's job lock)."""
    return await Store.open(tenant_db_path(settings, tenant), writer=True)


async def open_tenant_inbox(settings: NodeSettings, tenant: str) -> Store:
    """The tenant's store for one webhook delivery, beside whatever job holds the tenant
    (no process lock: the receiver writes inbox rows only, never a ledger claim)."""
    return await Store.open(tenant_db_path(settings, tenant), writer=True, lock=False)


def open_tenant_vault(settings: NodeSettings, tenant: str, *, create: bool = False) -> Vault:
    """The tenant's credentials, with the node's vault key; ``create`` makes the vault the
    first time (``tenants add``)."""
    located = locate_key(settings.vault)
    path = tenant_db_path(settings, tenant)
    if create and not Vault.exists(path):
        return Vault.init(path, located.key, key_source=located.source)
    return Vault.open(path, located.key, key_source=located.source)
