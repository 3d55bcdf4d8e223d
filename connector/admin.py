"""The admin endpoint of ``ml-connector run``: ``/healthz``, ``/metrics`` and the CLI's
writing actions (:mod:`connector.admin_api`) on loopback, behind an optional bearer token,
and the console. Nothing here is served on the webhook port."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

from connector import admin_api, console
from connector.logs import redactor
from connector.metrics import CONTENT_TYPE, Gauge, ledger_samples

if TYPE_CHECKING:
    from connector.service import Service


async def start_admin(service: Service) -> web.AppRunner:
    """Serve /healthz and /metrics on the admin host and port."""
    token = None
    if service.config.service.admin_token_credential:
        token = service.app.vault.get(service.config.service.admin_token_credential).secret("token")
        redactor.register(token)

    # The console has its own login (a browser cannot send the bearer header).
    admin = web.Application(middlewares=[bearer_middleware(token, exempt="/console")])
    admin.router.add_get("/healthz", partial(_healthz, service))
    admin.router.add_get("/metrics", partial(_metrics, service))
    admin_api.mount(admin, service)
    console.mount(admin, service, token)
    runner = web.AppRunner(admin, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(
        runner, service.config.service.admin_host, service.config.service.admin_port
    ).start()
    return runner


def bearer_middleware(token: str | None, *, exempt: str | None = None) -> Any:
    """Refuses (401) a request without ``Authorization: Bearer <token>``; lets every
    request through when ``token`` is None, and paths under ``exempt``."""

    @web.middleware
    async def bearer(
        request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if token is not None and not (exempt and request.path.startswith(exempt)):
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return web.json_response({"error": "bearer token required"}, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    return bearer


async def _healthz(service: Service, request: web.Request) -> web.Response:
    systems = [supervisor.status() for supervisor in service.app.supervisors.values()]
    flows = {
        name: {
            "last_success": h.last_success,
            "last_error": h.last_error,
            "last_error_at": h.last_error_at,
            "last_run_id": h.last_run_id,
            "running": h.running,
        }
        for name, h in service.health.items()
    }
    healthy = service.healthy()
    return web.json_response(
        {
            "status": "ok" if healthy else "degraded",
            "uptime_s": round(time.time() - service.started_at, 1),
            "systems": systems,
            "flows": flows,
        },
        status=200 if healthy else 503,
    )


async def _metrics(service: Service, request: web.Request) -> web.Response:
    extra = [ledger_samples(await service.app.store.ledger_counts())]
    dead = _gauge("ml_connector_dead_letters", "Open dead letters, by flow.")
    review = _gauge("ml_connector_review_items", "Open review items, by flow.")
    dead_counts = await service.app.store.dead_letter_counts()
    review_counts = await service.app.store.review_counts()
    for flow in service.config.flows:
        dead.set(dead_counts.get(flow, 0), flow=flow)
        review.set(review_counts.get(flow, 0), flow=flow)
    depth = _gauge(
        "ml_connector_queue_depth", "Records read and not yet finished.", ("flow", "stream")
    )
    for name, runner in service.flows.items():
        for stream, run in runner.active.items():
            depth.set(run.queue_depth, flow=name, stream=stream)
    wait = _gauge(
        "ml_connector_limiter_wait_seconds",
        "Seconds spent waiting for a rate-limit slot.",
        ("system",),
    )
    throttled = _gauge(
        "ml_connector_throttled_total_snapshot", "429/throttle answers seen.", ("system",)
    )
    refreshes = _gauge("ml_connector_token_refreshes", "Tokens fetched.", ("system",))
    for supervisor in service.app.supervisors.values():
        connection = supervisor.connection
        wait.set(connection.limiter.wait_seconds_total, system=supervisor.name)
        throttled.set(connection.limiter.throttled_total, system=supervisor.name)
        tokens = getattr(connection, "tokens", None)  # SYSPRO signs in with sessions
        if tokens is not None:
            refreshes.set(tokens.refresh_total, system=supervisor.name)
    extra += [dead, review, depth, wait, throttled, refreshes]
    return web.Response(
        text=service.metrics.render(extra=extra), headers={"Content-Type": CONTENT_TYPE}
    )


def _gauge(name: str, help: str, labels: tuple[str, ...] = ("flow",)) -> Gauge:
    return Gauge(name, help, labels)
