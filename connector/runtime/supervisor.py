"""SystemSupervisor: the one owner of an external system's session, tokens and limiter.

Everything that talks to a system goes through its supervisor's connection, so two flows that
share a ServiceTitan tenant share one rate budget and one token. The supervisor also owns the
loops that write to its system (:meth:`SystemSupervisor.serve` runs them in its own task
group), restarts any of them that crashes — whatever the exception — with backoff, so one
crashed poller never takes the process down, and keeps the health facts ``/healthz`` reports
(last success, last error, restarts, token state).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import anyio

from connector.errors import ConfigurationError, ConnectorError
from connector.http.limiter import RateLimiter
from connector.http.tokens import TokenCache

log = logging.getLogger(__name__)


class Connection(Protocol):
    """What every ``systems/*`` package's ``open_connection`` returns.

    Most also carry ``tokens`` (a :class:`TokenCache`); a system without tokens (SYSPRO logs
    on per polling cycle) has none, and its health shows the token state ``none``.
    """

    limiter: RateLimiter

    async def aclose(self) -> None: ...


C = TypeVar("C", bound=Connection)


def token_cache(connection: Connection) -> TokenCache | None:
    """The connection's token cache, or None for a system that has no tokens."""
    tokens = getattr(connection, "tokens", None)
    return tokens if isinstance(tokens, TokenCache) else None


@dataclass
class Health:
    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    restarts: int = 0

    def ok(self) -> None:
        self.last_success = time.time()

    def failed(self, error: BaseException) -> None:
        self.last_error = str(error)
        self.last_error_at = time.time()


@dataclass
class SystemSupervisor(Generic[C]):
    """Owns one connection. ``restart_backoff_s`` grows ×2 per consecutive crash, capped."""

    name: str
    kind: str
    connection: C
    health: Health = field(default_factory=Health)
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    def status(self) -> dict[str, object]:
        tokens = token_cache(self.connection)
        token = tokens.state() if tokens is not None else None
        return {
            "system": self.name,
            "kind": self.kind,
            "last_success": self.health.last_success,
            "last_error": self.health.last_error,
            "last_error_at": self.health.last_error_at,
            "restarts": self.health.restarts,
            "token": (
                {"state": token.status, "seconds_left": token.seconds_left}
                if token is not None
                else {"state": "none", "seconds_left": None}
            ),
            "limiter": {
                "wait_seconds_total": self.connection.limiter.wait_seconds_total,
                "throttled_total": self.connection.limiter.throttled_total,
            },
        }

    async def serve(
        self,
        children: Sequence[tuple[str, Callable[[], Awaitable[None]]]],
        on_stopped: Callable[[str, ConfigurationError], None] | None = None,
    ) -> None:
        """Run every child loop in this supervisor's own task group, each under
        :meth:`supervise`; returns when all have returned. A child stopped by a
        configuration error is reported to ``on_stopped`` and the others go on."""

        async def one(name: str, child: Callable[[], Awaitable[None]]) -> None:
            try:
                await self.supervise(name, child)
            except ConfigurationError as exc:
                if on_stopped is None:
                    raise
                on_stopped(name, exc)

        async with anyio.create_task_group() as tg:
            for name, child in children:
                tg.start_soon(one, name, child)

    async def supervise(self, name: str, child: Callable[[], Awaitable[None]]) -> None:
        """Run ``child`` until it returns; on a crash — any exception — log it, back off and
        start it again.

        Configuration errors are not restarted: no amount of retrying fixes a wrong CONO.
        """
        backoff = self.initial_backoff_s
        while True:
            try:
                await child()
                return
            except ConfigurationError as exc:
                self.health.failed(exc)
                log.error("%s/%s stopped: %s", self.name, name, exc)
                raise
            except Exception as exc:  # noqa: BLE001 - a bug must not end the loop for good
                self.health.failed(exc)
                self.health.restarts += 1
                if isinstance(exc, ConnectorError | OSError):
                    log.warning(
                        "%s/%s failed: %s; restarting in %.0fs", self.name, name, exc, backoff
                    )
                else:
                    log.exception("%s/%s crashed; restarting in %.0fs", self.name, name, backoff)
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    async def aclose(self) -> None:
        await self.connection.aclose()
