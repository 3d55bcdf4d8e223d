"""``ml-connector run``: the long-running service systemd supervises.

One process: a supervisor per configured system (built lazily by :class:`App`), each enabled
flow on its schedule, a webhook receiver with one path per flow (``/webhooks/<flow>``) whose
events are drained into the same pipeline, and an admin endpoint (``/healthz``,
``/metrics``) on loopback behind an optional bearer token.

Shutdown contract (SIGTERM/SIGINT): the webhook receiver stops accepting, schedules stop,
no new record starts, records being written finish; whatever is still running when
``shutdown_timeout_s`` ends is cancelled and left ``in_flight`` in the ledger, which the next
start verifies against the target before writing. Exit status 0. SIGHUP re-reads the config:
mapping tables apply at once; any other change is logged as needing a restart.
"""

from __future__ import annotations

import hmac
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from aiohttp import web

from connector.app import App
from connector.config import Config, FlowConfig, ServiceTitanSystem, load_config
from connector.config.schedule import parse_schedule
from connector.errors import ConfigurationError, ConnectorError
from connector.logs import configure_logging, log_context, redactor
from connector.metrics import CONTENT_TYPE, MetricsRegistry, ledger_samples
from connector.runtime.notify import Notifier, watchdog_loop
from connector.runtime.runner import CycleReport, FlowRunner
from connector.runtime.scheduler import run_on_schedule
from connector.runtime.supervisor import token_cache
from connector.systems.servicetitan.webhooks import SignatureVerifier, webhook_handler

log = logging.getLogger("connector.service")

#: How often a flow with webhooks drains its inbox even when no event woke it.
INBOX_SWEEP_S = 30.0


@dataclass
class FlowHealth:
    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    last_run_id: int | None = None
    running: bool = False


