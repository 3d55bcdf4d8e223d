"""What one node of a cluster needs to know: where the cluster's PostgreSQL is, where its
own state lives, where the vault key comes from, and how quickly a dead node is noticed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from connector.config import Config, ServiceConfig, VaultConfig
from connector.errors import ConfigurationError

#: Environment variable naming the cluster's PostgreSQL when ``--database-url`` is not given.
DATABASE_URL_ENV = "ML_CONNECTOR_DATABASE_URL"


@dataclass(frozen=True)
class NodeSettings:
    """One node's settings; every node of a cluster points at the same ``database_url``."""

    database_url: str
    """``postgresql://…`` of the cluster: tenants, schedules and Procrastinate's job queue."""

    state_dir: Path
    """Directory under which each tenant's state lives (until the store moves to
    PostgreSQL; see :mod:`connector.scale.state`)."""

    vault: VaultConfig
    """Where the vault key comes from: every node must be given the same key."""

    service: ServiceConfig
    """Logging level and shutdown deadline of the node."""

    heartbeat_s: float = 5.0
    """Seconds between a worker's heartbeats in the job table."""

    stalled_after_s: float = 30.0
    """Seconds without a heartbeat after which a worker counts as dead and its jobs go back
    to the queue for another node. Several heartbeats long, so a busy node is not robbed."""

    own_state: Path | None = None
    """The node's own state file (its connector.toml's ``store.path``), whose vault holds
    the node's admin token; default ``state_dir/connector.db``."""

    @property
    def node_vault_path(self) -> Path:
        return self.own_state or self.state_dir / "connector.db"

    @classmethod
    def from_config(
        cls,
        config: Config,
        database_url: str | None,
        *,
        heartbeat_s: float = 5.0,
        stalled_after_s: float = 30.0,
    ) -> NodeSettings:
        """The node's settings from its own connector.toml (``store.path``'s directory holds
        the tenants' state) and the cluster URL (``--database-url``, else
        ``$ML_CONNECTOR_DATABASE_URL``)."""
        url = database_url or os.environ.get(DATABASE_URL_ENV)
        if not url:
            raise ConfigurationError(
                "no PostgreSQL for the cluster: pass --database-url postgresql://USER@HOST/DB "
                f"or set ${DATABASE_URL_ENV} (the same on every node)"
            )
        if not url.startswith(("postgresql://", "postgres://")):
            raise ConfigurationError(
                f"--database-url must be a postgresql:// URL, not {url.split(':', 1)[0]}:…; "
                "the cluster's tenants and job queue live in PostgreSQL"
            )
        if not 0 < heartbeat_s < stalled_after_s:
            raise ConfigurationError(
                f"the stalled-worker timeout ({stalled_after_s}s) must be longer than the "
                f"heartbeat ({heartbeat_s}s), or live workers would lose their jobs"
            )
        return cls(
            database_url=url,
            state_dir=config.store.path.parent,
            vault=config.vault,
            service=config.service,
            heartbeat_s=heartbeat_s,
            stalled_after_s=stalled_after_s,
            own_state=config.store.path,
        )
