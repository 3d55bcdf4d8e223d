"""Webhooks: 1,000 deliveries, a third of them duplicates or forgeries, and each valid event
is processed exactly once while every bad one is refused and never stored.

The deliveries are ServiceTitan invoice events as the sandbox sends them (envelope with
``eventId``, ``eventType``, ``data`` = the invoice as the API returns it), POSTed over
loopback to the real receiver (``webhook_handler``) by several senders at once:

* 30 % redeliveries of an event already sent (same bytes, same signature);
* 10 % bad signatures: another key, a body changed after signing, no header, not base64;
* malformed JSON and valid JSON that is no event, correctly signed;
* authentic events whose invoice does not fit ServiceTitan's model (stored, as ServiceTitan
  really sent them, then dead-lettered when the inbox is drained);
* oversized bodies, with and without a Content-Length;
* after the inbox was drained, replays of old events (ServiceTitan's manual replay).

Several events name the same invoice (it was updated), so "processed once" is checked per
event (each inbox row processed, none twice) and per invoice (one M3 batch each).
"""

from __future__ import annotations

import io
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import anyio
import msgspec
import pytest
from aiohttp import web

from connector import demo
from connector.app import App
from connector.sandbox.servicetitan.store import public
from connector.systems.servicetitan.webhooks import (
    MAX_BODY_BYTES,
    SignatureVerifier,
    webhook_handler,
)
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import (
    FLOW,
    Figures,
    batches_by_cori,
    contractor,
    infor,
    servicetitan,
    start_tenant,
)

HEADER = "X-ServiceTitan-Signature"
DELIVERIES = 1000
INVOICES = 60
SENDERS = 16
#: Share of the deliveries, by kind; the rest are first deliveries of valid events.
SHARES = {
    "duplicate": 0.30,
    "bad_signature": 0.10,
    "malformed": 0.02,
    "oversized": 0.004,
    "bad_data": 0.01,
}
REPLAYS = 50
EXPECTED_STATUS = {
    "valid": 200,
    "bad_data": 200,
    "duplicate": 200,
    "replay": 200,
    "bad_signature": 401,
    "malformed": 400,
    "oversized": 413,
}


@dataclass(frozen=True)
class Delivery:
    """One POST to the receiver: what kind it is, its event id, body and signature."""

    kind: str
    event_id: str
    body: bytes | None  # None: streamed without Content-Length (oversized)
    signature: str | None


