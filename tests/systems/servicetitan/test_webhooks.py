"""ServiceTitan webhook receiver: verify, store once, acknowledge (issue 3).

The receiver is :func:`webhook_handler` served on a loopback port and writing to a real
inbox; deliveries come from the simulator's webhook hub, or are posted directly when a test
needs a body or signature the simulator would never send."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web

from connector.store import InboxEvent, Store
from connector.systems.servicetitan.models import Invoice
from connector.systems.servicetitan.webhooks import (
    MAX_BODY_BYTES,
    SignatureVerifier,
    webhook_handler,
)
from tests.systems.servicetitan.conftest import Sandbox

FLOW = "servicetitan-infor"
HEADER = "X-ServiceTitan-Signature"
SECRET = "whk-current-0123456789abcdefghijklmnopqrstuv"
PREVIOUS_SECRET = "whk-previous-0123456789abcdefghijklmnopqrstu"
STRANGER_SECRET = "whk-stranger-0123456789abcdefghijklmnopqrstu"

Handler = Callable[[web.Request], Awaitable[web.Response]]


class Receiver:
    """One flow's webhook endpoint on a loopback port, with its inbox and wake-up count."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.url = ""
        self.wakeups = 0
        self._runners: list[web.AppRunner] = []

    def woken(self) -> None:
        self.wakeups += 1

    async def serve(self, handler: Handler) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/servicetitan", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/webhooks/servicetitan"

    async def inbox(self) -> list[InboxEvent]:
        return await self.store.pending_inbox(FLOW)

    async def post(self, body: bytes | Any, headers: dict[str, str]) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as http,
            # BytesIO keeps Content-Length and spares aiohttp's warning about large bytes.
            http.post(
                self.url,
                data=io.BytesIO(body) if isinstance(body, bytes) else body,
                headers=headers,
            ) as reply,
        ):
            return reply.status, await reply.text()

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()


Serve = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    """Start receivers: ``await serve(secrets, wrap=None, **verifier_options)``."""
    store = await Store.open(tmp_path / "state.db")
    receivers: list[Receiver] = []

    async def start(
        secrets: list[str], wrap: Callable[[Handler], Handler] | None = None, **options: Any
    ) -> Receiver:
        receiver = Receiver(store)
        verifier = SignatureVerifier(secrets, header=options.pop("header", HEADER), **options)
        handler = webhook_handler(store, FLOW, verifier, on_stored=receiver.woken)
        await receiver.serve(wrap(handler) if wrap else handler)
        receivers.append(receiver)
        return receiver

    yield start
    for receiver in receivers:
        await receiver.close()
    await store.close()


async def subscribe(sandbox: Sandbox, receiver: Receiver, secret: str = SECRET) -> None:
    await sandbox.admin(
        "POST", "webhooks", {"event": "invoice", "url": receiver.url, "secret": secret}
    )


async def settled(sandbox: Sandbox, answered: int) -> dict[str, Any]:
    """The sim's webhook state once ``answered`` attempts got a reply and none is pending."""
    async with asyncio.timeout(5):
        while True:
            hooks: dict[str, Any] = (await sandbox.state())["webhooks"]
            replies = [entry for entry in hooks["deliveries"] if entry["status"] is not None]
            pending = [o for o in hooks["outcomes"] if o["state"] == "pending"]
            if len(replies) >= answered and not pending:
                return hooks
            await asyncio.sleep(0.02)


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {HEADER: SignatureVerifier([secret], header=HEADER).sign(body)}


def event(event_id: str = "evt-1", **data: Any) -> bytes:
    return json.dumps(
        {"eventId": event_id, "eventType": "invoice.updated", "data": {"id": 400_001, **data}}
    ).encode()


async def test_duplicate_and_replayed_deliveries_are_stored_once(
    sandbox: Sandbox, serve: Serve
) -> None:
    """A delivery sent twice (duplicate knob) and replayed by hand lands in the inbox once."""
    receiver = await serve([SECRET])
    await sandbox.knobs(duplicate_delivery_rate=1.0)
    await subscribe(sandbox, receiver)
    await sandbox.admin("POST", "generate", {"entity": "invoices", "count": 1})
    hooks = await settled(sandbox, answered=2)
    event_id = hooks["deliveries"][0]["eventId"]
    await sandbox.admin("POST", "webhooks/replay", {"eventId": event_id})
    statuses = [entry["status"] for entry in (await settled(sandbox, 3))["deliveries"]]
    assert statuses == [200, 200, 200]
    [stored] = await receiver.inbox()
    assert stored.event_id == event_id and stored.event_type == "invoice.created"
    invoice = msgspec.json.decode(stored.payload, type=Invoice)
    assert invoice.id == max(row["id"] for row in await sandbox.rows("invoices"))
    assert receiver.wakeups == 1


