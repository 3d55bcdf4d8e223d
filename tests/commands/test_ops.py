"""Terminal manners: `| head` and Ctrl-C end a command cleanly and truthfully."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import msgspec

from connector import demo
from tests.commands.support import FLOW


def test_a_closed_stdout_ends_the_command_without_a_traceback(tmp_path: Path) -> None:
    """`ml-connector runs | head` whose reader is gone: exit 141, nothing on stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "runs"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader goes away before the command prints
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def ledger_records(env: demo.DemoEnvironment) -> int:
    path = env.config.store.path
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            row = conn.execute("SELECT COUNT(*) FROM ledger").fetchone()
        except sqlite3.OperationalError:  # not migrated yet
            return 0
    return int(row[0])


def run_rows(env: demo.DemoEnvironment) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(env.config.store.path) as conn:
        rows = conn.execute("SELECT status, counts, error FROM runs ORDER BY id").fetchall()
    return [(str(r[0]), str(r[1]), r[2]) for r in rows]


async def test_ctrl_c_exits_130_and_closes_the_run_as_interrupted_with_its_counts(
    env: demo.DemoEnvironment,
) -> None:
    """SIGINT during a sync: exit 130, and the run row says interrupted with the counts
    reached, not 'running' until the next start."""
    await demo.admin(env.simulators["infor"], "POST", "faults", {"latency_ms": 200})
    process = await anyio.open_process(
        [sys.executable, "-m", "connector", "--config", str(env.config_path), "sync",
         "--flow", FLOW],
    )
    with anyio.fail_after(60):
        while ledger_records(env) < 1:  # records read: counts to keep
            await anyio.sleep(0.1)
    process.send_signal(signal.SIGINT)
    with anyio.fail_after(60):
        code = await process.wait()
    assert process.stderr is not None
    err = b""
    async for chunk in process.stderr:
        err += chunk
    await process.aclose()
    assert code == 130, err.decode()
    status, counts, error = run_rows(env)[-1]
    assert status == "interrupted"
    assert error is not None and "interrupted" in error
    totals = msgspec.json.decode(counts)
    assert sum(stream["read"] for stream in totals.values()) > 0