class Deliveries:
    """Builds the deliveries from the tenant's invoices, deterministically from a seed."""

    def __init__(self, invoices: list[dict[str, object]], secret: str, seed: int) -> None:
        self.invoices = invoices
        self.signer = SignatureVerifier([secret], header=HEADER)
        self.forger = SignatureVerifier(["not-the-subscription-secret-0123456789"], header=HEADER)
        self.rng = random.Random(seed)
        self.sent: list[Delivery] = []

    def event(self, *, kind: str = "valid") -> Delivery:
        invoice = self.rng.choice(self.invoices)
        if kind == "bad_data":
            invoice = {**invoice, "total": 12.5, "items": "none"}
        event_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
        body = msgspec.json.encode(
            {
                "eventId": event_id,
                "eventType": "invoice.updated",
                "tenantId": 3829117001,
                "createdOn": "2026-03-01T10:00:00.0000000Z",
                "data": invoice,
            }
        )
        return Delivery(kind, event_id, body, self.signer.sign(body))

    def forged(self) -> Delivery:
        real = self.event()
        assert real.body is not None
        way = self.rng.randrange(4)
        if way == 0:
            return Delivery("bad_signature", real.event_id, real.body, self.forger.sign(real.body))
        if way == 1:
            tampered = real.body.replace(b'"invoice.updated"', b'"invoice.created"')
            return Delivery("bad_signature", real.event_id, tampered, real.signature)
        if way == 2:
            return Delivery("bad_signature", real.event_id, real.body, None)
        return Delivery("bad_signature", real.event_id, real.body, "%%% not base64 %%%")

    def malformed(self) -> Delivery:
        bodies = (b'{"eventId": "cut-short", "data": {', b"[]", b'{"eventId": 7}', b"\xff\xfe")
        body = self.rng.choice(bodies)
        return Delivery("malformed", f"malformed-{len(self.sent)}", body, self.signer.sign(body))

    def oversized(self) -> Delivery:
        body = b'{"eventId": "huge", "data": "' + b"x" * MAX_BODY_BYTES + b'"}'
        streamed = self.rng.random() < 0.5
        return Delivery(
            "oversized",
            f"huge-{len(self.sent)}",
            None if streamed else body,
            self.signer.sign(body),
        )

    def build(self, count: int) -> list[Delivery]:
        valid: list[Delivery] = []
        for _ in range(count):
            roll, kind = self.rng.random(), "valid"
            for name, share in SHARES.items():
                if roll < share:
                    kind = name
                    break
                roll -= share
            if kind == "duplicate" and valid:
                original = self.rng.choice(valid)
                delivery = Delivery(
                    "duplicate", original.event_id, original.body, original.signature
                )
            elif kind == "bad_signature":
                delivery = self.forged()
            elif kind == "malformed":
                delivery = self.malformed()
            elif kind == "oversized":
                delivery = self.oversized()
            elif kind == "bad_data":
                delivery = self.event(kind="bad_data")
            else:
                delivery = self.event()
                valid.append(delivery)
            self.sent.append(delivery)
        return self.sent


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """A tenant with INVOICES job invoices for the events to carry."""
    environment = await start_tenant(tmp_path / "state", contractor(INVOICES, 0, lean=True))
    yield environment
    await environment.stop()


async def test_a_thousand_deliveries_process_each_valid_event_once_and_store_no_bad_one(
    env: demo.DemoEnvironment, show_figures: ShowFigures
) -> None:
    """Duplicates, replays, forgeries, malformed and oversized bodies: each valid event is
    stored and processed once, each bad one refused and never stored, an authentic event
    with bad data becomes a dead letter, and the receiver still answers afterwards."""
    st = servicetitan(env)
    invoices = [public(r) for r in st.store.table("invoices").all()]
    app = await App.open(env.config)
    try:
        secret = app.vault.get("servicetitan-webhook").secret("secret")
        deliveries = Deliveries(invoices, secret, seed=9)
        receiver = web.Application()
        receiver.router.add_post("/hook", webhook_handler(app.store, FLOW, deliveries.signer))
        async with _serving(receiver) as url, aiohttp.ClientSession() as session:
            statuses = await _send_all(session, url, deliveries.build(DELIVERIES))
            drains = await _drain(app)
            processed_before = await _inbox(app)
            replays = [
                Delivery("replay", d.event_id, d.body, d.signature)
                for d in random.Random(3).sample(
                    [d for d in deliveries.sent if d.kind == "valid"], REPLAYS
                )
            ]
            statuses += await _send_all(session, url, replays)
            drains += await _drain(app)
            last = deliveries.event()
            statuses += await _send_all(session, url, [last])
        inbox = await _inbox(app)
        # Replaying the dead letters re-reads each record; the unusable ones stay parked.
        replayed = await (await app.runner(FLOW)).replay()
        letters = await app.store.dead_letters(flow=FLOW)
    finally:
        await app.aclose()
    sent = [*deliveries.sent, *replays, last]
    valid_ids = {d.event_id for d in sent if d.kind == "valid"}
    bad_data_ids = {d.event_id for d in sent if d.kind == "bad_data"}
    bad_ids = {d.event_id for d in sent if EXPECTED_STATUS[d.kind] >= 400}
    wrong = [
        (d.kind, s) for d, s in zip(sent, statuses, strict=True) if s != EXPECTED_STATUS[d.kind]
    ]
    posted = Counter(cori for cori, found in batches_by_cori(infor(env)).items() for _ in found)
    named = {_stamp(d) for d in sent if d.kind == "valid"}
    drained = (valid_ids | bad_data_ids) - {last.event_id}
    lost = [e for e in drained if processed_before.get(e) is None]
    show_figures(
        Figures(
            "webhooks",
            drains,
            len(sent),
            len(lost) + len(named - set(posted)),
            sum(n - 1 for n in posted.values()),
            sum(1 for d in sent if EXPECTED_STATUS[d.kind] >= 400),
            f"{len(valid_ids)} valid events for {len(named)} invoices, "
            + ", ".join(f"{k} {v}" for k, v in sorted(Counter(d.kind for d in sent).items())),
        )
    )
    assert wrong == []
    assert set(inbox) == valid_ids | bad_data_ids, "the inbox holds other than authentic events"
    assert not bad_ids & set(inbox)
    assert lost == []
    assert all(processed_before[e] == inbox[e] for e in processed_before), "processed twice"
    assert inbox[last.event_id] is None, "the receiver did not store the last event"
    assert set(posted) == named and max(posted.values()) == 1
    parked = {e for e in bad_data_ids if any(e in dl.key.source_id for dl in letters)}
    assert bad_data_ids and parked == bad_data_ids, "authentic events with bad data not parked"
    assert replayed.ok and replayed.total("failed") == len(letters), replayed.error


