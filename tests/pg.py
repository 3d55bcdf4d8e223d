"""A throwaway PostgreSQL cluster for the tests (a pytest plugin, see tests/conftest.py).

One cluster per test session: ``initdb`` in a temporary directory, started on a free
loopback port with its unix socket in that directory, stopped and deleted at the end. Each
test that asks for ``pg_url`` gets a database of its own, cloned from an empty template
(``CREATE DATABASE … TEMPLATE``) and dropped after it.

The server binaries are looked up on ``PATH``, then where Debian installs them
(``/usr/lib/postgresql/<version>/bin``). ``initdb`` refuses to run as root, so as root the
cluster belongs to the ``postgres`` user (or ``nobody``) and its programs run through
``runuser``. Without PostgreSQL the PostgreSQL variants are skipped, saying so; ``.ci/run``
installs it first, so CI always runs them.

fsync is off: the tests kill clients, never the server, and the cluster is thrown away.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

SUPERUSER = "connector"
TEMPLATE = "connector_template"
#: Settings that make a test cluster fast and roomy; nothing here weakens what a test sees.
SERVER_SETTINGS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=300 -c shared_buffers=32MB"
)


def find_program(name: str) -> Path | None:
    """A PostgreSQL server program: on PATH, else Debian's newest versioned directory."""
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return candidates[-1] if candidates else None


def _owner() -> str | None:
    """The user the cluster runs as when we are root (initdb refuses root), else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PgCluster:
    """A running throwaway cluster; ``url(db)`` is how clients reach a database in it."""

    root: Path
    port: int
    owner: str | None
    bindir: Path
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)

    def admin(self, statement: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(statement.encode())

    def create_database(self) -> str:
        name = f"test_{next(self._numbers)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_cluster(settings: str = SERVER_SETTINGS) -> PgCluster:
    """initdb, start with ``settings`` (server ``-c`` options) and make the template."""
    initdb, pg_ctl = find_program("initdb"), find_program("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip(
            "PostgreSQL is not installed (no initdb/pg_ctl on PATH or under "
            "/usr/lib/postgresql/*/bin): the PostgreSQL variants are skipped. `.ci/run` "
            "installs it (apt-get install postgresql)."
        )
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="ml-connector-pg-"))
    if owner is not None:
        shutil.chown(root, user=owner)
    cluster = PgCluster(root, free_port(), owner, initdb.resolve().parent)
    cluster.run(
        "initdb", "-D", str(root / "data"), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
        "--no-sync", "--locale=C",
    )
    options = f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 {settings}"
    try:
        cluster.run(
            "pg_ctl", "-D", str(root / "data"), "-l", str(root / "server.log"), "-o", options,
            "-w", "-t", "60", "start",
        )
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the test PostgreSQL did not start: {exc.stderr!r}\n{log}") from exc
    cluster.admin(f"CREATE DATABASE {TEMPLATE}")
    return cluster


def stop_cluster(cluster: PgCluster) -> None:
    try:
        cluster.run("pg_ctl", "-D", str(cluster.root / "data"), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL cluster for the whole session (skipped when PostgreSQL is missing)."""
    cluster = start_cluster()
    yield cluster
    stop_cluster(cluster)


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """URL of a fresh, empty database of the session's cluster, dropped after the test."""
    name = pg_cluster.create_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's state lives, once per backend: a SQLite file path that does not exist
    yet, or the URL of a fresh PostgreSQL database (what ``open_store`` takes)."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """The ``store.url`` a scenario configures, once per backend: None (the SQLite file, the
    default) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_url"))
