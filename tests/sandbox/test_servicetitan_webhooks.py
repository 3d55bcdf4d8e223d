"""ServiceTitan simulator webhooks: signing, retries on the scaled schedule, duplicates, replay.

Each test runs its own loopback receiver, so what is checked is what actually arrived."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import StartSimulator
from tests.sandbox.test_servicetitan import ST, connect

SECRET = "k" * 24 + "-sandbox-hmac-key"


@pytest.fixture
async def st(start_simulator: StartSimulator) -> AsyncIterator[ST]:
    """A fresh ServiceTitan simulator with credentials and a live token."""
    async with connect(start_simulator) as client:
        yield client


class Receiver:
    """A webhook endpoint that records deliveries and answers with scripted statuses."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.statuses: list[int] = []
        self.arrived = asyncio.Condition()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self.statuses.pop(0) if self.statuses else 200
        async with self.arrived:
            self.deliveries.append((body, dict(request.headers)))
            self.arrived.notify_all()
        return web.Response(status=status)

    async def wait_for(self, count: int) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.deliveries) >= count), 5)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.deliveries]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A loopback webhook receiver, stopped after the test."""
    hook = Receiver()
    await hook.start()
    yield hook
    await hook.stop()


async def subscribe(st: ST, receiver: Receiver, event: str, secret: str | None = SECRET) -> int:
    body = await st.admin(
        "POST", "webhooks", {"event": event, "url": receiver.url, "secret": secret}
    )
    return int(body["id"])


async def outcomes(st: ST) -> list[dict[str, Any]]:
    return list((await st.admin("GET", "state"))["webhooks"]["outcomes"])


async def test_delivery_is_signed_with_hmac_sha256_base64(st: ST, receiver: Receiver) -> None:
    """The receiver can verify X-ServiceTitan-Signature over the raw body with its key."""
    await st.seed()
    await subscribe(st, receiver, "invoice")
    await st.admin("POST", "generate", {"entity": "invoices", "count": 1})
    await receiver.wait_for(1)
    raw, headers = receiver.deliveries[0]
    expected = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    assert headers["X-ServiceTitan-Signature"] == expected
    event = json.loads(raw)
    assert event["eventType"] == "invoice.created" and event["tenantId"] == st.tenant
    listed = (await st.get("accounting", "invoices", ids=str(event["data"]["id"])))["data"][0]
    assert event["data"] == listed


async def test_signature_header_and_encoding_are_knobs(st: ST, receiver: Receiver) -> None:
    """signature_header and signature_encoding=hex change how deliveries are signed."""
    await st.seed()
    await st.knobs(signature_header="X-Hook-Sig", signature_encoding="hex")
    await subscribe(st, receiver, "customer")
    await st.call("PATCH", "crm", "customers/100001", json={"doNotService": True})
    await receiver.wait_for(1)
    raw, headers = receiver.deliveries[0]
    assert headers["X-Hook-Sig"] == hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert json.loads(raw)["eventType"] == "customer.updated"


async def test_unsigned_subscription_sends_no_signature(st: ST, receiver: Receiver) -> None:
    """A subscription without a key gets no signature header; a short key is refused."""
    await st.seed()
    await subscribe(st, receiver, "job", secret=None)
    await st.admin("POST", "generate", {"entity": "jobs", "count": 1})
    await receiver.wait_for(1)
    assert "X-ServiceTitan-Signature" not in receiver.deliveries[0][1]
    async with st.session.post(
        f"{st.base}/_sandbox/webhooks",
        json={"event": "job", "url": receiver.url, "secret": "short"},
    ) as reply:
        assert reply.status == 400 and "32 to 64" in (await reply.json())["error"]


async def test_failed_delivery_is_retried_on_the_scaled_schedule(
    st: ST, receiver: Receiver
) -> None:
    """After two 500s the third attempt lands; waits follow 10 s, 30 s × webhook_time_scale."""
    await st.seed()
    await st.knobs(webhook_time_scale=0.001)
    receiver.statuses = [500, 500]
    await subscribe(st, receiver, "invoice")
    await st.admin("POST", "generate", {"entity": "invoices", "count": 1})
    await receiver.wait_for(3)
    state = (await st.admin("GET", "state"))["webhooks"]
    attempts = [(d["attempt"], d["status"], d["delaySeconds"]) for d in state["deliveries"]]
    assert attempts == [(1, 500, 0.0), (2, 500, 0.01), (3, 200, 0.03)]
    bodies = {body for body, _ in receiver.deliveries}
    assert len(bodies) == 1
    assert state["outcomes"][0]["state"] == "delivered"


async def test_delivery_gives_up_after_the_schedule(st: ST, receiver: Receiver) -> None:
    """Five failed attempts (now, 10, 30, 60, 300 s scaled) end in state failed."""
    await st.seed()
    await st.knobs(webhook_time_scale=0.0005)
    receiver.statuses = [503] * 10
    await subscribe(st, receiver, "payment")
    await st.admin("POST", "generate", {"entity": "payments", "count": 1})
    await receiver.wait_for(5)
    for _ in range(100):
        if (await outcomes(st))[0]["state"] != "pending":
            break
        await asyncio.sleep(0.01)
    result = (await outcomes(st))[0]
    assert result["state"] == "failed" and result["attempts"] == 5
    await asyncio.sleep(0.05)
    assert len(receiver.deliveries) == 5


async def test_duplicate_delivery_knob_resends_the_same_event(st: ST, receiver: Receiver) -> None:
    """duplicate_delivery_rate=1 sends each successful delivery twice with one eventId."""
    await st.seed()
    await st.knobs(duplicate_delivery_rate=1.0)
    await subscribe(st, receiver, "customer")
    await st.admin("POST", "generate", {"entity": "customers", "count": 1})
    await receiver.wait_for(2)
    first, second = receiver.deliveries[:2]
    assert first[0] == second[0]
    assert first[1]["X-ServiceTitan-Signature"] == second[1]["X-ServiceTitan-Signature"]


async def test_replay_resends_an_event_by_hand(st: ST, receiver: Receiver) -> None:
    """POST /_sandbox/webhooks/replay delivers a stored event again with the same body."""
    await st.seed()
    await subscribe(st, receiver, "job")
    await st.admin("POST", "generate", {"entity": "jobs", "count": 1})
    await receiver.wait_for(1)
    event_id = receiver.bodies()[0]["eventId"]
    replayed = await st.admin("POST", "webhooks/replay", {"eventId": event_id})
    assert replayed["results"][0]["delivered"] is True
    assert receiver.deliveries[1][0] == receiver.deliveries[0][0]


async def test_payment_fires_payment_created_and_invoice_updated(
    st: ST, receiver: Receiver
) -> None:
    """A new payment is a payment event and, through the balance, an invoice event."""
    await st.seed()
    await subscribe(st, receiver, "payment")
    await subscribe(st, receiver, "invoice")
    await st.admin("POST", "generate", {"entity": "payments", "count": 1})
    await receiver.wait_for(2)
    types = sorted(body["eventType"] for body in receiver.bodies())
    assert types == ["invoice.updated", "payment.created"]


async def test_seeding_fires_no_webhooks_and_unsubscribe_stops_them(
    st: ST, receiver: Receiver
) -> None:
    """Seeding is silent; after DELETE a subscription receives nothing."""
    subscription = await subscribe(st, receiver, "customer")
    await st.seed()
    await st.admin("DELETE", f"webhooks/{subscription}")
    await st.admin("POST", "generate", {"entity": "customers", "count": 2})
    await asyncio.sleep(0.05)
    assert receiver.deliveries == []
    assert (await st.admin("GET", "webhooks"))["subscriptions"] == []
