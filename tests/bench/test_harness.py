"""The benchmark harness: a smoke run produces a complete report; the CLI finds the harness.

Only the report's shape is checked here. The figures depend on the machine and on whatever
else it is doing, so no test ever compares them with a target.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from bench.metrics import percentile
from bench.report import BenchReport
from connector.commands import bench as bench_command

#: The smoke run starts a dozen processes; on a machine busy with other tests (make test runs
#: them side by side) that can take minutes.
pytestmark = pytest.mark.timeout(360)
ROOT = Path(__file__).resolve().parents[2]
E2E_FLOWS = {
    "servicetitan-infor",
    "servicetitan-acumatica",
    "ifs-servicetitan",
    "infor-servicenow",
    "servicetitan-syspro",
}


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchReport, bytes]:
    """One smoke run of the whole harness (sandbox and connector processes included)."""
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    raw = out.read_bytes()
    return msgspec.json.decode(raw, type=BenchReport), raw


def test_smoke_run_writes_every_required_key(smoke_report: tuple[BenchReport, bytes]) -> None:
    """The JSON file carries every key the issue requires, under its exact name."""
    _, raw = smoke_report
    document = msgspec.json.decode(raw)
    required = {
        "pipeline_records_per_s",
        "pipeline_cpu_us_per_record",
        "e2e_records_per_s",
        "st_achieved_req_per_s",
        "st_429_after_warmup",
        "erp_budget_utilization",
        "rss_mb",
        "webhook_p50_ms",
        "webhook_p99_ms",
        "webhook_receiver_p99_ms",
        "machine",
        "commit",
        "runs",
        "requests_per_document",
        "budgeted_e2e",
    }
    assert required <= set(document)


def test_smoke_figures_have_sane_types_and_ranges(
    smoke_report: tuple[BenchReport, bytes],
) -> None:
    """Rates are positive, counts whole, the budget a share, latencies ordered."""
    report, _ = smoke_report
    assert report.mode == "smoke"
    assert report.pipeline_records_per_s > 0 and report.pipeline_cpu_us_per_record > 0
    assert report.pipeline_records == 300
    assert report.st_achieved_req_per_s > 0
    assert report.st_429_after_warmup >= 0
    assert 0 < report.erp_budget_utilization <= 1.5
    assert {int(size) for size in report.rss_mb} == {300, 1200}
    assert all(mb > 0 for mb in report.rss_mb.values())
    assert 0 <= report.webhook_p50_ms <= report.webhook_p99_ms
    assert report.webhook_events == 5
    assert report.webhook_receiver_deliveries == 20
    assert 0 < report.webhook_receiver_p50_ms <= report.webhook_receiver_p99_ms


def test_every_e2e_flow_is_reported_with_a_figure_or_a_reason(
    smoke_report: tuple[BenchReport, bytes],
) -> None:
    """Each named flow has a rate and a CPU split, or no rate and a status saying why."""
    report, _ = smoke_report
    assert set(report.e2e_records_per_s) == E2E_FLOWS
    assert report.e2e_records_per_s["servicetitan-infor"] is not None
    for flow, rate in report.e2e_records_per_s.items():
        split = report.e2e_split[flow]
        if rate is None:
            assert split is None and report.e2e_status[flow].startswith("not available")
        else:
            assert rate > 0 and report.e2e_status[flow] == "ok"
            assert split is not None and split.wall_s > 0 and split.connector_cpu_s > 0


def test_requests_per_document_and_the_budgeted_figure_are_reported_per_flow(
    smoke_report: tuple[BenchReport, bytes],
) -> None:
    """Both flows report requests per document over their document streams and per stream,
    and the documents per minute their busiest system's budget allows."""
    report, _ = smoke_report
    assert set(report.requests_per_document) == {"servicetitan-infor", "servicetitan-acumatica"}
    for flow, figure in report.requests_per_document.items():
        assert figure.documents > 0 and figure.per_document is not None
        assert sum(s.documents for s in figure.streams.values()) >= figure.documents
        rate = report.budgeted_e2e[flow]
        assert rate.bound_by is not None and rate.documents_per_minute is not None
        assert rate.documents_per_minute == min(rate.documents_per_minute_by_system.values())
        assert rate.unthrottled_records_per_minute is not None


def test_report_names_machine_commit_and_runs_behind_each_median(
    smoke_report: tuple[BenchReport, bytes],
) -> None:
    """Machine, commit and the run count of every stage are recorded; verdicts exist."""
    report, _ = smoke_report
    assert report.machine.cpus >= 1 and report.machine.python
    assert len(report.commit.sha) == 40 or report.commit.sha == "unknown"
    assert set(report.runs) == {
        "pipeline", "e2e", "st_rate", "erp_budget", "rss", "webhook", "webhook_receiver"
    }
    assert all(n >= 1 for n in report.runs.values())
    assert set(report.meets) == set(report.targets)
    assert report.samples["pipeline_records_per_s"] == [report.pipeline_records_per_s]


def test_nearest_rank_percentile() -> None:
    """p50/p99 are nearest-rank percentiles: real observed values, never interpolated."""
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) == 0.0


def test_cli_command_finds_the_harness_in_this_checkout() -> None:
    """`ml-connector bench` locates bench/run.py next to the connector package."""
    assert bench_command.harness_root() == ROOT
    parser = argparse.ArgumentParser()
    bench_command.register(parser.add_subparsers())
    args = parser.parse_args(["bench", "--quick", "--json"])
    assert args.quick and args.json and not args.smoke
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--quick", "--smoke"])
