"""Machinery every simulator shares: the `/_sandbox/` admin API, fault injection, windows.

A simulator subclasses :class:`Simulator`, registers its routes in :meth:`Simulator.routes`
and keeps its state in plain Python objects. The base class wraps every non-admin request in
the fault middleware, so each system gets the same knobs (DESIGN.md, "The sandbox"):

``POST /_sandbox/faults`` body (all optional; unknown keys → 400)::

    {"rate_429": 0.1, "retry_after_s": 1, "rate_5xx": 0.05, "status_5xx": 503,
     "rate_timeout": 0.02, "rate_timeout_after_commit": 0.02, "rate_reset": 0.01,
     "latency_ms": 5, "hang_s": 5, "seed": 7,
     "script": [{"fault": "timeout_after_commit", "match": "write", "path_contains": "AddHead"}],
     ...plus the simulator's own knobs (token lifetime, rate limits…)}

``script`` entries fire once each, in order, on the next matching request; they make a test
deterministic where a rate would make it flaky. A "timeout" holds the request for ``hang_s``
and then drops the connection without a reply; "timeout_after_commit" runs the handler (the
write happens) and then does the same, which is exactly the in-doubt case clients must settle.

This package imports nothing from ``connector.systems`` or ``connector.flows``: simulators are
written from the system sheets, not from our clients, so they catch our misunderstandings.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import msgspec
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FAULT_NAMES = ("429", "5xx", "timeout", "timeout_after_commit", "reset")


class ScriptedFault(msgspec.Struct, forbid_unknown_fields=True):
    """One fault to inject once, on the next request that matches."""

    fault: str
    match: str = "any"  # any | read | write
    path_contains: str | None = None


class FaultKnobs(msgspec.Struct, forbid_unknown_fields=True):
    """Fault rates shared by every simulator. Rates are probabilities per request."""

    rate_429: float = 0.0
    retry_after_s: float | None = 1.0
    rate_5xx: float = 0.0
    status_5xx: int = 503
    rate_timeout: float = 0.0
    rate_timeout_after_commit: float = 0.0
    rate_reset: float = 0.0
    latency_ms: float = 0.0
    hang_s: float = 5.0
    seed: int = 0
    script: list[ScriptedFault] = msgspec.field(default_factory=list)


class SlidingWindow:
    """Counts events in the last ``window`` seconds: the shape of every rate limit here."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._events: deque[float] = deque()

    def count(self, now: float) -> int:
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()
        return len(self._events)

    def add(self, now: float) -> None:
        self._events.append(now)

    def seconds_until_free(self, now: float) -> float:
        """How long until the oldest event in the window leaves it."""
        if not self._events:
            return 0.0
        return max(0.0, self._events[0] + self.window - now)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON reply encoded with msgspec (fast, and exact about floats and strings)."""
    return web.Response(
        body=msgspec.json.encode(body),
        status=status,
        content_type="application/json",
        headers=headers,
    )


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or None when the body is not valid JSON."""
    raw = await request.read()
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