def _stamp(delivery: Delivery) -> str:
    """The CORI the flow stamps on the M3 batch of the invoice an event carries."""
    assert delivery.body is not None
    event = msgspec.json.decode(delivery.body)
    return f"st:invoice:{event['data']['id']}"


@asynccontextmanager
async def _serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()


async def _send_all(
    session: aiohttp.ClientSession, url: str, deliveries: list[Delivery]
) -> list[int]:
    """POST every delivery, SENDERS at a time; the HTTP status of each, in order."""
    statuses = [0] * len(deliveries)
    limit = anyio.Semaphore(SENDERS)

    async def send(index: int, delivery: Delivery) -> None:
        async with limit:
            statuses[index] = await _post(session, url, delivery)

    async with anyio.create_task_group() as tg:
        for index, delivery in enumerate(deliveries):
            tg.start_soon(send, index, delivery)
    return statuses


async def _post(session: aiohttp.ClientSession, url: str, delivery: Delivery) -> int:
    headers = {"Content-Type": "application/json"}
    if delivery.signature is not None:
        headers[HEADER] = delivery.signature
    # Large bodies go as a file object: aiohttp warns (an error here) about big raw bytes.
    body: io.BytesIO | AsyncIterator[bytes] = (
        io.BytesIO(delivery.body) if delivery.body is not None else _chunks()
    )
    try:
        async with session.post(url, data=body, headers=headers) as reply:
            return reply.status
    except aiohttp.ClientConnectionError:
        # The receiver may close the connection on a body it refused before reading it all.
        return -1


async def _chunks() -> AsyncIterator[bytes]:
    """An oversized body sent chunked, so the receiver cannot refuse it by its length."""
    yield b'{"eventId": "huge-chunked", "data": "'
    for _ in range(MAX_BODY_BYTES // 65536 + 2):
        yield b"x" * 65536
    yield b'"}'


async def _drain(app: App) -> int:
    """Drain the inbox until nothing is pending (bounded); returns the drains made."""
    runner = await app.runner(FLOW)
    for drain in range(1, 6):
        report = await runner.drain_inbox()
        assert report.ok, report.error
        if not await app.store.pending_inbox(FLOW):
            return drain
    raise AssertionError("the inbox still holds events after five drains")


async def _inbox(app: App) -> dict[str, float | None]:
    rows = await app.store.db.fetchall("SELECT event_id, processed_at FROM inbox")
    return {str(r[0]): r[1] for r in rows}
