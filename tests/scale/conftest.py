"""The cluster tests' fixtures: a fresh database of the session's throwaway PostgreSQL
(``pg_url`` from :mod:`tests.pg`, shared with the store tests), a vault key, node settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.config import ServiceConfig, VaultConfig
from connector.scale.settings import NodeSettings
from connector.vault import encode_key, generate_key
from tests.scale import toyledger


@pytest.fixture(autouse=True)
def toyledger_registered() -> Iterator[None]:
    """The toyledger kind and pairing exist during each cluster test only."""
    toyledger.register()
    yield
    toyledger.unregister()


@pytest.fixture
def database_url(pg_url: str) -> str:
    """A new, empty database of the session's cluster (dropped after the test)."""
    return pg_url


@pytest.fixture
def vault_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A vault key in $ML_CONNECTOR_VAULT_KEY, as every node of a cluster is given."""
    key = encode_key(generate_key())
    monkeypatch.setenv("ML_CONNECTOR_VAULT_KEY", key)
    return key


@pytest.fixture
def settings(tmp_path: Path, database_url: str, vault_key: str) -> NodeSettings:
    """A node's settings: state under tmp_path, the test's database."""
    return NodeSettings(
        database_url=database_url,
        state_dir=tmp_path / "state",
        vault=VaultConfig(),
        service=ServiceConfig(),
        heartbeat_s=0.5,
        stalled_after_s=3.0,
    )
