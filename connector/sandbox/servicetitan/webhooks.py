"""Webhook subscriptions and deliveries (ServiceTitan webhooks v2, configured by admin API).

Real subscriptions are set up in the developer portal, one per event with a callback URL
and an optional 32–64 character HMAC key; here ``/_sandbox/webhooks`` does the same.

Delivery contract (what a receiver must cope with):

* one JSON POST per event and subscription, signed with HMAC-SHA256 over the raw body when
  the subscription has a key (header and encoding are knobs: ServiceTitan does not publish
  them);
* a non-2xx reply or a connection error is retried after 10, 30, 60 and 300 s (times the
  ``webhook_time_scale`` knob), then the delivery is marked failed and only a manual
  replay (``POST /_sandbox/webhooks/replay``) sends it again;
* a successful delivery may arrive twice (``duplicate_delivery_rate``): same eventId, same
  bytes. Receivers must dedupe on ``eventId``.

ASSUMPTION: the envelope ``{"eventId", "eventType", "tenantId", "createdOn", "data"}`` is the
sandbox's own; ServiceTitan documents only that the payload mirrors the API model, which is
what ``data`` holds (the record exactly as the API's GET returns it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import random
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from typing import Any, Literal

import aiohttp
import msgspec

from connector.sandbox.servicetitan.knobs import ServiceTitanKnobs
from connector.sandbox.servicetitan.wire import Record

log = logging.getLogger(__name__)

EVENTS = ("invoice", "payment", "job", "customer")
RETRY_SCHEDULE_S = (10.0, 30.0, 60.0, 300.0)
MAX_EVENTS = 10_000


class SubscriptionRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /_sandbox/webhooks``."""

    event: Literal["invoice", "payment", "job", "customer"]
    url: str
    secret: str | None = None


class SubscriptionError(ValueError):
    """A subscription request the admin API refuses (message says what to fix)."""


class _Event(msgspec.Struct):
    event_id: str
    event_type: str
    body: bytes
    subscription_ids: list[int]


