"""The toyledger simulator: per tenant, invoices (seeded) and bills (created by POST).

Strict where the test needs it: a wrong key is a 401; more than ``limit`` requests of one
tenant in any rolling second are answered 429 with ``Retry-After``. Every request's arrival
time is kept per tenant (refused ones too), so a test can prove the cluster never went
over a tenant's limit, whichever nodes sent the requests.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

PAGE_SIZE = 50


@dataclass
class Tenant:
    key: str
    limit: int
    invoices: dict[str, int] = field(default_factory=dict)
    bills: list[dict[str, object]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    window: deque[float] = field(default_factory=deque)
    refused: int = 0


class ToyLedgerSim:
    def __init__(self, *, write_latency_s: float = 0.0) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.write_latency_s = write_latency_s
        self._next_bill = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    def seed(self, tenant: str, key: str, invoices: int, *, limit: int) -> None:
        self.tenants[tenant] = Tenant(
            key, limit, {f"{tenant}-inv-{n:05d}": 100 + n for n in range(invoices)}
        )

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/t/{tenant}/invoices", self._invoices)
        app.router.add_get("/t/{tenant}/invoices/{id}", self._invoice)
        app.router.add_get("/t/{tenant}/bills", self._bills)
        app.router.add_post("/t/{tenant}/bills", self._create_bill)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _admit(self, request: web.Request) -> Tenant:
        tenant = self.tenants.get(request.match_info["tenant"])
        if tenant is None or request.headers.get("X-Toy-Key") != tenant.key:
            raise web.HTTPUnauthorized(text='{"error": "unknown tenant or wrong key"}')
        now = time.monotonic()
        tenant.arrivals.append(now)
        while tenant.window and tenant.window[0] <= now - 1.0:
            tenant.window.popleft()
        if len(tenant.window) >= tenant.limit:
            tenant.refused += 1
            raise web.HTTPTooManyRequests(
                headers={"Retry-After": "1"}, text='{"error": "rate limit"}'
            )
        tenant.window.append(now)
        return tenant

    async def _invoices(self, request: web.Request) -> web.Response:
        tenant = self._admit(request)
        page = int(request.query.get("page", "0"))
        ids = sorted(tenant.invoices)[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        more = (page + 1) * PAGE_SIZE < len(tenant.invoices)
        data = [{"id": i, "amount": tenant.invoices[i]} for i in ids]
        return web.json_response({"data": data, "hasMore": more})

    async def _invoice(self, request: web.Request) -> web.Response:
        tenant = self._admit(request)
        invoice_id = request.match_info["id"]
        if invoice_id not in tenant.invoices:
            return web.json_response({"error": "no such invoice"}, status=404)
        return web.json_response({"id": invoice_id, "amount": tenant.invoices[invoice_id]})

    async def _bills(self, request: web.Request) -> web.Response:
        tenant = self._admit(request)
        ref = request.query.get("ref")
        return web.json_response([b for b in tenant.bills if b["ref"] == ref])

    async def _create_bill(self, request: web.Request) -> web.Response:
        tenant = self._admit(request)
        body = await request.json()
        if not isinstance(body.get("ref"), str) or not isinstance(body.get("amount"), int):
            return web.json_response(
                {"error": "ref (text) and amount (int) required"}, status=400
            )
        # The bill exists from here on, whatever happens to the reply (a node killed now
        # leaves a write in doubt that only a lookup settles).
        self._next_bill += 1
        bill = {"id": f"B{self._next_bill}", "ref": body["ref"], "amount": body["amount"]}
        tenant.bills.append(bill)
        if self.write_latency_s:
            await asyncio.sleep(self.write_latency_s)
        return web.json_response(bill, status=201)

    def max_per_rolling_second(self, tenant: str) -> int:
        """The most requests of ``tenant`` that arrived within any one second."""
        arrivals = sorted(self.tenants[tenant].arrivals)
        best, start = 0, 0
        for end, moment in enumerate(arrivals):
            while arrivals[start] <= moment - 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best


class SimThread:
    """The simulator on its own event loop in a thread, so that what the test does
    meanwhile (blocking database polls, vault writes) never delays its handlers: a delayed
    handler stamps requests late and in a bunch, as no real server would."""

    def __init__(self, sim: ToyLedgerSim) -> None:
        self.sim = sim
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="toyledger-sim", daemon=True)
        self.base_url = ""

    def __enter__(self) -> ToyLedgerSim:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the toyledger simulator did not start within 10 s")
        return self.sim

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.base_url = await self.sim.start()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.sim.stop()
