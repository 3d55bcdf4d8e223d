"""Starting the sandbox and connector processes, and talking to them.

Children run ``python -m bench.<module>`` from the repository root with the harness's own
interpreter. Their standard error goes to a log file per process under the run's work
directory, which a failure message points at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import anyio
import msgspec
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from bench.sandbox import Ready

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
#: Longest JSON line a child may print.
MAX_LINE = 16 * 1024 * 1024


class BenchError(Exception):
    """A stage could not run; the message says which and where its log is."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def _read_line(stream: BufferedByteReceiveStream, what: str, log: Path) -> bytes:
    try:
        return await stream.receive_until(b"\n", MAX_LINE)
    except (anyio.EndOfStream, anyio.IncompleteRead):
        raise BenchError(
            f"{what} exited before it reported; its log {log} ends:\n{_tail(log)}"
        ) from None


class Sandbox:
    """``async with Sandbox(...) as sandbox``: a seeded sandbox process, stopped on exit."""

    def __init__(
        self,
        work: Path,
        flows: list[str],
        counts: dict[str, dict[str, int]],
        *,
        seed: int = 7,
    ) -> None:
        self.state_dir = work / "state"
        self.log = work / "sandbox.log"
        self.flows = flows
        self.counts = counts
        self.seed = seed
        self._process: Process | None = None
        self.ready = Ready("", {}, 0)

    @property
    def config(self) -> Path:
        return Path(self.ready.config)

    @property
    def pid(self) -> int:
        return self.ready.pid

    async def __aenter__(self) -> Sandbox:
        command = [sys.executable, "-m", "bench.sandbox", "--state-dir", str(self.state_dir)]
        for flow in self.flows:
            command += ["--flow", flow]
        command += ["--counts", msgspec.json.encode(self.counts).decode()]
        command += ["--seed", str(self.seed)]
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self._process = await anyio.open_process(
                command, stdin=subprocess.PIPE, stderr=log, cwd=ROOT, env=_env()
            )
        assert self._process.stdout is not None
        try:
            with anyio.fail_after(600):
                line = await _read_line(
                    BufferedByteReceiveStream(self._process.stdout), "the sandbox", self.log
                )
            self.ready = msgspec.json.decode(line, type=Ready)
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        with anyio.CancelScope(shield=True):
            if process.stdin is not None:
                await process.stdin.aclose()  # the sandbox stops when its stdin closes
            with anyio.move_on_after(15):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
            await process.aclose()

    def url(self, system: str) -> str:
        try:
            return self.ready.urls[system]
        except KeyError:
            raise BenchError(
                f"the sandbox serves no {system}; it has {list(self.ready.urls)}"
            ) from None

    async def admin(self, system: str, method: str, path: str, body: object = None) -> Any:
        """Call a simulator's ``/_sandbox/`` admin API; the decoded JSON answer."""
        async with aiohttp.ClientSession() as session:
            async with session.request(
                method, f"{self.url(system)}/_sandbox/{path}", json=body
            ) as response:
                if response.status >= 400:
                    text = await response.text()
                    raise BenchError(f"{system} /_sandbox/{path} said {response.status}: {text}")
                return await response.json()

    async def counters(self, system: str) -> dict[str, int]:
        state = await self.admin(system, "GET", "state")
        counters: dict[str, int] = state.get("counters", {})
        return counters


async def run_worker(
    work: Path,
    stage: str,
    args: list[str],
    result: type[T],
    *,
    label: str | None = None,
    timeout_s: float = 900,
) -> T:
    """Run one connector stage to completion and decode its result line.

    Its standard error is kept in ``work/worker-<label or stage>.log``.
    """
    log = work / f"worker-{label or stage}.log"
    command = [sys.executable, "-m", "bench.worker", stage, *args]
    with anyio.fail_after(timeout_s):
        done = await anyio.run_process(command, check=False, cwd=ROOT, env=_env())
    log.write_bytes(done.stderr)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise BenchError(
            f"stage {stage} failed (exit {done.returncode}); its log {log} ends:\n{_tail(log)}"
        )
    return msgspec.json.decode(lines[-1], type=result)


class Worker:
    """A connector stage that talks to the harness while it runs (the webhook stage)."""

    def __init__(
        self, work: Path, stage: str, args: list[str], *, label: str | None = None
    ) -> None:
        self.log = work / f"worker-{label or stage}.log"
        self.stage = stage
        self.command = [sys.executable, "-m", "bench.worker", stage, *args]
        self._process: Process | None = None
        self._stdout: BufferedByteReceiveStream | None = None

    async def __aenter__(self) -> Worker:
        with self.log.open("wb") as log:
            self._process = await anyio.open_process(
                self.command, stdin=subprocess.PIPE, stderr=log, cwd=ROOT, env=_env()
            )
        assert self._process.stdout is not None
        self._stdout = BufferedByteReceiveStream(self._process.stdout)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        with anyio.CancelScope(shield=True):
            if exc is None:
                # It printed its result and is on its way out: let it finish closing.
                with anyio.move_on_after(30):
                    await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
            await process.aclose()

    async def receive(self, kind: type[T]) -> T:
        """The next JSON line the worker prints, decoded as ``kind``."""
        assert self._stdout is not None
        line = await _read_line(self._stdout, f"stage {self.stage}", self.log)
        return msgspec.json.decode(line, type=kind)

    async def send_line(self, text: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        await self._process.stdin.send(text.encode() + b"\n")
