"""sd_notify over a real AF_UNIX datagram socket: messages, addresses, watchdog timing."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from connector.runtime.notify import Notifier, watchdog_interval, watchdog_loop


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket in tmp_path standing in for systemd, and its address."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(2.0)
        yield sock, str(path)


def drain(sock: socket.socket) -> list[str]:
    """Every datagram already queued on ``sock``, decoded."""
    sock.setblocking(False)
    messages = []
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        return messages


def test_each_call_sends_its_exact_message(receiver: tuple[socket.socket, str]) -> None:
    """ready/status/watchdog/stopping send the sd_notify(3) fields, one datagram each."""
    sock, path = receiver
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready()
    assert notifier.status("syncing 3 flows")
    assert notifier.watchdog()
    assert notifier.stopping()
    assert notifier.ready(status="reloaded")
    assert drain(sock) == [
        "READY=1",
        "STATUS=syncing 3 flows",
        "WATCHDOG=1",
        "STOPPING=1",
        "READY=1\nSTATUS=reloaded",
    ]


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, read the way systemd reads it."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def test_reloading_carries_a_monotonic_timestamp(receiver: tuple[socket.socket, str]) -> None:
    """RELOADING=1 comes with MONOTONIC_USEC on CLOCK_MONOTONIC, as systemd 253 requires."""
    sock, path = receiver
    before = monotonic_usec()
    assert Notifier.from_env({"NOTIFY_SOCKET": path}).reloading()
    after = monotonic_usec()
    first, second = sock.recv(4096).decode().split("\n")
    assert first == "RELOADING=1"
    key, _, value = second.partition("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after


def test_status_text_cannot_inject_fields(receiver: tuple[socket.socket, str]) -> None:
    """A newline in a status text is flattened, so it cannot forge READY=1."""
    sock, path = receiver
    Notifier.from_env({"NOTIFY_SOCKET": path}).status("bad\nREADY=1")
    assert sock.recv(4096).decode() == "STATUS=bad READY=1"


def test_abstract_namespace_address() -> None:
    """'@name' in NOTIFY_SOCKET reaches a socket bound in the abstract namespace."""
    name = f"ml-connector-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2.0)
        notifier = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert notifier.ready()
        assert sock.recv(4096) == b"READY=1"


def test_unset_socket_is_a_no_op() -> None:
    """Without NOTIFY_SOCKET every call returns False and nothing is sent or raised."""
    notifier = Notifier.from_env({})
    assert not notifier.enabled
    assert not notifier.ready()
    assert not notifier.status("x")
    assert not notifier.watchdog()
    assert not notifier.stopping()
    assert not notifier.reloading()


def test_unsupported_address_is_ignored() -> None:
    """A vsock: address (not AF_UNIX) disables the notifier instead of failing."""
    assert not Notifier.from_env({"NOTIFY_SOCKET": "vsock:2:1234"}).enabled


def test_vanished_socket_does_not_raise(tmp_path: Path) -> None:
    """Sending to a socket path nobody listens on reports False rather than raising."""
    notifier = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert notifier.enabled
    assert not notifier.ready()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "4242"}, 30.0),
        ({"WATCHDOG_USEC": "10000000"}, 5.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "4243"}, None),
        ({"WATCHDOG_USEC": "0", "WATCHDOG_PID": "4242"}, None),
        ({"WATCHDOG_USEC": "soon", "WATCHDOG_PID": "4242"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(environ: dict[str, str], expected: float | None) -> None:
    """Half of WATCHDOG_USEC, in seconds, only when WATCHDOG_PID is ours (or unset)."""
    assert watchdog_interval(environ, pid=4242) == expected


def test_watchdog_interval_defaults_to_this_process() -> None:
    """Without an explicit pid, WATCHDOG_PID is compared with os.getpid()."""
    env = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval(env) == 1.0


async def test_watchdog_loop_pings_only_while_healthy(
    receiver: tuple[socket.socket, str],
) -> None:
    """One ping per healthy tick, none while unhealthy, at the given interval."""
    sock, path = receiver
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path})
    verdicts = iter([True, False, False, True, True])
    slept: list[float] = []

    with anyio.CancelScope() as scope:

        async def fake_sleep(seconds: float) -> None:
            slept.append(seconds)
            if len(slept) == 5:
                scope.cancel()
            await anyio.lowlevel.checkpoint()

        await watchdog_loop(notifier, lambda: next(verdicts), interval=7.5, sleep=fake_sleep)

    assert slept == [7.5] * 5
    assert drain(sock) == ["WATCHDOG=1"] * 3


async def test_watchdog_loop_returns_without_watchdog(
    receiver: tuple[socket.socket, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no WATCHDOG_USEC the loop ends at once and never pings."""
    sock, path = receiver
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    with anyio.fail_after(5):
        await watchdog_loop(Notifier.from_env({"NOTIFY_SOCKET": path}), lambda: True)
    assert drain(sock) == []
