"""The systemd unit in deploy/: every directive the service relies on, and systemd's verdict."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from connector.config.models import ServiceConfig, VaultConfig

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "ml-connector.service"
EXEC_START = "/opt/ml-connector/bin/ml-connector --config /etc/ml-connector/connector.toml run"

REQUIRED_SERVICE = {
    "Type": "notify",
    "NotifyAccess": "main",
    "ExecStart": EXEC_START,
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "Restart": "on-failure",
    "RestartSec": "5",
    "WatchdogSec": "60",
    "TimeoutStopSec": "45",
    "StateDirectory": "ml-connector",
    "LoadCredential": "vault-key:/etc/ml-connector/vault.key",
    "User": "ml-connector",
    "Group": "ml-connector",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallFilter": "@system-service",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
    "Environment": "ML_CONNECTOR_STATE=%S/ml-connector",
}


def read_unit() -> configparser.ConfigParser:
    """The unit parsed as systemd reads it: case-kept keys, repeats allowed, no % magic."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # keep key case
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize(("key", "value"), sorted(REQUIRED_SERVICE.items()))
def test_service_directive(key: str, value: str) -> None:
    """Each directive the service depends on is present with the intended value."""
    service = read_unit()["Service"]
    assert key in service, f"[Service] lacks {key}="
    assert service[key] == value


def test_unit_and_install_sections() -> None:
    """The unit waits for the network and is enabled by multi-user.target."""
    unit = read_unit()
    assert unit["Unit"]["After"] == "network-online.target"
    assert unit["Unit"]["Wants"] == "network-online.target"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_stop_timeout_outlasts_the_graceful_shutdown() -> None:
    """systemd's SIGKILL comes only after the connector's own drain deadline has passed."""
    stop_timeout = float(read_unit()["Service"]["TimeoutStopSec"])
    assert stop_timeout > ServiceConfig().shutdown_timeout_s


def test_credential_name_matches_the_vault_config() -> None:
    """The LoadCredential name is the one the vault looks for in $CREDENTIALS_DIRECTORY."""
    name = read_unit()["Service"]["LoadCredential"].split(":", 1)[0]
    assert name == VaultConfig().credential_name


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not found")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd itself accepts every line (it only warns, so any warning about us fails)."""
    # verify insists the ExecStart binary exists; an empty script stands in for it.
    binary = tmp_path / "ml-connector"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    unit = tmp_path / "ml-connector.service"
    unit.write_text(UNIT.read_text().replace("/opt/ml-connector/bin/ml-connector", str(binary)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    complaints = [line for line in result.stderr.splitlines() if "ml-connector" in line]
    assert result.returncode == 0, result.stderr
    assert complaints == []
