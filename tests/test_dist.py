"""`make dist`: one zipapp per supported Python (deploy/build_pyz.py), each carrying the
compiled wheels of its own CPython version and refusing any other interpreter.

The three archives are built once for the module (pip fetches each version's wheels from
PyPI, as `make dist` does), then every test reads or runs them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import msgspec
import pytest

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ("3.11", "3.12", "3.13")
#: Packages whose compiled modules must match the archive's Python.
COMPILED = ("msgspec", "aiohttp", "multidict", "yarl")


def pyz_name(version: str) -> str:
    return f"ml-connector-py{version.replace('.', '')}.pyz"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """deploy/build_pyz.py run once for every supported version."""
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "build_pyz.py"), "--out", str(out), *VERSIONS],
        capture_output=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stderr.decode()[-3000:]
    return {version: out / pyz_name(version) for version in VERSIONS}


def run_pyz(python: str, pyz: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, str(pyz), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHIV_ROOT": str(tmp_path / "shiv")},
    )


def python311() -> str:
    this = sys.executable if sys.version_info[:2] == (3, 11) else None
    found = shutil.which("python3.11") or this
    if found is None:
        pytest.skip("no python3.11 on this machine")
    return found


@pytest.mark.timeout(900)
def test_the_311_archive_runs_version_and_check_help_with_python311(
    built: dict[str, Path], tmp_path: Path
) -> None:
    """ml-connector-py311.pyz answers `--version` and `check --help` under python3.11."""
    pyz = built["3.11"]
    version = run_pyz(python311(), pyz, tmp_path, "--version")
    assert version.returncode == 0, version.stderr
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert version.stdout.strip() == f"ml-connector {project['version']}"
    help_text = run_pyz(python311(), pyz, tmp_path, "check", "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "usage: ml-connector check" in help_text.stdout


@pytest.mark.timeout(900)
@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_each_archive_holds_its_own_pythons_compiled_modules_and_refuses_another(
    built: dict[str, Path], tmp_path: Path, version: str
) -> None:
    """The 3.12/3.13 archives carry cp312/cp313 extension modules (and none of another
    version), a shebang naming their Python, and stop python3.11 with a clear message."""
    pyz = built[version]
    tag = f"cpython-{version.replace('.', '')}-"
    with zipfile.ZipFile(pyz) as archive:
        modules = [n for n in archive.namelist() if n.endswith(".so")]
    for package in COMPILED:
        assert any(n.startswith(f"site-packages/{package}/") and tag in n for n in modules), package
    assert not [n for n in modules if "cpython-" in n and tag not in n]
    assert pyz.read_bytes().startswith(f"#!/usr/bin/env python{version}\n".encode())

    refused = run_pyz(python311(), pyz, tmp_path, "--version")
    assert refused.returncode == 1
    assert f"is built for Python {version}" in refused.stderr
    assert f"run it with python{version}" in refused.stderr
    assert "Traceback" not in refused.stderr


# The demo runs every pairing twice: the subprocess limit (300 s) bounds it, not the suite's
# default per-test timeout.
@pytest.mark.timeout(900)
def test_the_pyz_runs_the_demo(built: dict[str, Path], tmp_path: Path) -> None:
    """The python3.11 archive runs `demo --json` to a clean second cycle."""
    run = run_pyz(
        python311(),
        built["3.11"],
        tmp_path,
        *("demo", "--json", "--state-dir", str(tmp_path / "demo")),
        # One flow proves the single file runs; `make demo` runs them all.
        *("--flow", "servicetitan-acumatica"),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = msgspec.json.decode(run.stdout)
    assert summary["ok"] is True
    assert all(flow["cycles"][1]["totals"]["created"] == 0 for flow in summary["flows"])
