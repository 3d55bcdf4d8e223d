"""The toy system: named in-memory buckets of items, reached with a ``toy-token``.

What a real system package declares, in one place: its config struct (``kind = "toy"``),
its credential kind, its connection factory and its ``check`` probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import msgspec

from connector.config.models import NonEmpty, SystemConfigBase
from connector.errors import ConfigurationError
from connector.http.limiter import LimiterRegistry, RateLimiter
from connector.registry import CredentialKind, SystemSpec, register_system
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


SPEC = register_system(
    SystemSpec(
        kind=KIND,
        config=ToySystem,
        credential_kinds=(
            CredentialKind("toy-token", required=("token",), secret=frozenset({"token"})),
        ),
        open_connection=open_connection,
        check=check,
    )
)
