"""A throwaway PostgreSQL cluster for tests: ``initdb`` in a temp dir, loopback only.

PostgreSQL refuses to run as root, and CI runs as root: there the cluster is made and run
as the ``postgres`` user that Debian's package creates (``runuser``), in a directory that
user owns. The socket goes into the same directory, so no system path is touched, and the
port is a free loopback port, so several clusters (several engineers' tests) coexist.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def pg_binary(name: str) -> str | None:
    """``initdb``/``pg_ctl`` on the PATH, else where Debian installs them."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    root: Path
    port: int
    run_as: list[str]
    pg_ctl: str

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb + pg_ctl start; raises RuntimeError naming what to install when absent."""
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError(
            "PostgreSQL's initdb/pg_ctl are not installed: `apt-get install -y postgresql`"
        )
    root = Path(tempfile.mkdtemp(prefix="ml-connector-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(root, free_port(), run_as, pg_ctl)
    subprocess.run(
        [*run_as, initdb, "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
         "--no-sync", "-E", "UTF8", "--locale=C"],
        capture_output=True,
        check=True,
    )
    options = (
        f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        [*run_as, pg_ctl, "-D", str(cluster.data), "-o", options, "-l",
         str(root / "log"), "-w", "start"],
        capture_output=True,
        check=True,
    )
    return cluster