@pytest.mark.parametrize("lost", ["before_store", "after_store"])
async def test_failed_delivery_is_retried_on_schedule_and_stored_once(
    sandbox: Sandbox, serve: Serve, lost: str
) -> None:
    """A first attempt answered 500 (stored or not) is retried 10 s × scale later; one event."""
    failures = [1]

    def fail_once(handler: Handler) -> Handler:
        async def flaky(request: web.Request) -> web.Response:
            if not failures:
                return await handler(request)
            failures.pop()
            if lost == "after_store":
                await handler(request)
            return web.Response(status=500)

        return flaky

    receiver = await serve([SECRET], wrap=fail_once)
    await sandbox.knobs(webhook_time_scale=0.001)
    await subscribe(sandbox, receiver)
    await sandbox.admin("POST", "generate", {"entity": "invoices", "count": 1})
    hooks = await settled(sandbox, answered=2)
    attempts = [(d["attempt"], d["status"], d["delaySeconds"]) for d in hooks["deliveries"]]
    assert attempts == [(1, 500, 0.0), (2, 200, 0.01)]
    assert [o["state"] for o in hooks["outcomes"]] == ["delivered"]
    [stored] = await receiver.inbox()
    assert stored.event_id == hooks["deliveries"][0]["eventId"]
    assert receiver.wakeups == 1


async def test_both_secrets_are_accepted_during_a_rotation(sandbox: Sandbox, serve: Serve) -> None:
    """With the new and the previous secret configured, deliveries signed by either are stored."""
    receiver = await serve([SECRET, PREVIOUS_SECRET])
    await subscribe(sandbox, receiver, secret=PREVIOUS_SECRET)
    await sandbox.admin("POST", "generate", {"entity": "invoices", "count": 1})
    await settled(sandbox, answered=1)
    body = event("evt-new-key")
    assert (await receiver.post(body, signed(body, SECRET)))[0] == 200
    assert len(await receiver.inbox()) == 2


@pytest.mark.parametrize(
    "case", ["tampered body", "stranger's key", "missing signature", "not base64", "empty"]
)
async def test_unverified_delivery_is_refused_with_401_and_not_stored(
    serve: Serve, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A body whose signature does not verify gets 401, and nothing reaches the inbox or logs."""
    receiver = await serve([SECRET])
    body = event()
    headers = {
        "tampered body": signed(event(total="0.01")),
        "stranger's key": signed(body, STRANGER_SECRET),
        "missing signature": {},
        "not base64": {HEADER: "%%%not-base64%%%"},
        "empty": {HEADER: ""},
    }[case]
    status, _ = await receiver.post(body, headers)
    assert status == 401
    assert await receiver.inbox() == [] and receiver.wakeups == 0
    assert SECRET not in caplog.text and STRANGER_SECRET not in caplog.text


async def test_oversized_body_is_refused_with_413_and_not_stored(serve: Serve) -> None:
    """A body over the limit gets 413, with or without a Content-Length, even if signed."""
    receiver = await serve([SECRET])
    body = event(memo="x" * MAX_BODY_BYTES)

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    assert (await receiver.post(body, signed(body)))[0] == 413
    assert (await receiver.post(chunked(), signed(body)))[0] == 413
    assert await receiver.inbox() == []


async def test_large_body_within_the_limit_is_read_whole_and_stored(serve: Serve) -> None:
    """A 600 KB delivery arriving in many chunks is verified over all its bytes and stored."""
    receiver = await serve([SECRET])
    body = event("evt-large", memo="y" * 600_000)

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    assert await receiver.post(chunked(), signed(body)) == (200, '{"status": "stored"}')
    [stored] = await receiver.inbox()
    assert len(stored.payload) > 600_000


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"eventId": "evt-9"}'])
async def test_signed_body_that_is_not_an_event_is_400_and_not_stored(
    serve: Serve, body: bytes
) -> None:
    """Correctly signed bytes that are not a JSON event with data get 400; nothing is stored."""
    receiver = await serve([SECRET])
    assert (await receiver.post(body, signed(body)))[0] == 400
    assert await receiver.inbox() == []


async def test_signature_header_and_hex_encoding_follow_the_settings(
    sandbox: Sandbox, serve: Serve
) -> None:
    """With the sim signing hex digests in X-Hook-Sig, a receiver set the same way stores them."""
    receiver = await serve([SECRET], header="X-Hook-Sig", encoding="hex")
    await sandbox.knobs(signature_header="X-Hook-Sig", signature_encoding="hex")
    await subscribe(sandbox, receiver)
    await sandbox.admin("POST", "generate", {"entity": "invoices", "count": 1})
    hooks = await settled(sandbox, answered=1)
    assert [entry["status"] for entry in hooks["deliveries"]] == [200]
    assert len(await receiver.inbox()) == 1
    body = event("evt-hex")
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert (await receiver.post(body, {"X-Hook-Sig": digest}))[0] == 200


def test_verifier_repr_hides_its_secrets() -> None:
    """SignatureVerifier's repr names the header and the number of secrets, never a secret."""
    text = repr(SignatureVerifier([SECRET, PREVIOUS_SECRET], header=HEADER))
    assert SECRET not in text and PREVIOUS_SECRET not in text and "2 hidden" in text
