"""The Acumatica ERP simulator: one instance, one company, the contract-based REST API.

Routes (all under the knob ``path_prefix``, "" by default, e.g. ``/AcumaticaERP``)::

    POST /identity/connect/token                     OAuth 2.0 password + refresh grants
    GET  /identity/.well-known/openid-configuration  discovery document
    POST /entity/auth/login | /entity/auth/logout     cookie sessions (API login limit)
    GET  /entity                                     build and endpoints (no sign-in needed)
    GET  /entity/Default/24.200.001/swagger.json     the endpoint's OpenAPI definition
    GET  /entity/Default/{version}/{Entity}/$adHocSchema   empty record + custom fields
    GET|PUT /entity/Default/{version}/{Entity}       list ($filter $top $skip $select $expand)
                                                     and create-or-update by key
    GET|DELETE /entity/Default/{version}/{Entity}/{keys… | key|key… | id}
    POST /entity/Default/{version}/{Entity}/{Action} every documented action (:mod:`.actions`)
                                                     and custom actions by screen action name
    GET  /t/{tenant}/api/odata/dac/{DAC}             DAC-based OData v4: Numbering, ARSetup,
                                                     APSetup (:mod:`.dac_odata`)
    GET  …/{Entity}/{Action}/status/{operation}      poll: 202 until done, then 204
    PUT  …/{Entity}/{keys}/files/{filename}          attach a file (:mod:`.files`); listed by
    GET  /entity/Default/{version}/files/{id}        ``$expand=files``, read back from here

Entities: Customer, Vendor, Invoice, Payment, Bill, Account, Subaccount, ItemClass, StockItem,
NonStockItem, SalesOrder, JournalTransaction, Check, and the CompaniesStructure inquiry for
branches. Every entity request needs a bearer token or a live session cookie (401), passes
the licence limits (429) and then the strict value-object checks of :mod:`.values` and the
rules of :mod:`.tenant` (422/412; a missing record is 500 with
``NoEntitySatisfiesTheConditionException``, as live instances answer).

Coverage (operations served / documented by Default 24.200.001, each exercised by
``tests/sandbox/test_acumatica_contract.py``): 151 / 151 for the served entities —
Customer 10/10, Vendor 10/10, Account 9/9, Subaccount 9/9, ItemClass 9/9, StockItem 10/10,
NonStockItem 10/10, Invoice 10/10, Bill 12/12, Payment 14/14, Check 11/11,
JournalTransaction 10/10, SalesOrder 18/18, CompaniesStructure 9/9 (an inquiry: read by
PUT or by its id; its keys, delete, files and actions answer 500 as the real one does).
The other 105 entities of the definition are not served (404).
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from aiohttp import web

from connector.sandbox.acumatica import dac_odata
from connector.sandbox.acumatica.auth import CookieSessions, OAuthTokens
from connector.sandbox.acumatica.auth_api import AuthRoutes
from connector.sandbox.acumatica.discovery import endpoint_list
from connector.sandbox.acumatica.entity_api import EntityRoutes, Operation
from connector.sandbox.acumatica.knobs import (
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY,
    PASSWORD,
    USERNAME,
    AcumaticaKnobs,
)
from connector.sandbox.acumatica.responses import http_error, license_limit, no_route
from connector.sandbox.acumatica.seed import DEFAULT_COUNTS, seed_tenant
from connector.sandbox.acumatica.tenant import DEFAULT_BRANCHES, Tenant
from connector.sandbox.base import Simulator, SlidingWindow, json_response, monotonic

_TOKEN_PATHS = ("/identity/connect/token", "/identity/.well-known/openid-configuration")


class SeedParams(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /_sandbox/seed``."""

    seed: int = 0
    counts: dict[str, int] = msgspec.field(default_factory=lambda: dict(DEFAULT_COUNTS))
    branches: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_BRANCHES))


