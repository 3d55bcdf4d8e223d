"""systemd ``Type=notify`` without libsystemd: readiness, status, watchdog, stop and reload.

The protocol (sd_notify(3)) is one datagram of ``KEY=VALUE`` lines sent to the AF_UNIX socket
named by ``$NOTIFY_SOCKET``: a filesystem path, or ``@name`` for the Linux abstract namespace.
When the variable is unset (run from a terminal, under a test, in a container without
systemd) every call here is a no-op, so the service code calls the notifier unconditionally.

Sending never blocks and never raises: a lost notification costs at worst a restart by
systemd's own timeouts, while an exception here would take down a healthy service.

Contract for the service (``ml-connector run``):

- ``ready()`` once listeners are bound and the schedules armed: systemd holds back units
  ordered after ours, and ``systemctl start`` returns, only then;
- ``reloading()`` when SIGHUP arrives, then ``ready()`` again when the new config is live;
- ``stopping()`` as soon as SIGTERM arrives, before the graceful drain;
- :func:`watchdog_loop` in the service's task group, with a ``healthy`` callback that turns
  false when the process is wedged (e.g. the event loop still runs but no flow can progress),
  so that ``WatchdogSec=`` restarts it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import anyio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notifier:
    """Sends sd_notify messages to ``address``; ``address=None`` makes every send a no-op.

    ``address`` is what :func:`socket.socket.sendto` takes: a filesystem path, or a string
    starting with NUL for an abstract-namespace socket. Build one with :meth:`from_env`.
    Each send opens a fresh non-blocking datagram socket, as libsystemd does, so a notifier
    holds no file descriptor and is safe to share between tasks.
    """

    address: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """A notifier for ``$NOTIFY_SOCKET`` (from ``environ``, default the process's).

        Unset or empty means no-op. An address that is neither a path nor ``@name`` (systemd
        253 also hands out ``vsock:`` addresses to VMs) is logged once and ignored, because
        a service that cannot report readiness still does its work.
        """
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        if not raw:
            return cls(None)
        if raw.startswith("@"):
            # The kernel's abstract namespace: '@' in the variable stands for a leading NUL.
            return cls("\0" + raw[1:])
        if raw.startswith("/"):
            return cls(raw)
        log.warning(
            "NOTIFY_SOCKET=%r is not an AF_UNIX path or @abstract name; systemd will not see "
            "readiness or watchdog pings, so use Type=simple or run on a host systemd",
            raw,
        )
        return cls(None)

    @property
    def enabled(self) -> bool:
        """Whether messages go anywhere (``$NOTIFY_SOCKET`` was usable)."""
        return self.address is not None

    def ready(self, status: str | None = None) -> bool:
        """``READY=1``: startup (or a reload) finished; optionally with a status line."""
        return self.send("READY=1", *_status_field(status))

    def status(self, text: str) -> bool:
        """``STATUS=…``: the one-line state ``systemctl status`` shows."""
        return self.send(*_status_field(text))

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: we are alive; resets systemd's ``WatchdogSec=`` timer."""
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        """``STOPPING=1``: graceful shutdown began; systemd waits up to ``TimeoutStopSec=``."""
        return self.send("STOPPING=1")

    def reloading(self) -> bool:
        """``RELOADING=1`` with ``MONOTONIC_USEC``; send ``ready()`` when the reload is done.

        systemd 253+ uses the timestamp to tell this reload from an earlier one; older
        versions ignore the field.
        """
        # Python's monotonic clock is CLOCK_MONOTONIC on Linux, the clock systemd compares.
        now_usec = time.monotonic_ns() // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={now_usec}")

    def send(self, *fields: str) -> bool:
        """Send ``fields`` as one datagram, one per line. True when the datagram left.

        False when disabled or when the send failed (socket gone, receive queue full); the
        failure is logged at debug level only, since systemd itself reports a unit that
        never became ready or stopped pinging.
        """
        if self.address is None or not fields:
            return False
        message = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.setblocking(False)
                sock.sendto(message, self.address)
        except OSError as exc:
            log.debug("sd_notify %s failed: %s", fields[0], exc)
            return False
        return True


def _status_field(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    # A newline would start a new KEY=VALUE field, letting a status text forge READY=1.
    return ("STATUS=" + " ".join(text.splitlines()),)


def watchdog_interval(
    environ: Mapping[str, str] | None = None, pid: int | None = None
) -> float | None:
    """Seconds between watchdog pings, or None when systemd expects none.

    systemd sets ``$WATCHDOG_USEC`` (from ``WatchdogSec=``) and ``$WATCHDOG_PID``; the
    watchdog is ours only when that pid is ``pid`` (default: this process), since a child
    inherits the variables. We ping at half the timeout, as sd_watchdog_enabled(3) advises,
    so one late tick of a busy event loop does not trigger a restart.
    """
    env = os.environ if environ is None else environ
    usec_text = env.get("WATCHDOG_USEC", "")
    if not usec_text:
        return None
    pid_text = env.get("WATCHDOG_PID", "")
    if pid_text:
        me = os.getpid() if pid is None else pid
        if not pid_text.isdigit() or int(pid_text) != me:
            return None
    if not usec_text.isdigit() or int(usec_text) == 0:
        log.warning("WATCHDOG_USEC=%r is not a positive integer; not pinging", usec_text)
        return None
    return int(usec_text) / 1_000_000 / 2


async def watchdog_loop(
    notifier: Notifier,
    healthy: Callable[[], bool],
    *,
    interval: float | None = None,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> None:
    """Ping the watchdog every ``interval`` seconds while ``healthy()`` says so, forever.

    ``interval`` defaults to :func:`watchdog_interval`; when that is None (no watchdog
    configured, or no notify socket) the function returns at once. While ``healthy()`` is
    false no ping is sent, so systemd restarts the service after ``WatchdogSec=``; the first
    unhealthy check is logged, so the journal says why the restart came. Runs until
    cancelled: start it in the service's task group.
    """
    period = watchdog_interval() if interval is None else interval
    if period is None or not notifier.enabled:
        return
    was_healthy = True
    while True:
        is_healthy = healthy()
        if is_healthy:
            notifier.watchdog()
            if not was_healthy:
                log.warning("health check passes again: systemd watchdog pings resumed")
        elif was_healthy:
            log.error(
                "health check failed: withholding systemd watchdog pings, so systemd will "
                "restart ml-connector unless health recovers"
            )
        was_healthy = is_healthy
        await sleep(period)
