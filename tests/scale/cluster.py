"""Driving a cluster from a test: the toyledger simulator, tenants, node processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio

from connector.scale.directory import TenantDirectory
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_vault
from connector.scale.tenant_config import tenant_config
from tests.scale.tenant_toml import tenant_toml
from tests.scale.toyledger.sim import ToyLedgerSim

REPO = Path(__file__).resolve().parents[2]


async def add_tenants(
    settings: NodeSettings, sim: ToyLedgerSim, base_url: str, tenants: dict[str, int],
    *, limit: int, schedule: str = "every 2s", workers: int = 2,
) -> None:
    """Seed each tenant's invoices in the simulator and add it to the cluster, as
    `tenants add` and `tenants creds` would."""
    directory = TenantDirectory(settings.database_url)
    await directory.create_schema()
    for tenant, invoices in tenants.items():
        sim.seed(tenant, f"key-{tenant}", invoices, limit=limit)
        text = tenant_toml(base_url, tenant, limit=limit, schedule=schedule, workers=workers)
        assert await directory.add(tenant, text, tenant_config(settings, tenant, text),
                                   replace=False)
        vault = open_tenant_vault(settings, tenant, create=True)
        vault.set("ledger-key", "toyledger-key", {"key": f"key-{tenant}"})


@dataclass
class Nodes:
    """Node processes (`ml-connector run --workers N`, toyledger registered)."""

    settings: NodeSettings
    workdir: Path
    workers: int = 2
    #: Extra lines of each node's connector.toml (e.g. a [service] section).
    node_toml: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: Each node's /healthz and /metrics port (several nodes share this machine).
    admin_ports: dict[str, int] = field(default_factory=dict)

    def start(self, name: str) -> None:
        config = self.workdir / "node.toml"
        config.write_text(
            f'[store]\npath = "{self.settings.state_dir}/connector.db"\n{self.node_toml}'
        )
        self.admin_ports[name] = free_port()
        with (self.workdir / f"{name}.log").open("ab") as log:
            self.procs[name] = self._spawn(config, log, self.admin_ports[name])

    def _spawn(self, config: Path, log: BinaryIO, admin_port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable, "-m", "tests.scale.node_main", "--config", str(config),
                "run", "--workers", str(self.workers),
                "--database-url", self.settings.database_url,
                "--heartbeat", str(self.settings.heartbeat_s),
                "--stalled-after", str(self.settings.stalled_after_s),
                "--admin-port", str(admin_port),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    async def stop_all(self) -> dict[str, int | None]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, proc in self.procs.items():
            with anyio.move_on_after(20):
                while proc.poll() is None:
                    await anyio.sleep(0.1)
            if proc.poll() is None:
                proc.kill()
            codes[name] = proc.wait()
        return codes

    def logs(self, tail: int | None = None) -> str:
        """Every node's log (each cut to its last ``tail`` characters, for a message)."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-(tail or 0):]}"
            for path in sorted(self.workdir.glob("*.log"))
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    with anyio.move_on_after(timeout):
        while not condition():
            await anyio.sleep(0.1)
    assert condition(), f"timed out after {timeout}s waiting for {what}"
