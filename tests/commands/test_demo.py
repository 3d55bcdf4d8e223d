"""`ml-connector demo`: simulators, a seeded contractor, each flow twice, a summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec


def test_demo_json_reports_two_cycles_per_flow_and_nothing_new(tmp_path: Path) -> None:
    """`demo --json --flow F` reports the flow's two cycles: the first creates, the second
    writes nothing (the smallest pairing keeps this quick; make demo runs them all)."""
    flow = "infor-servicenow"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "connector", "demo", "--json"),
            *("--state-dir", str(tmp_path / "d"), "--flow", flow),
        ],
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    summary = msgspec.json.decode(result.stdout)
    assert summary["ok"] is True
    [report] = summary["flows"]
    assert report["name"] == flow
    first, second = report["cycles"]
    assert first["totals"]["created"] > 100
    assert second["totals"]["created"] == second["totals"]["updated"] == 0