class WebhookHub:
    """Owns subscriptions, the delivery tasks and the delivery log.

    Deliveries run as tasks of the simulator's event loop; :meth:`cancel_all` (reset) and
    :meth:`close` (stop) cancel them, so no delivery outlives its simulator.
    """

    def __init__(self, knobs: Callable[[], ServiceTitanKnobs], stamp: Callable[[], str]) -> None:
        self._knobs = knobs
        self._stamp = stamp
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._rng = random.Random(0)
        self._clear()

    def _clear(self) -> None:
        self._subscriptions: dict[int, Record] = {}
        # Kept apart from the subscription records so a key can never leak into state.
        self._secrets: dict[int, str] = {}
        self._next_id = 0
        self._events: OrderedDict[str, _Event] = OrderedDict()
        self._log: deque[Record] = deque(maxlen=MAX_EVENTS)
        self._outcomes: dict[tuple[str, int], Record] = {}
        self._rng.seed(0)

    # -- subscriptions --------------------------------------------------------------------
    def subscribe(self, raw: Any) -> Record:
        try:
            request = msgspec.convert(raw, SubscriptionRequest)
        except msgspec.ValidationError as exc:
            raise SubscriptionError(
                f'{exc}; send {{"event": one of {list(EVENTS)}, "url": ..., '
                '"secret": 32-64 characters or null}'
            ) from None
        if not request.url.startswith(("http://", "https://")):
            raise SubscriptionError(f"url must be an http(s) URL, got {request.url!r}")
        if request.secret is not None and not 32 <= len(request.secret) <= 64:
            raise SubscriptionError(
                f"secret must be 32 to 64 characters long (got {len(request.secret)}), or null"
            )
        self._next_id += 1
        record: Record = {
            "id": self._next_id,
            "event": request.event,
            "url": request.url,
            "signed": request.secret is not None,
            "createdOn": self._stamp(),
        }
        self._subscriptions[self._next_id] = record
        if request.secret is not None:
            self._secrets[self._next_id] = request.secret
        return record

    def unsubscribe(self, subscription_id: int) -> bool:
        self._secrets.pop(subscription_id, None)
        return self._subscriptions.pop(subscription_id, None) is not None

    def subscriptions(self) -> list[Record]:
        return list(self._subscriptions.values())

    def has_subscribers(self, event: str) -> bool:
        return any(sub["event"] == event for sub in self._subscriptions.values())

    # -- publishing -----------------------------------------------------------------------
    def publish(self, event: str, created: bool, tenant_id: int, data: Record) -> str | None:
        """Queue deliveries of one change to every subscriber of ``event``; returns the id."""
        targets = [sub["id"] for sub in self._subscriptions.values() if sub["event"] == event]
        if not targets:
            return None
        event_id = str(uuid.uuid4())
        event_type = f"{event}.{'created' if created else 'updated'}"
        body = msgspec.json.encode(
            {
                "eventId": event_id,
                "eventType": event_type,
                "tenantId": tenant_id,
                "createdOn": self._stamp(),
                "data": data,
            }
        )
        stored = _Event(event_id, event_type, body, targets)
        self._events[event_id] = stored
        while len(self._events) > MAX_EVENTS:
            self._events.popitem(last=False)
        for subscription_id in targets:
            self._outcomes[(event_id, subscription_id)] = {
                "eventId": event_id,
                "eventType": event_type,
                "subscriptionId": subscription_id,
                "state": "pending",
                "attempts": 0,
            }
            self._spawn(self._deliver(stored, subscription_id))
        return event_id

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery task crashed", exc_info=task.exception())

    async def _deliver(self, event: _Event, subscription_id: int) -> None:
        outcome = self._outcomes[(event.event_id, subscription_id)]
        delays = (0.0, *RETRY_SCHEDULE_S)
        for attempt, delay in enumerate(delays, start=1):
            scaled = delay * self._knobs().webhook_time_scale
            if scaled:
                await asyncio.sleep(scaled)
            if subscription_id not in self._subscriptions:
                outcome["state"] = "unsubscribed"
                return
            outcome["attempts"] = attempt
            if _succeeded(await self._attempt(event, subscription_id, attempt, scaled)):
                outcome["state"] = "delivered"
                if self._rng.random() < self._knobs().duplicate_delivery_rate:
                    await self._attempt(event, subscription_id, attempt, 0.0, kind="duplicate")
                return
        outcome["state"] = "failed"

    async def _attempt(
        self, event: _Event, subscription_id: int, attempt: int, delay: float, kind: str = "retry"
    ) -> Record:
        """POST the event once; returns its delivery-log entry (status or error filled)."""
        subscription = self._subscriptions[subscription_id]
        knobs = self._knobs()
        headers = {"Content-Type": "application/json"}
        secret = self._secrets.get(subscription_id)
        if secret is not None:
            digest = hmac.new(secret.encode(), event.body, hashlib.sha256).digest()
            headers[knobs.signature_header] = (
                base64.b64encode(digest).decode()
                if knobs.signature_encoding == "base64"
                else digest.hex()
            )
        entry: Record = {
            "eventId": event.event_id,
            "event": event.event_type,
            "subscriptionId": subscription_id,
            "url": subscription["url"],
            "attempt": attempt,
            "delaySeconds": delay,
            "kind": "first" if attempt == 1 and kind == "retry" else kind,
            "status": None,
            "error": None,
            "at": self._stamp(),
        }
        self._log.append(entry)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._session.post(
                subscription["url"], data=event.body, headers=headers
            ) as reply:
                entry["status"] = reply.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        return entry

    async def replay(self, event_id: str) -> list[Record] | None:
        """Send one stored event again, once, to its subscriptions; None if unknown."""
        event = self._events.get(event_id)
        if event is None:
            return None
        results: list[Record] = []
        for subscription_id in event.subscription_ids:
            if subscription_id not in self._subscriptions:
                results.append(
                    {
                        "subscriptionId": subscription_id,
                        "delivered": False,
                        "error": "subscription deleted",
                    }
                )
                continue
            outcome = self._outcomes.setdefault(
                (event_id, subscription_id),
                {
                    "eventId": event_id,
                    "eventType": event.event_type,
                    "subscriptionId": subscription_id,
                    "state": "pending",
                    "attempts": 0,
                },
            )
            outcome["attempts"] += 1
            entry = await self._attempt(
                event, subscription_id, outcome["attempts"], 0.0, kind="replay"
            )
            if _succeeded(entry):
                outcome["state"] = "delivered"
            results.append(
                {
                    "subscriptionId": subscription_id,
                    "delivered": _succeeded(entry),
                    "status": entry["status"],
                    "error": entry["error"],
                }
            )
        return results

    # -- lifecycle ------------------------------------------------------------------------
    def state(self) -> Record:
        return {
            "subscriptions": self.subscriptions(),
            "deliveries": list(self._log),
            "outcomes": list(self._outcomes.values()),
        }

    def cancel_all(self) -> None:
        """Cancel every pending delivery and forget subscriptions, events and the log."""
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._clear()

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None


def _succeeded(entry: Record) -> bool:
    status = entry["status"]
    return isinstance(status, int) and 200 <= status < 300
