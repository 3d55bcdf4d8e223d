"""`make dist`'s single file: a zipapp that runs ml-connector with only Python installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

ROOT = Path(__file__).resolve().parents[1]


# The demo runs every pairing twice and grows with each one added: the subprocess limits
# below (300 s each) bound it, not the suite's default per-test timeout.
@pytest.mark.timeout(600)
def test_the_pyz_runs_the_demo(tmp_path: Path) -> None:
    """The shiv-built ml-connector.pyz runs `demo --json` to a clean second cycle."""
    pyz = tmp_path / "ml-connector.pyz"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "shiv",
            "-c",
            "ml-connector",
            "-o",
            str(pyz),
            "--python",
            "/usr/bin/env python3",
            str(ROOT),
        ],
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr.decode()[-2000:]
    run = subprocess.run(
        [
            *(sys.executable, str(pyz), "demo", "--json", "--state-dir", str(tmp_path / "demo")),
            # One flow proves the single file runs; `make demo` runs them all.
            *("--flow", "servicetitan-acumatica"),
        ],
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHIV_ROOT": str(tmp_path / "shiv")},
    )
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    summary = msgspec.json.decode(run.stdout)
    assert summary["ok"] is True
    assert all(flow["cycles"][1]["totals"]["created"] == 0 for flow in summary["flows"])