class Simulator:
    """Base class of one system's simulator: an aiohttp app plus the admin API.

    Subclasses set ``name`` and ``port_offset``, add routes in :meth:`routes`, and implement
    :meth:`state`, :meth:`seed`, :meth:`reset` and :meth:`credentials`. Their own knobs are
    a msgspec Struct in ``knobs`` (``Knobs`` class attribute); ``POST /_sandbox/faults``
    splits a body between :class:`FaultKnobs` and those.
    """

    name: ClassVar[str] = "base"
    port_offset: ClassVar[int] = 0
    Knobs: ClassVar[type[msgspec.Struct]] = msgspec.Struct
    #: Limits of aiohttp's request parser (``max_line_size``…), for systems whose real
    #: servers accept longer request lines than aiohttp's 8 KiB default (SYSPRO sends whole
    #: XML documents in the query string).
    handler_args: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        self.faults = FaultKnobs()
        self.knobs: Any = self.Knobs()
        self.rng = random.Random(0)
        self.base_url = ""
        #: Counters every simulator reports in `/_sandbox/state` under "counters".
        self.counters: dict[str, int] = {"requests": 0, "served_429": 0, "injected": 0}
        self._runner: web.AppRunner | None = None

    # -- to implement -------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def credentials(self) -> dict[str, Any]:
        raise NotImplementedError

    def is_write(self, request: web.Request) -> bool:
        """Whether a request changes state (decides timeout-after-commit and 'write' scripts)."""
        return request.method in ("POST", "PUT", "PATCH", "DELETE")

    def fault_exempt(self, request: web.Request) -> bool:
        """Requests the generic faults never touch (token endpoints can override this)."""
        return False

    # -- the app ------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application(
            middlewares=[self._fault_middleware],
            client_max_size=8 * 1024**2,
            handler_args=self.handler_args or None,
        )
        app.router.add_get("/_sandbox/state", self._admin_state)
        app.router.add_post("/_sandbox/seed", self._admin_seed)
        app.router.add_post("/_sandbox/faults", self._admin_faults)
        app.router.add_get("/_sandbox/faults", self._admin_get_faults)
        app.router.add_post("/_sandbox/reset", self._admin_reset)
        app.router.add_get("/_sandbox/credentials", self._admin_credentials)
        self.routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 = any free port); returns the base URL."""
        # A short shutdown timeout: a request hung on purpose (a "timeout" fault) must not
        # hold up stopping the simulator for aiohttp's default minute.
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        # aiohttp exposes the bound port only through the site's server (port 0 = any).
        server = site._server
        if not isinstance(server, asyncio.base_events.Server):
            raise RuntimeError(f"{self.name} simulator did not start listening on {host}:{port}")
        bound_port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- admin --------------------------------------------------------------------------
    async def _admin_state(self, request: web.Request) -> web.Response:
        body = self.state()
        body["counters"] = dict(self.counters)
        return json_response(body)

    async def _admin_seed(self, request: web.Request) -> web.Response:
        params = await read_json(request) or {}
        if not isinstance(params, dict):
            return json_response({"error": "seed body must be a JSON object"}, 400)
        return json_response(self.seed(params))

    async def _admin_faults(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_response({"error": "faults body must be a JSON object"}, 400)
        fault_fields = set(FaultKnobs.__struct_fields__)
        knob_fields = set(self.Knobs.__struct_fields__)
        unknown = set(body) - fault_fields - knob_fields
        if unknown:
            return json_response({"error": f"unknown knobs: {sorted(unknown)}"}, 400)
        try:
            merged_faults = msgspec.to_builtins(self.faults) | {
                k: v for k, v in body.items() if k in fault_fields
            }
            merged_knobs = msgspec.to_builtins(self.knobs) | {
                k: v for k, v in body.items() if k in knob_fields
            }
            self.faults = msgspec.convert(merged_faults, FaultKnobs)
            self.knobs = msgspec.convert(merged_knobs, self.Knobs)
        except msgspec.ValidationError as exc:
            return json_response({"error": str(exc)}, 400)
        if "seed" in body:
            self.rng.seed(self.faults.seed)
        return json_response(self._faults_body())

    async def _admin_get_faults(self, request: web.Request) -> web.Response:
        return json_response(self._faults_body())

    def _faults_body(self) -> dict[str, Any]:
        return {
            "faults": msgspec.to_builtins(self.faults),
            "knobs": msgspec.to_builtins(self.knobs),
        }

    async def _admin_reset(self, request: web.Request) -> web.Response:
        self.faults = FaultKnobs()
        self.knobs = self.Knobs()
        self.rng.seed(0)
        self.counters = {"requests": 0, "served_429": 0, "injected": 0}
        self.reset()
        return json_response({"reset": True})

    async def _admin_credentials(self, request: web.Request) -> web.Response:
        return json_response(self.credentials())

    # -- faults -------------------------------------------------------------------------
    def _pick_fault(self, request: web.Request) -> str | None:
        write = self.is_write(request)
        for i, scripted in enumerate(self.faults.script):
            if scripted.match == "write" and not write:
                continue
            if scripted.match == "read" and write:
                continue
            if scripted.path_contains and scripted.path_contains not in request.path_qs:
                continue
            del self.faults.script[i]
            return scripted.fault
        f = self.faults
        roll = self.rng.random()
        for name, rate in (
            ("429", f.rate_429),
            ("5xx", f.rate_5xx),
            ("timeout", f.rate_timeout),
            ("reset", f.rate_reset),
        ):
            if roll < rate:
                return name
            roll -= rate
        if write and self.rng.random() < f.rate_timeout_after_commit:
            return "timeout_after_commit"
        return None

    @web.middleware
    async def _fault_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            return await handler(request)
        self.counters["requests"] += 1
        if self.fault_exempt(request):
            return await handler(request)
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        fault = self._pick_fault(request)
        if fault is None:
            return await handler(request)
        self.counters["injected"] += 1
        if fault == "429":
            self.counters["served_429"] += 1
            headers = {}
            if self.faults.retry_after_s is not None:
                headers["Retry-After"] = str(int(max(1, round(self.faults.retry_after_s))))
            return self.too_many_requests(headers)
        if fault == "5xx":
            return json_response({"error": "Service Unavailable"}, self.faults.status_5xx)
        if fault == "reset":
            _drop_connection(request)
            raise asyncio.CancelledError
        if fault == "timeout":
            await asyncio.sleep(self.faults.hang_s)
            _drop_connection(request)
            raise asyncio.CancelledError
        if fault == "timeout_after_commit":
            await handler(request)
            await asyncio.sleep(self.faults.hang_s)
            _drop_connection(request)
            raise asyncio.CancelledError
        raise ValueError(f"unknown scripted fault {fault!r}; use one of {FAULT_NAMES}")

    def too_many_requests(self, headers: dict[str, str]) -> web.Response:
        """The system's own 429 body; simulators override it to match the real one."""
        return json_response({"error": "Too Many Requests"}, 429, headers)


def _drop_connection(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()


def monotonic() -> float:
    """The clock simulators use for token lifetimes and windows (one place to fake it)."""
    return time.monotonic()
