"""End-to-end throughput and rate-limit efficiency: the connector against the sandbox.

The connector is built exactly as ``ml-connector sync`` builds it (:class:`connector.app.App`
on the config the sandbox wrote); the only change is to the request budgets in that config:
off for the end-to-end stage, the sandbox's own limit for the rate stages.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio
import msgspec

from bench.metrics import cpu_seconds, cpu_seconds_of
from bench.model import EndToEndResult, RateResult
from connector.app import App
from connector.config import (
    AcumaticaSystem,
    Config,
    IfsSystem,
    InforSystem,
    ServiceTitanSystem,
    SysproSystem,
)
from connector.demo import CLEARING_SUPPLIER
from connector.http.limiter import RateLimiter
from connector.systems.servicetitan.resources import RESOURCES

#: "No limit" for the connector's own limiters: far above anything the sandbox can serve.
UNLIMITED_PER_S = 1_000_000


def with_budgets(
    config: Config,
    *,
    servicetitan_per_s: float = UNLIMITED_PER_S,
    erp_per_minute: int = UNLIMITED_PER_S * 60,
) -> Config:
    """``config`` with every system's request budget replaced (0 = none, for Acumatica)."""
    systems = {}
    for name, system in config.systems.items():
        if isinstance(system, ServiceTitanSystem):
            system = msgspec.structs.replace(system, rate_per_second=servicetitan_per_s)
        elif isinstance(system, InforSystem):
            system = msgspec.structs.replace(system, requests_per_minute=erp_per_minute)
        elif isinstance(system, IfsSystem):
            system = msgspec.structs.replace(system, requests_per_minute=erp_per_minute)
        elif isinstance(system, SysproSystem):
            system = msgspec.structs.replace(system, requests_per_second=erp_per_minute / 60)
        elif isinstance(system, AcumaticaSystem):
            unlimited = erp_per_minute >= UNLIMITED_PER_S
            system = msgspec.structs.replace(
                system, requests_per_minute=0 if unlimited else erp_per_minute
            )
        systems[name] = system
    return msgspec.structs.replace(config, systems=systems)


async def end_to_end(config: Config, flow: str, sandbox_pid: int) -> EndToEndResult:
    """One full cycle of ``flow`` (every stream, cursors ignored) with budgets off."""
    app = await App.open(with_budgets(config))
    try:
        # Built (and the target validated) before the clock starts: that is set-up, not sync.
        runner = await app.runner(flow)
        requests_before = requests_sent(app)
        cpu_before, sandbox_before = cpu_seconds(), cpu_seconds_of(sandbox_pid)
        started = time.perf_counter()
        report = await runner.cycle(full=True, trigger="bench")
        seconds = time.perf_counter() - started
        connector_cpu = cpu_seconds() - cpu_before
        sandbox_cpu = cpu_seconds_of(sandbox_pid) - sandbox_before
        requests = requests_sent(app) - requests_before
    finally:
        await app.aclose()
    records = sum(counts.read for counts in report.streams.values())
    return EndToEndResult(
        flow=flow,
        records=records,
        seconds=round(seconds, 3),
        records_per_s=round(records / seconds, 1),
        connector_cpu_s=round(connector_cpu, 3),
        sandbox_cpu_s=round(sandbox_cpu, 3),
        requests=requests,
        streams=report.counts(),
        error=report.error,
    )


def requests_sent(app: App) -> int:
    """Requests sent so far to every system the app has opened (limiter slots granted)."""
    return sum(s.connection.limiter.acquired_total for s in app.supervisors.values())


async def servicetitan_rate(
    config: Config, *, seconds: float, warmup_s: float, limit_per_s: int, concurrency: int
) -> RateResult:
    """Single-record reads through the tenant's limiter, as many as it lets out."""
    app = await App.open(with_budgets(config, servicetitan_per_s=limit_per_s))
    try:
        supervisor = await app.supervisor("servicetitan")
        client = supervisor.connection.client
        units = RESOURCES["business_units"]
        ids = [unit.id async for unit in client.records(units)]

        async def one(n: int) -> None:
            await client.get(units, ids[n % len(ids)])

        return await _saturate(
            "servicetitan",
            supervisor.connection.limiter,
            one,
            limit=limit_per_s,
            period_s=1.0,
            seconds=seconds,
            warmup_s=warmup_s,
            concurrency=concurrency,
        )
    finally:
        await app.aclose()


async def erp_budget(
    config: Config, *, seconds: float, warmup_s: float, per_minute: int, concurrency: int
) -> RateResult:
    """M3 reads (one MI call each) through the gateway budget of ``per_minute``."""
    budgeted = with_budgets(config, erp_per_minute=per_minute)
    # One call must stay one request: coalesced, four callers' reads would share requests
    # and the figure would count calls the budget never saw.
    systems = {
        name: msgspec.structs.replace(s, coalesce_ms=0.0) if isinstance(s, InforSystem) else s
        for name, s in budgeted.systems.items()
    }
    app = await App.open(msgspec.structs.replace(budgeted, systems=systems))
    try:
        supervisor = await app.supervisor("infor")
        m3 = supervisor.connection.client

        async def one(n: int) -> None:
            await m3.get_supplier(CLEARING_SUPPLIER)

        return await _saturate(
            "infor",
            supervisor.connection.limiter,
            one,
            limit=per_minute,
            period_s=60.0,
            seconds=seconds,
            warmup_s=warmup_s,
            concurrency=concurrency,
        )
    finally:
        await app.aclose()


async def _saturate(
    system: str,
    limiter: RateLimiter,
    call: Callable[[int], Awaitable[None]],
    *,
    limit: int,
    period_s: float,
    seconds: float,
    warmup_s: float,
    concurrency: int,
) -> RateResult:
    """Keep ``concurrency`` callers busy; count calls that finish inside the measured window.

    The window opens after ``warmup_s`` (token fetch, the limiter's initial burst) and lasts
    ``seconds``; calls still waiting for the limiter when it closes are cancelled.
    """
    started = time.monotonic()
    window_opens = started + warmup_s
    window_closes = window_opens + seconds
    counted = 0
    throttled_at_open = limiter.throttled_total
    calls = 0

    async def caller() -> None:
        nonlocal counted, calls
        while time.monotonic() < window_closes:
            calls += 1
            await call(calls)
            if window_opens <= time.monotonic() < window_closes:
                counted += 1

    async def open_window() -> None:
        nonlocal throttled_at_open
        await anyio.sleep(warmup_s)
        throttled_at_open = limiter.throttled_total

    with anyio.move_on_after(warmup_s + seconds + 0.5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(open_window)
            for _ in range(concurrency):
                tg.start_soon(caller)
    return RateResult(
        system=system,
        limit=limit,
        period_s=period_s,
        warmup_s=warmup_s,
        seconds=seconds,
        requests=counted,
        requests_per_s=round(counted / seconds, 2),
        throttled_after_warmup=limiter.throttled_total - throttled_at_open,
        throttled_total=limiter.throttled_total,
    )
