"""ServiceTitan webhook receiver: verify, store in the inbox, acknowledge — in that order.

Contract (DESIGN.md protocol step 6):

* The signature is an HMAC-SHA256 over the **raw** body, compared in constant time against
  every accepted secret (the current one and, during a rotation, the previous one). A missing
  or wrong signature gets 401 and nothing is stored or parsed beyond the size check.
* A verified event is written to the inbox, deduplicated by its event id, **before** the 2xx
  reply: once ServiceTitan hears "OK" the event survives a crash. A duplicate delivery gets
  200 too (ServiceTitan must stop retrying it) and is not stored again.
* The handler does no API calls and no syncing: it answers in milliseconds and wakes the
  flow (``on_stored``), which drains the inbox through the ledger.

ServiceTitan does not publish the signature header or its encoding (sheet: "verify"); both
are settings (`signature_header`, `signature_encoding`). Nor does it publish the delivery
envelope; we read ``eventId``/``eventType``/``data`` and fall back to a hash of the body for
the id, so a redelivery of the same bytes is still recognised.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

import msgspec
from aiohttp import web

from connector.logs import redactor
from connector.registry import Handler, WebhookContext
from connector.store import Store
from connector.systems.servicetitan.config import ServiceTitanSystem

log = logging.getLogger(__name__)

#: Larger bodies are refused before the signature is even computed.
MAX_BODY_BYTES = 1024 * 1024


class Delivery(msgspec.Struct, frozen=True, rename="camel"):
    """The delivery envelope (assumed; see the module docstring)."""

    data: msgspec.Raw
    event_id: str | None = None
    event_type: str | None = None


class SignatureVerifier:
    """Checks a body's HMAC-SHA256 against one or two secrets, in constant time."""

    def __init__(self, secrets: Sequence[str], *, header: str, encoding: str = "base64"):
        if not secrets or not all(secrets):
            raise ValueError("at least one non-empty webhook secret is required")
        if encoding not in ("base64", "hex"):
            raise ValueError(f"signature encoding must be base64 or hex, not {encoding!r}")
        self._keys = [s.encode() for s in secrets]
        self.header = header
        self.encoding = encoding

    def __repr__(self) -> str:
        return f"SignatureVerifier(header={self.header!r}, secrets=<{len(self._keys)} hidden>)"

    def sign(self, body: bytes) -> str:
        """The signature the current secret gives ``body`` (tests and the sandbox use it)."""
        return self._encode(hmac.new(self._keys[0], body, hashlib.sha256).digest())

    def verify(self, body: bytes, signature: str | None) -> bool:
        if not signature:
            return False
        try:
            given = self._decode(signature.strip())
        except (binascii.Error, ValueError):
            return False
        ok = False
        for key in self._keys:  # check every key so timing never says which one matched
            ok |= hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), given)
        return ok

    def _encode(self, digest: bytes) -> str:
        return base64.b64encode(digest).decode() if self.encoding == "base64" else digest.hex()

    def _decode(self, text: str) -> bytes:
        return (
            base64.b64decode(text, validate=True)
            if self.encoding == "base64"
            else bytes.fromhex(text)
        )


def webhook_handler(
    store: Store,
    flow: str,
    verifier: SignatureVerifier,
    *,
    on_stored: Callable[[], None] | None = None,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for one flow's webhook path (see the module contract)."""

    async def handle(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _reply(413, "body too large")
        body = await _read_body(request, MAX_BODY_BYTES)
        if body is None:
            return _reply(413, "body too large")
        if not verifier.verify(body, request.headers.get(verifier.header)):
            log.warning("webhook for %s refused: missing or bad signature", flow)
            return _reply(401, "invalid signature")
        try:
            delivery = msgspec.json.decode(body, type=Delivery)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return _reply(400, "body is not a ServiceTitan event")
        event_id = delivery.event_id or "sha256:" + hashlib.sha256(body).hexdigest()
        event_type = delivery.event_type or "unknown"
        stored = await store.put_inbox_event(event_id, flow, event_type, bytes(delivery.data))
        if stored and on_stored is not None:
            on_stored()
        return _reply(200, "stored" if stored else "duplicate")

    return handle


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past ``limit`` bytes.

    ``StreamReader.read(n)`` returns what has arrived so far, not ``n`` bytes: one call would
    cut a large delivery short, and the signature of the cut body would never match.
    """
    body = bytearray()
    while chunk := await request.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _reply(status: int, message: str) -> web.Response:
    return web.Response(body=_body(message), status=status, content_type="application/json")


@functools.cache
def _body(message: str) -> bytes:
    """The reply body for ``message`` (a handful of fixed texts), encoded once."""
    return json.dumps({"status": message}).encode()


def receiver(context: WebhookContext) -> Handler | None:
    """The registry's webhook receiver factory: the handler of one flow's path, verifying
    with the secret(s) of the credential ``webhook_secret_credential`` names; None (and a
    warning) when that key is unset, which leaves webhooks off for the flow."""
    system: ServiceTitanSystem = context.config
    if system.webhook_secret_credential is None:
        log.warning(
            "flow %s: webhooks on but systems.%s.webhook_secret_credential unset",
            context.flow,
            context.system,
        )
        return None
    credential = context.credential(system.webhook_secret_credential)
    secrets = [
        value
        for key, value in sorted(credential.fields.items())
        if key in ("secret", "previous_secret") and value
    ]
    for value in secrets:
        redactor.register(value)
    verifier = SignatureVerifier(
        secrets, header=system.signature_header, encoding=system.signature_encoding
    )
    return webhook_handler(context.store, context.flow, verifier, on_stored=context.on_stored)
