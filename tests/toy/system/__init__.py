"""The toy system: named in-memory buckets of items, reached with a ``toy-token``.

What a real system package declares, in one place: its config struct (``kind = "toy"``),
its credential kind, its connection factory and its ``check`` probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import msgspec
from aiohttp import web

from connector.config.models import NonEmpty, SystemConfigBase
from connector.errors import ConfigurationError
from connector.http.limiter import LimiterRegistry, RateLimiter
from connector.registry import (
    CredentialKind,
    Handler,
    SystemSpec,
    WebhookContext,
    register_system,
)
from connector.vault import Credential

KIND = "toy"
#: The "remote" side of every toy system: bucket name → item id → item.
BUCKETS: dict[str, dict[str, Item]] = {}


class Item(msgspec.Struct, frozen=True):
    id: str
    name: str
    price: float


class ToySystem(SystemConfigBase, frozen=True, tag=KIND):
    """A bucket of items in memory."""

    kind: ClassVar[str] = KIND

    bucket: NonEmpty
    """Which bucket of :data:`BUCKETS` this system is."""

    webhook_token: str | None = None
    """Token a webhook delivery must carry in ``X-Toy-Token``; None = webhooks off."""


@dataclass
class ToyClient:
    bucket: str
    token: str
    calls: int = 0

    @property
    def items(self) -> dict[str, Item]:
        return BUCKETS.setdefault(self.bucket, {})

    async def list(self) -> list[Item]:
        self._call()
        return sorted(self.items.values(), key=lambda item: item.id)

    async def get(self, item_id: str) -> Item | None:
        self._call()
        return self.items.get(item_id)

    async def put(self, item: Item) -> None:
        self._call()
        self.items[item.id] = item

    def _call(self) -> None:
        if self.token != "let-me-in":
            raise ConfigurationError(f"toy bucket {self.bucket}: wrong token")
        self.calls += 1


@dataclass
class ToyConnection:
    client: ToyClient
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(1000, 1.0, name="toy"))

    async def aclose(self) -> None:
        return None


def open_connection(
    config: ToySystem, credential: Credential, limiters: LimiterRegistry
) -> ToyConnection:
    limiter = limiters.get(f"toy:{config.bucket}", lambda: RateLimiter(1000, 1.0, name="toy"))
    return ToyConnection(ToyClient(config.bucket, credential.secret("token")), limiter)


async def check(connection: ToyConnection) -> str:
    items = await connection.client.list()
    return f"bucket {connection.client.bucket}: {len(items)} item(s)"


class Event(msgspec.Struct, frozen=True):
    id: str
    item: Item


def webhook_receiver(context: WebhookContext) -> Handler | None:
    """Events ``{"id": …, "item": {…}}`` with the configured token: into the inbox, then 200."""
    config: ToySystem = context.config
    token = config.webhook_token
    if token is None:
        return None

    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("X-Toy-Token") != token:
            return web.json_response({"status": "bad token"}, status=401)
        event = msgspec.json.decode(await request.read(), type=Event)
        payload = msgspec.json.encode(event.item)
        if await context.store.put_inbox_event(event.id, context.flow, "item", payload):
            context.on_stored()
        return web.json_response({"status": "stored"})

    return handle


SPEC = register_system(
    SystemSpec(
        kind=KIND,
        config=ToySystem,
        credential_kinds=(
            CredentialKind("toy-token", required=("token",), secret=frozenset({"token"})),
        ),
        open_connection=open_connection,
        check=check,
        webhook_receiver=webhook_receiver,
    )
)
