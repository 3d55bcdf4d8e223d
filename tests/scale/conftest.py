"""A real PostgreSQL for the cluster tests: one throwaway cluster per session, a fresh
database per test (see :mod:`tests.scale.pg`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from connector.config import ServiceConfig, VaultConfig
from connector.scale.settings import NodeSettings
from connector.vault import encode_key, generate_key
from tests.scale import toyledger
from tests.scale.pg import Cluster, start_cluster

_databases = itertools.count()


@pytest.fixture(autouse=True)
def toyledger_registered() -> Iterator[None]:
    """The toyledger kind and pairing exist during each cluster test only."""
    toyledger.register()
    yield
    toyledger.unregister()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """initdb + pg_ctl in a temp dir on a free loopback port; removed after the session."""
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def database_url(pg_cluster: Cluster) -> str:
    """A new, empty database of the session's cluster."""
    name = f"test_{next(_databases)}"
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_cluster.url(name)


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