@dataclass
class Service:
    config_path: Path | None
    config: Config
    app: App
    notifier: Notifier = field(default_factory=Notifier.from_env)
    stop: anyio.Event = field(default_factory=anyio.Event)
    metrics: MetricsRegistry = field(default_factory=MetricsRegistry)
    flows: dict[str, FlowRunner] = field(default_factory=dict)
    health: dict[str, FlowHealth] = field(default_factory=dict)
    wake: dict[str, anyio.Event] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    #: Set whenever no run is in progress (shutdown waits on it).
    idle: anyio.Event = field(default_factory=anyio.Event)

    def __post_init__(self) -> None:
        self.runs_total = self.metrics.counter(
            "ml_connector_runs_total",
            "Runs finished, by flow, trigger and status.",
            ("flow", "trigger", "status"),
        )
        self.records_total = self.metrics.counter(
            "ml_connector_run_records_total",
            "Records handled by runs, by outcome.",
            ("flow", "stream", "outcome"),
        )
        self.run_seconds = self.metrics.histogram(
            "ml_connector_run_duration_seconds", "Duration of runs.", ("flow", "trigger")
        )
        self.webhooks_total = self.metrics.counter(
            "ml_connector_webhook_events_total", "Webhook events stored in the inbox.", ("flow",)
        )

    # -- life cycle -----------------------------------------------------------------------
    async def serve(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit status."""
        for name, flow in self.config.flows.items():
            if not flow.enabled:
                continue
            try:
                self.flows[name] = await self.app.runner(name)
            except ConnectorError as exc:
                # One flow's bad target (e.g. a wrong CONO) must not stop the others.
                log.error("flow %s not started: %s", name, exc, extra={"flow": name})
                self.health[name] = FlowHealth(last_error=str(exc), last_error_at=time.time())
                continue
            self.health[name] = FlowHealth()
            self.wake[name] = anyio.Event()
        for supervisor in self.app.supervisors.values():
            for value in self.app.vault.get(
                self.config.systems[supervisor.name].credential
            ).fields.values():
                redactor.register(value)
        webhook_site = await self._start_webhooks()
        admin_site = await self._start_admin()
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._signals, tg.cancel_scope)
            for name, runner in self.flows.items():
                flow = self.config.flows[name]
                tg.start_soon(
                    self._supervised, name, "schedule", partial(self._scheduled, name, runner, flow)
                )
                if flow.webhook:
                    tg.start_soon(
                        self._supervised, name, "webhooks", partial(self._drain_loop, name, runner)
                    )
            tg.start_soon(watchdog_loop, self.notifier, self._healthy)
            self.notifier.ready(self._status_line())
            log.info("ml-connector running: %s", self._status_line())
            await self.stop.wait()
            self.notifier.stopping()
            log.info(
                "stopping: finishing in-flight records (at most %.0fs)",
                self.config.service.shutdown_timeout_s,
            )
            if webhook_site is not None:
                await webhook_site.cleanup()
            for runner in self.flows.values():
                runner.stopping.set()
            with anyio.move_on_after(self.config.service.shutdown_timeout_s):
                if any(h.running for h in self.health.values()):
                    await self.idle.wait()
            tg.cancel_scope.cancel()
        if admin_site is not None:
            await admin_site.cleanup()
        log.info("stopped")
        return 0

    async def _signals(self, scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            async for signum in signals:
                if signum == signal.SIGHUP:
                    await self._reload()
                    continue
                self.stop.set()
                return

    async def _reload(self) -> None:
        if self.config_path is None:
            log.warning("SIGHUP: no config file to reload")
            return
        self.notifier.reloading()
        try:
            fresh = load_config(self.config_path)
        except ConnectorError as exc:
            log.error("SIGHUP: config not reloaded: %s", exc)
            self.notifier.ready(self._status_line())
            return
        for kind, values in fresh.mappings.items():
            await self.app.store.set_mappings(kind, dict(values))
        changed = [
            section
            for section in ("store", "vault", "service", "systems", "flows")
            if getattr(fresh, section) != getattr(self.config, section)
        ]
        if changed:
            log.warning(
                "SIGHUP: mappings reloaded; changes to %s need a restart to apply",
                ", ".join(changed),
            )
        else:
            log.info("SIGHUP: mappings reloaded")
        self.notifier.ready(self._status_line())

    # -- work -----------------------------------------------------------------------------
    async def _supervised(self, name: str, what: str, child: Callable[[], Awaitable[None]]) -> None:
        """Run a flow's loop under its target system's supervisor: restarted with backoff
        after a crash; stopped (and reported in /healthz) on a configuration error."""
        supervisor = self.app.supervisors[self.config.flows[name].target]
        try:
            await supervisor.supervise(f"{name}/{what}", child)
        except ConfigurationError as exc:
            health = self.health[name]
            health.last_error, health.last_error_at = str(exc), time.time()

    async def _scheduled(self, name: str, runner: FlowRunner, flow: FlowConfig) -> None:
        async def job() -> None:
            await self._run(
                name, "schedule", lambda: runner.cycle(streams=flow.streams, trigger="schedule")
            )

        await run_on_schedule(
            parse_schedule(flow.schedule), job, stop=self.stop, immediately=True, name=name
        )

    async def _drain_loop(self, name: str, runner: FlowRunner) -> None:
        while not self.stop.is_set():
            with anyio.move_on_after(INBOX_SWEEP_S):
                await self.wake[name].wait()
            if self.stop.is_set():
                return
            self.wake[name] = anyio.Event()
            if await self.app.store.pending_inbox(name, limit=1):
                await self._run(name, "webhook", runner.drain_inbox)

    async def _run(self, name: str, trigger: str, run: Callable[[], Any]) -> None:
        health = self.health[name]
        health.running = True
        if self.idle.is_set():
            self.idle = anyio.Event()
        started = time.monotonic()
        try:
            with log_context(flow=name):
                report: CycleReport = await run()
        except ConnectorError as exc:
            health.last_error, health.last_error_at = str(exc), time.time()
            log.error("%s run failed: %s", name, exc, extra={"flow": name})
            return
        finally:
            health.running = False
            if not any(h.running for h in self.health.values()):
                self.idle.set()
        self.run_seconds.observe(time.monotonic() - started, flow=name, trigger=trigger)
        self.runs_total.inc(flow=name, trigger=trigger, status=report.status)
        for stream, counts in report.streams.items():
            for outcome, n in counts.outcomes.items():
                self.records_total.inc(n, flow=name, stream=stream, outcome=outcome)
        health.last_run_id = report.run_id
        if report.ok:
            health.last_success = time.time()
        else:
            health.last_error, health.last_error_at = report.error, time.time()
            log.warning(
                "%s run %d: %s",
                name,
                report.run_id,
                report.error,
                extra={"flow": name, "run_id": report.run_id},
            )
        self.notifier.status(self._status_line())

    # -- listeners ------------------------------------------------------------------------
    async def _start_webhooks(self) -> web.AppRunner | None:
        routes = web.Application(client_max_size=2 * 1024 * 1024)
        count = 0
        for name in self.flows:
            flow = self.config.flows[name]
            source = self.config.systems[flow.source]
            if not flow.webhook or not isinstance(source, ServiceTitanSystem):
                continue
            if source.webhook_secret_credential is None:
                log.warning(
                    "flow %s: webhooks on but systems.%s.webhook_secret_credential unset",
                    name,
                    flow.source,
                )
                continue
            secret = self.app.vault.get(source.webhook_secret_credential)
            secrets = [
                v
                for k, v in sorted(secret.fields.items())
                if k in ("secret", "previous_secret") and v
            ]
            for value in secrets:
                redactor.register(value)
            verifier = SignatureVerifier(
                secrets, header=source.signature_header, encoding=source.signature_encoding
            )
            routes.router.add_post(
                f"/webhooks/{name}",
                webhook_handler(self.app.store, name, verifier, on_stored=self._woken(name)),
            )
            count += 1
        if count == 0:
            return None
        runner = web.AppRunner(routes, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(
            runner, self.config.service.webhook_host, self.config.service.webhook_port
        ).start()
        return runner

    def _woken(self, name: str) -> Callable[[], None]:
        def wake() -> None:
            self.webhooks_total.inc(flow=name)
            self.wake[name].set()

        return wake

    async def _start_admin(self) -> web.AppRunner:
        token = None
        if self.config.service.admin_token_credential:
            token = self.app.vault.get(self.config.service.admin_token_credential).secret("token")
            redactor.register(token)

        @web.middleware
        async def bearer(
            request: web.Request, handler: Callable[[web.Request], Any]
        ) -> web.StreamResponse:
            if token is not None:
                given = request.headers.get("Authorization", "")
                if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                    return web.json_response({"error": "bearer token required"}, status=401)
            response: web.StreamResponse = await handler(request)
            return response

        admin = web.Application(middlewares=[bearer])
        admin.router.add_get("/healthz", self._healthz)
        admin.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(admin, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(
            runner, self.config.service.admin_host, self.config.service.admin_port
        ).start()
        return runner

    async def _healthz(self, request: web.Request) -> web.Response:
        systems = [supervisor.status() for supervisor in self.app.supervisors.values()]
        flows = {
            name: {
                "last_success": h.last_success,
                "last_error": h.last_error,
                "last_error_at": h.last_error_at,
                "last_run_id": h.last_run_id,
                "running": h.running,
            }
            for name, h in self.health.items()
        }
        healthy = self._healthy()
        return web.json_response(
            {
                "status": "ok" if healthy else "degraded",
                "uptime_s": round(time.time() - self.started_at, 1),
                "systems": systems,
                "flows": flows,
            },
            status=200 if healthy else 503,
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        extra = [ledger_samples(await self.app.store.ledger_counts())]
        dead = self.metrics_gauge("ml_connector_dead_letters", "Open dead letters, by flow.")
        review = self.metrics_gauge("ml_connector_review_items", "Open review items, by flow.")
        for flow in self.config.flows:
            dead.set(len(await self.app.store.dead_letters(flow=flow)), flow=flow)
            review.set(len(await self.app.store.review_items(flow=flow)), flow=flow)
        depth = self.metrics_gauge(
            "ml_connector_queue_depth", "Records read and not yet finished.", ("flow", "stream")
        )
        for name, runner in self.flows.items():
            for stream, run in runner.active.items():
                depth.set(run.queue_depth, flow=name, stream=stream)
        wait = self.metrics_gauge(
            "ml_connector_limiter_wait_seconds",
            "Seconds spent waiting for a rate-limit slot.",
            ("system",),
        )
        throttled = self.metrics_gauge(
            "ml_connector_throttled_total_snapshot", "429/throttle answers seen.", ("system",)
        )
        refreshes = self.metrics_gauge(
            "ml_connector_token_refreshes", "Tokens fetched.", ("system",)
        )
        for supervisor in self.app.supervisors.values():
            connection = supervisor.connection
            wait.set(connection.limiter.wait_seconds_total, system=supervisor.name)
            throttled.set(connection.limiter.throttled_total, system=supervisor.name)
            tokens = token_cache(connection)
            if tokens is not None:
                refreshes.set(tokens.refresh_total, system=supervisor.name)
        extra += [dead, review, depth, wait, throttled, refreshes]
        return web.Response(
            text=self.metrics.render(extra=extra), headers={"Content-Type": CONTENT_TYPE}
        )

    @staticmethod
    def metrics_gauge(name: str, help: str, labels: tuple[str, ...] = ("flow",)) -> Any:
        from connector.metrics import Gauge

        return Gauge(name, help, labels)

    def _healthy(self) -> bool:
        return all(_flow_ok(h) for h in self.health.values())

    def _status_line(self) -> str:
        flows = ", ".join(
            f"{n}: {'ok' if _flow_ok(h) else 'error'}" for n, h in self.health.items()
        )
        return f"{len(self.flows)} flow(s) running; {flows or 'none configured'}"


def _flow_ok(health: FlowHealth) -> bool:
    """No error, or a success since the last one."""
    return health.last_error is None or (health.last_success or 0) > (health.last_error_at or 0)


async def run_service(config_path: Path | None, config: Config) -> int:
    configure_logging(config.service.log_level, json=True)
    app = await App.open(config)
    try:
        return await Service(config_path, config, app).serve()
    finally:
        with anyio.CancelScope(shield=True):
            await app.aclose()
