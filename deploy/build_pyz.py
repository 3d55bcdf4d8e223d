"""``make dist``: one ``ml-connector-py3XX.pyz`` per supported Python, from PyPI's wheels.

msgspec, cryptography, aiohttp and friends ship compiled extension modules, and a module
compiled for CPython 3.12 does not load in 3.11 or 3.13. So a single zipapp cannot serve
every Python; instead, for each version this script

1. builds ml-connector's own (pure) wheel once;
2. asks pip for the dependency wheels *of that interpreter* — ``pip install --target DIR
   --only-binary=:all: --python-version 3.X --implementation cp --abi cp3X --platform …``
   (this machine's architecture, manylinux), which fetches the right compiled wheels from
   PyPI without that Python being installed here;
3. packs DIR with shiv (``--site-packages``), with ``/usr/bin/env python3.X`` as the
   shebang and a preamble that refuses any other interpreter with a one-line message
   instead of an ImportError from deep inside a compiled module.

Usage: ``python deploy/build_pyz.py [--out dist] 3.11 3.12 3.13`` (stdlib only; pip and
shiv come from the interpreter that runs it).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED = ("3.11", "3.12", "3.13")
#: glibc baselines PyPI's wheels are built for, newest last; pip takes the best match.
MANYLINUX = ("manylinux2014", "manylinux_2_17", "manylinux_2_28")

PREAMBLE = '''\
"""Runs before ml-connector: its compiled modules are for one CPython version only."""
import sys

WANTED = ({major}, {minor})
if sys.version_info[:2] != WANTED:
    sys.exit(
        "{name} is built for Python {major}.{minor} (its compiled modules are cp{major}{minor}) "
        f"but was started by Python {{sys.version.split()[0]}} ({{sys.executable}}): run it "
        "with python{major}.{minor}, or use the ml-connector-py3XX.pyz built for your Python"
    )
'''


def pyz_name(version: str) -> str:
    """``ml-connector-py312.pyz`` for ``3.12``."""
    return f"ml-connector-py{version.replace('.', '')}.pyz"


def platforms() -> list[str]:
    """pip ``--platform`` tags of this machine's architecture (x86_64, aarch64)."""
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return [f"{tag}_{arch}" for tag in MANYLINUX]


def run(command: list[str]) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True)  # noqa: S603 - our own pip and shiv, no shell


def project_wheel(work: Path) -> Path:
    """ml-connector's own wheel (pure Python: one for every version)."""
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--wheel-dir", str(work), str(ROOT)])
    return next(work.glob("ml_connector-*.whl"))


def site_packages(version: str, wheel: Path, target: Path) -> None:
    """The project and its dependencies as CPython ``version`` on this platform needs them."""
    tag = version.replace(".", "")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--target", str(target), "--only-binary=:all:", "--python-version", version,
               "--implementation", "cp", "--abi", f"cp{tag}"]
    for platform_tag in platforms():
        command += ["--platform", platform_tag]
    run([*command, str(wheel)])


def build(version: str, out: Path, wheel: Path, work: Path) -> Path:
    if version not in SUPPORTED:
        raise SystemExit(f"Python {version} is not supported; choose from {', '.join(SUPPORTED)}")
    target = work / f"site-{version}"
    site_packages(version, wheel, target)
    major, minor = version.split(".")
    output = out / pyz_name(version)
    preamble = work / f"preamble-{version}.py"
    preamble.write_text(PREAMBLE.format(major=major, minor=minor, name=output.name))
    run([sys.executable, "-m", "shiv", "--site-packages", str(target), "-c", "ml-connector",
         "-o", str(output), "-p", f"/usr/bin/env python{version}", "--preamble", str(preamble),
         "--reproducible"])
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("versions", nargs="*", default=list(SUPPORTED), help="e.g. 3.12")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ml-connector-dist-"))
    try:
        wheel = project_wheel(work)
        # Each build waits on pip downloading and unpacking wheels: the versions go side by
        # side (their targets and preambles are separate files), about a third of the time.
        with ThreadPoolExecutor(max_workers=len(args.versions) or 1) as pool:
            for output in pool.map(lambda v: build(v, args.out, wheel, work), args.versions):
                print(output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
