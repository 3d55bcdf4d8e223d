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

import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import msgspec
from aiohttp import web

from connector import registry
from connector.admin import start_admin
from connector.alerts import Alerts
from connector.app import App, apply_config_mappings
from connector.config import Config, FlowConfig, load_config
from connector.config.schedule import parse_schedule
from connector.errors import ConfigurationError, ConnectorError
from connector.logs import configure_logging, log_context, redactor
from connector.metrics import MetricsRegistry
from connector.registry import WebhookContext, WebhookReceiver
from connector.runtime.notify import Notifier, watchdog_loop
from connector.runtime.runner import CycleReport, FlowRunner
from connector.runtime.scheduler import run_on_schedule

log = logging.getLogger("connector.service")

#: One of a flow's loops (its schedule, its webhook drain), run under a supervisor.
Loop = Callable[[], Awaitable[None]]
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
        self.alerts = Alerts.from_config(self.config.service, self.app.vault.get)
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
        admin_site = await start_admin(self)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._signals, tg.cancel_scope)
            for system, loops in _loops_by_system(self).items():
                tg.start_soon(self.app.supervisors[system].serve, loops, self._flow_stopped)
            tg.start_soon(watchdog_loop, self.notifier, self.healthy)
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
        await apply_config_mappings(self.app.store, fresh)
        # The mappings are live now: the admin API and console judge which ones the file
        # owns (and so cannot be changed there) by the file as it is, not as it was.
        self.config = msgspec.structs.replace(self.config, mappings=fresh.mappings)
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
    def _flow_stopped(self, loop: str, exc: ConfigurationError) -> None:
        health = self.health[loop.split("/", 1)[0]]
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
        await self.alerts.after_run(self.app.store, report)
        if report.ok:
            health.last_success = time.time()
            flow = self.config.flows[name]
            for system in {flow.source, flow.target}:
                self.app.supervisors[system].health.ok()
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
            if not flow.webhook:
                continue
            # The system that sends the events may be either side of the flow (ServiceTitan
            # is the target of ifs-servicetitan, whose ServiceTitan documents go to IFS).
            sender = next(
                (
                    (system_name, receiver)
                    for system_name in (flow.source, flow.target)
                    if (receiver := self._receiver(system_name)) is not None
                ),
                None,
            )
            if sender is None:
                continue
            system_name, receiver = sender
            handler = receiver(
                WebhookContext(
                    flow=name,
                    system=system_name,
                    config=self.config.systems[system_name],
                    store=self.app.store,
                    credential=self.app.vault.get,
                    on_stored=self._woken(name),
                )
            )
            if handler is None:
                continue
            routes.router.add_post(f"/webhooks/{name}", handler)
            count += 1
        if count == 0:
            return None
        runner = web.AppRunner(routes, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(
            runner, self.config.service.webhook_host, self.config.service.webhook_port
        ).start()
        return runner

    def _receiver(self, system_name: str) -> WebhookReceiver | None:
        kind = self.config.systems[system_name].kind
        return registry.system(kind).webhook_receiver

    def _woken(self, name: str) -> Callable[[], None]:
        def wake() -> None:
            self.webhooks_total.inc(flow=name)
            self.wake[name].set()

        return wake

    def healthy(self) -> bool:
        return all(_flow_ok(h) for h in self.health.values())

    def _status_line(self) -> str:
        flows = ", ".join(
            f"{n}: {'ok' if _flow_ok(h) else 'error'}" for n, h in self.health.items()
        )
        return f"{len(self.flows)} flow(s) running; {flows or 'none configured'}"


def _loops_by_system(service: Service) -> dict[str, list[tuple[str, Loop]]]:
    """Each flow's loops, under the supervisor of the system they write to: restarted
    with backoff after a crash, stopped (and reported in /healthz) on a configuration
    error."""
    loops: dict[str, list[tuple[str, Loop]]] = {}
    for name, runner in service.flows.items():
        flow = service.config.flows[name]
        mine = loops.setdefault(flow.target, [])
        mine.append((f"{name}/schedule", partial(service._scheduled, name, runner, flow)))
        if flow.webhook:
            mine.append((f"{name}/webhooks", partial(service._drain_loop, name, runner)))
    return loops


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
