"""Webhook latency: from an event's delivery to its record's write in the target.

The connector side is assembled from the same pieces the service uses: the ServiceTitan
receiver (:func:`webhook_handler`: verify, store in the inbox, acknowledge) waking a drain
of the flow's inbox (:meth:`FlowRunner.drain_inbox`). The harness creates invoices in the
sandbox at a fixed rate; the sandbox delivers each one as a signed webhook.

Latency per event is read back from the state database, so no clock but the connector's
own is involved: ``inbox.received_at`` is stamped when the delivery is stored (before the
2xx), ``inbox.processed_at`` in the same commit as the record's ``done`` state, i.e. right
after the target accepted the write.

The receiver's own latency (what the sender waits for: the event durable in the inbox, then
the 2xx) is the server's request time as aiohttp's access log measures it, from the request
read off the socket to the reply handed back, for every delivery answered 2xx.
"""

from __future__ import annotations

import sys

import aiohttp
import anyio
import msgspec
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bench.metrics import percentile
from bench.model import WebhookReady, WebhookResult
from bench.stage_remote import requests_sent
from connector.app import App
from connector.config import Config, ServiceTitanSystem
from connector.runtime.runner import FlowRunner
from connector.systems.servicetitan.webhooks import SignatureVerifier, webhook_handler

#: How long the last events may take to land after the harness stops creating them.
SETTLE_S = 60.0


class _ReceiverTimes(AbstractAccessLogger):
    """aiohttp's access log, kept as seconds per answered delivery instead of lines."""

    seconds: list[float] = []

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if 200 <= response.status < 300:
            self.seconds.append(time)


class _Wakeup:
    """A re-armable event: ``set`` from the receiver, ``wait`` then re-arm in the drainer."""

    def __init__(self) -> None:
        self.event = anyio.Event()

    def set(self) -> None:
        self.event.set()

    async def wait(self) -> None:
        await self.event.wait()
        self.event = anyio.Event()


async def webhook_latency(
    config: Config, flow: str, source: str, *, settle_s: float = SETTLE_S
) -> WebhookResult:
    """Serve a receiver, announce it, drain until the harness's events have all landed (or
    ``settle_s`` after the harness is done: a receiver-latency run does not wait for them).

    Protocol with the harness: print :class:`WebhookReady` as one JSON line, then read one
    line from standard input carrying the number of events the harness created.
    """
    system = config.systems[source]
    if not isinstance(system, ServiceTitanSystem) or system.webhook_secret_credential is None:
        raise SystemExit(f"systems.{source} is not a ServiceTitan tenant with a webhook secret")
    # The budgets stay as configured: a live service has its limiters on.
    app = await App.open(config)
    try:
        runner = await app.runner(flow)
        # Reference data first, as a scheduled cycle would have done before any webhook.
        await runner.cycle(trigger="bench")
        secret = app.vault.get(system.webhook_secret_credential).secret("secret")
        verifier = SignatureVerifier(
            [secret], header=system.signature_header, encoding=system.signature_encoding
        )
        wakeup = _Wakeup()
        receiver = web.Application()
        receiver.router.add_post(
            "/hook", webhook_handler(app.store, flow, verifier, on_stored=wakeup.set)
        )
        _ReceiverTimes.seconds = []
        site_runner = web.AppRunner(receiver, access_log_class=_ReceiverTimes)
        await site_runner.setup()
        site = web.TCPSite(site_runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = site_runner.addresses[0][1]
            url = f"http://127.0.0.1:{port}/hook"
            await _subscribe(system.resolved_api_url, url, secret)
            sys.stdout.write(msgspec.json.encode(WebhookReady(url)).decode() + "\n")
            sys.stdout.flush()
            return await _drain_until_done(app, runner, flow, wakeup, settle_s)
        finally:
            await site_runner.cleanup()
    finally:
        await app.aclose()


async def _subscribe(sandbox_url: str, receiver_url: str, secret: str) -> None:
    body = {"event": "invoice", "url": receiver_url, "secret": secret}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sandbox_url}/_sandbox/webhooks", json=body) as response:
            response.raise_for_status()


async def _drain_until_done(
    app: App, runner: FlowRunner, flow: str, wakeup: _Wakeup, settle_s: float
) -> WebhookResult:
    drains = 0
    error: str | None = None
    requests_before = requests_sent(app)

    async def drain_forever() -> None:
        nonlocal drains, error
        while True:
            await wakeup.wait()
            report = await runner.drain_inbox()
            drains += 1
            error = error or report.error

    async with anyio.create_task_group() as tg:
        tg.start_soon(drain_forever)
        line = await anyio.to_thread.run_sync(sys.stdin.readline)
        created = int(line.strip() or 0)
        with anyio.move_on_after(settle_s):
            while not await _all_landed(app, flow, created):
                wakeup.set()  # a drain that ended as the last event arrived must look again
                await anyio.sleep(0.05)
        tg.cancel_scope.cancel()
    requests = requests_sent(app) - requests_before
    rows = await app.store.db.fetchall(
        "SELECT received_at, processed_at FROM inbox WHERE flow = ?", (flow,)
    )
    latencies = [(r[1] - r[0]) * 1000 for r in rows if r[1] is not None]
    replies = [seconds * 1000 for seconds in _ReceiverTimes.seconds]
    return WebhookResult(
        events=len(rows),
        processed=len(latencies),
        p50_ms=round(percentile(latencies, 0.50), 1),
        p99_ms=round(percentile(latencies, 0.99), 1),
        max_ms=round(max(latencies, default=0.0), 1),
        drains=drains,
        requests=requests,
        deliveries=len(replies),
        receiver_p50_ms=round(percentile(replies, 0.50), 1),
        receiver_p99_ms=round(percentile(replies, 0.99), 1),
        receiver_max_ms=round(max(replies, default=0.0), 1),
        error=error,
    )


async def _all_landed(app: App, flow: str, created: int) -> bool:
    rows = await app.store.db.fetchall(
        "SELECT COUNT(*), COUNT(processed_at) FROM inbox WHERE flow = ?", (flow,)
    )
    received, processed = int(rows[0][0]), int(rows[0][1])
    return received >= created and processed == received
