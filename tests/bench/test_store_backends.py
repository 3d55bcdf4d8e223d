"""The store backends bench runs on both backends and reports every figure."""

from __future__ import annotations

import msgspec
import pytest

from bench import store_backends

FIGURES = {
    "commit_units_per_s", "units_per_commit", "claims_per_s", "serial_commit_ms",
    "pipeline_records_per_s",
}


def test_the_bench_reports_each_figure_for_sqlite_and_postgresql(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A small run prints one JSON line per backend with every figure, each above zero."""
    assert store_backends.main(
        ["--url", pg_url, "--records", "128", "--writers", "4", "--serial", "5"]
    ) == 0
    lines = [msgspec.json.decode(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["backend"] for line in lines] == ["sqlite", "postgresql"]
    for line in lines:
        assert set(line) - {"backend"} == FIGURES
        assert all(line[figure] > 0 for figure in FIGURES), line