class AcumaticaSimulator(AuthRoutes, EntityRoutes, Simulator):
    """Acumatica's contract-based REST API, strict where the real instance is strict."""

    name = "acumatica"
    port_offset = 6
    Knobs = AcumaticaKnobs

    def __init__(self) -> None:
        super().__init__()
        self.knobs: AcumaticaKnobs = AcumaticaKnobs()
        self._fresh()

    def _fresh(self) -> None:
        self.tenant = Tenant()
        self.tokens = OAuthTokens()
        self.sessions = CookieSessions()
        self.operations: dict[str, Operation] = {}
        self._minute = SlidingWindow(60.0)
        self._in_flight = 0
        self.counters.setdefault("token_requests", 0)

    def instance_url(self) -> str:
        """The URL clients are configured with: the server plus ``path_prefix``."""
        return f"{self.base_url}{self.knobs.instance_path()}"

    def routes(self, app: web.Application) -> None:
        # One catch-all, because path_prefix is a knob that can change while serving.
        app.router.add_route("*", "/{tail:.*}", self._dispatch)

    def _local_path(self, request: web.Request) -> str | None:
        prefix = self.knobs.instance_path()
        if not prefix:
            return request.path
        if request.path == prefix or request.path.startswith(f"{prefix}/"):
            return request.path[len(prefix) :] or "/"
        return None

    def is_write(self, request: web.Request) -> bool:
        path = self._local_path(request) or ""
        return (
            request.method in ("POST", "PUT", "DELETE")
            and path.startswith("/entity/")
            and not path.startswith("/entity/auth/")
        )

    def fault_exempt(self, request: web.Request) -> bool:
        return (self._local_path(request) or "") in _TOKEN_PATHS

    def too_many_requests(self, headers: dict[str, str]) -> web.Response:
        return http_error(
            429,
            "The request was refused because of the limits of the license.",
            "Too many API requests; retry later.",
            headers=headers,
        )

    # -- routing ------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.Response:
        path = self._local_path(request)
        if path is None:
            return no_route(
                request.path, f"The instance lives under {self.knobs.instance_path()!r}."
            )
        method = request.method
        if path == _TOKEN_PATHS[0] and method == "POST":
            return await self.token(request)
        if path == _TOKEN_PATHS[1] and method == "GET":
            return await self.discovery(request)
        if path == "/entity/auth/login" and method == "POST":
            return await self.login(request)
        if path == "/entity/auth/logout" and method == "POST":
            return await self.logout(request)
        if path.rstrip("/") == "/entity" and method == "GET":
            # Served without a sign-in, like the real index: clients probe it before login.
            return json_response(
                endpoint_list(self.knobs.endpoint_versions, self.knobs.instance_path())
            )
        parts = path.strip("/").split("/")
        if dac_odata.is_dac_path(parts):
            return self._dac_read(request, parts)
        if len(parts) < 4 or parts[0] != "entity":
            return no_route(request.path, "Entity URLs look like /entity/Default/24.200.001/Bill.")
        _, endpoint, version, entity, *rest = parts
        if endpoint != "Default" or version not in self.knobs.endpoint_versions:
            return no_route(
                request.path,
                f"This instance serves endpoint Default, versions "
                f"{', '.join(self.knobs.endpoint_versions)}.",
            )
        branch = self.caller_branch(request)
        if isinstance(branch, web.Response):
            return branch
        refused = self._license_refusal()
        if refused is not None:
            return refused
        self._in_flight += 1
        try:
            if self.knobs.handler_delay_ms:
                await asyncio.sleep(self.knobs.handler_delay_ms / 1000)
            return await self.entity_call(request, version, entity, rest, branch)
        finally:
            self._in_flight -= 1

    def _dac_read(self, request: web.Request, parts: list[str]) -> web.Response:
        """The DAC-based OData interface (:mod:`.dac_odata`): signed in, licence-counted."""
        branch = self.caller_branch(request)
        if isinstance(branch, web.Response):
            return branch
        refused = self._license_refusal()
        if refused is not None:
            return refused
        return dac_odata.answer(request, parts, COMPANY, self.knobs.rules())

    def _license_refusal(self) -> web.Response | None:
        """The 429 for a request over a licence limit, or None (and the request counted)."""
        knobs = self.knobs
        now = monotonic()
        refusal: web.Response | None = None
        if knobs.max_concurrent and self._in_flight >= knobs.max_concurrent:
            refusal = license_limit(
                f"The licence allows {knobs.max_concurrent} concurrent API requests and "
                f"{self._in_flight} are being processed; retry after one finishes.",
                1.0 if knobs.retry_after_header else None,
            )
        elif knobs.requests_per_minute and self._minute.count(now) >= knobs.requests_per_minute:
            refusal = license_limit(
                f"The licence allows {knobs.requests_per_minute} API requests per minute; "
                "slow down and retry later.",
                self._minute.seconds_until_free(now) if knobs.retry_after_header else None,
            )
        if refusal is not None:
            self.counters["served_429"] += 1
            return refusal
        self._minute.add(now)
        return None

    # -- admin --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        now = monotonic()
        tables = self.tenant.tables
        return {
            "system": self.name,
            "entities": {
                name: [dict(record.values) for record in table.ordered()]
                for name, table in tables.items()
            },
            "branches": list(self.tenant.branches),
            "counts": {name: len(table.records) for name, table in tables.items()},
            "sessions": {"open": self.sessions.open_count(now, self.knobs.session_timeout_s)},
            "tokens": {"active": self.tokens.active(now)},
        }

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """Replace the company's records with deterministic reference data."""
        try:
            parsed = msgspec.convert(params, SeedParams)
        except msgspec.ValidationError as exc:
            return {"error": f"seed body rejected: {exc}"}
        if not parsed.branches:
            return {"error": "seed body rejected: a company needs at least one branch"}
        self.tenant = Tenant()
        self.tenant.branches = {
            code.upper(): DEFAULT_BRANCHES.get(code.upper(), f"{code.title()} Branch")
            for code in parsed.branches
        }
        counts = seed_tenant(self.tenant, parsed.seed, parsed.counts)
        return {"seeded": counts, "branches": list(self.tenant.branches)}

    def reset(self) -> None:
        self._fresh()

    def credentials(self) -> dict[str, Any]:
        return {
            "instance_url": self.instance_url(),
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": USERNAME,
            "password": PASSWORD,
            "company": COMPANY,
            "branch": self.tenant.default_branch(),
            "endpoint": "Default",
            "version": "24.200.001",
        }
