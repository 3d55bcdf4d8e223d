"""The ``toyledger`` system: a tenant's invoices and bills behind one HTTP API.

Its limit is per tenant (as ServiceTitan's per app and tenant): source and target systems
of one tenant share one limiter, so the budget is the tenant's, whichever flow spends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp
import anyio
import msgspec
from aiohttp import web

from connector.config.models import NonEmpty, SystemConfigBase
from connector.errors import (
    AuthError,
    RateLimitedError,
    RejectedError,
    TimeoutError_,
    UnavailableError,
)
from connector.http.limiter import LimiterRegistry, RateLimiter
from connector.registry import (
    CredentialKind,
    Handler,
    SystemSpec,
    WebhookContext,
)
from connector.vault import Credential

KIND = "toyledger"


class ToyLedgerSystem(SystemConfigBase, frozen=True, tag=KIND):
    """One tenant of a toyledger simulator."""

    kind: ClassVar[str] = KIND
    base_url: NonEmpty
    tenant: NonEmpty
    requests_per_second: float = 20.0
    webhook_token: str | None = None
    """Token a webhook delivery must carry in ``X-Toy-Token``; None = webhooks off."""


class Invoice(msgspec.Struct, frozen=True):
    id: str
    amount: int


class Bill(msgspec.Struct, frozen=True):
    id: str
    ref: str
    amount: int


class InvoicePage(msgspec.Struct, frozen=True):
    data: list[Invoice]
    hasMore: bool  # noqa: N815 - the API's own field name


@dataclass
class ToyLedgerClient:
    session: aiohttp.ClientSession
    base: str
    key: str
    limiter: RateLimiter

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, bytes]:
        for _ in range(5):
            async with self.limiter.slot():
                try:
                    async with self.session.request(
                        method, self.base + path, headers={"X-Toy-Key": self.key}, **kwargs
                    ) as response:
                        status, body = response.status, await response.read()
                        retry_after = float(response.headers.get("Retry-After", "1"))
                except TimeoutError:
                    raise TimeoutError_(f"toyledger {method} {path}: no answer in time") from None
                except aiohttp.ClientError as exc:
                    raise UnavailableError(f"toyledger {method} {path}: {exc}") from None
            if status == 429:
                self.limiter.pause_for(retry_after)
                continue
            if status == 401:
                raise AuthError(f"toyledger {path}: key refused")
            if status >= 500:
                raise UnavailableError(f"toyledger {method} {path}: HTTP {status}")
            if status >= 400 and status != 404:
                raise RejectedError(f"toyledger {method} {path}: HTTP {status}: {body!r}")
            return status, body
        raise RateLimitedError(f"toyledger {method} {path}: still throttled after 5 tries")

    async def invoices(self, page: int) -> InvoicePage:
        _, body = await self._call("GET", "/invoices", params={"page": str(page)})
        return msgspec.json.decode(body, type=InvoicePage)

    async def invoice(self, invoice_id: str) -> Invoice | None:
        status, body = await self._call("GET", f"/invoices/{invoice_id}")
        return None if status == 404 else msgspec.json.decode(body, type=Invoice)

    async def bills_by_ref(self, ref: str) -> list[Bill]:
        _, body = await self._call("GET", "/bills", params={"ref": ref})
        return msgspec.json.decode(body, type=list[Bill])

    async def create_bill(self, ref: str, amount: int) -> Bill:
        _, body = await self._call("POST", "/bills", json={"ref": ref, "amount": amount})
        return msgspec.json.decode(body, type=Bill)


@dataclass
class ToyLedgerConnection:
    client: ToyLedgerClient
    limiter: RateLimiter

    async def aclose(self) -> None:
        await self.client.session.close()
        await anyio.sleep(0)


def open_connection(
    config: ToyLedgerSystem, credential: Credential, limiters: LimiterRegistry
) -> ToyLedgerConnection:
    limiter = limiters.get(
        f"{KIND}:{config.tenant}",
        lambda: RateLimiter(config.requests_per_second, 1.0, name=f"{KIND}:{config.tenant}"),
    )
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    base = f"{config.base_url.rstrip('/')}/t/{config.tenant}"
    client = ToyLedgerClient(session, base, credential.secret("key"), limiter)
    return ToyLedgerConnection(client, limiter)


class InvoiceEvent(msgspec.Struct, frozen=True):
    id: str
    invoice: Invoice


def webhook_receiver(context: WebhookContext) -> Handler | None:
    """``{"id": event id, "invoice": {...}}`` with the configured token: inbox, then 200."""
    token = context.config.webhook_token
    if token is None:
        return None

    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("X-Toy-Token") != token:
            return web.json_response({"error": "bad token"}, status=401)
        event = msgspec.json.decode(await request.read(), type=InvoiceEvent)
        payload = msgspec.json.encode(event.invoice)
        if await context.store.put_inbox_event(event.id, context.flow, "invoice", payload):
            context.on_stored()
        return web.json_response({"status": "stored"})

    return handle


async def check(connection: ToyLedgerConnection) -> str:
    page = await connection.client.invoices(0)
    return f"{len(page.data)} invoice(s) on the first page"


SPEC = SystemSpec(
    kind=KIND,
    config=ToyLedgerSystem,
    credential_kinds=(CredentialKind("toyledger-key", ("key",), secret=frozenset({"key"})),),
    open_connection=open_connection,
    check=check,
    webhook_receiver=webhook_receiver,
)
