"""The ServiceNow simulator: one instance with the Source-to-Pay plugin (or without: a knob).

Routes::

    POST /oauth_token.do                          OAuth grants (form bodies only)
    GET|POST /oauth_revoke_token.do?token=…       revoke an access or refresh token
    GET|POST /api/now[/v1|/v2]/table/{table}      list (encoded query, paging) / insert
    GET|PUT|PATCH|DELETE …/table/{table}/{sys_id}
    POST /api/now[/v1]/import/{staging}           one row, transformed synchronously
    POST …/import/{staging}/insertMultiple        many rows, transformed later
    GET  …/import/{staging}/{sys_id}              a staging row's transform result

Every API call is checked in the order a real instance answers: authentication (401),
the hourly rate-limit rule (429), ``Accept`` and ``Content-Type`` (400), the table (400 when
it does not exist, e.g. S2P tables on a base-ITSM instance), then the ACL (403).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web

from connector.sandbox.base import Simulator, SlidingWindow, monotonic
from connector.sandbox.servicenow.auth import OAuth, caller, roles_of
from connector.sandbox.servicenow.import_api import ImportRoutes
from connector.sandbox.servicenow.knobs import (
    CLIENT_ID,
    CLIENT_SECRET,
    INSTANCE,
    INTERACTIVE_PASSWORD,
    INTERACTIVE_USER,
    SERVICE_PASSWORD,
    SERVICE_USER,
    ServiceNowKnobs,
)
from connector.sandbox.servicenow.responses import (
    hibernating_page,
    invalid_table,
    sn_error,
)
from connector.sandbox.servicenow.schema import PO_STAGING_ALIAS, STAGING, TABLES, Staging, Table
from connector.sandbox.servicenow.seed import seed_instance
from connector.sandbox.servicenow.store import Instance
from connector.sandbox.servicenow.table_api import TableRoutes, denied

_TOKEN_PATHS = ("/oauth_token.do", "/oauth_revoke_token.do")
_VERSIONS = ("v1", "v2")
#: The sys_id of the simulated hourly rate-limit rule (sys_rate_limit_rules).
RATE_RULE_ID = "5f0e2d1c3b4a59687766554433221100"


class SeedParams(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /_sandbox/seed``."""

    seed: int = 0
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    #: Rows written per ``sys_updated_on`` second (ties the cursor must handle).
    per_second: int = 25


class ServiceNowSimulator(TableRoutes, ImportRoutes, Simulator):
    """ServiceNow's Table API, Import Set API and OAuth, strict where an instance is strict."""

    name = "servicenow"
    port_offset = 3
    Knobs = ServiceNowKnobs

    def __init__(self) -> None:
        Simulator.__init__(self)
        ImportRoutes.__init__(self)
        self.knobs: ServiceNowKnobs = ServiceNowKnobs()
        self._fresh()

    def _fresh(self) -> None:
        self.cancel_pending_transforms()
        self.instance = Instance()
        self.oauth = OAuth()
        self._hour: dict[str, SlidingWindow] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._dispatch)

    def fault_exempt(self, request: web.Request) -> bool:
        return request.path in _TOKEN_PATHS

    def is_write(self, request: web.Request) -> bool:
        return request.method in ("POST", "PUT", "PATCH", "DELETE") and (
            request.path.startswith("/api/")
        )

    def too_many_requests(self, headers: dict[str, str]) -> web.Response:
        return sn_error(
            429,
            "Rate limit exceeded",
            "Rate limit of requests per hour exceeded; retry after the Retry-After seconds",
            headers,
        )

    # -- routing ------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path, method = request.path, request.method
        if path == "/oauth_token.do" and method == "POST":
            return await self.oauth.token(request, self.knobs)
        if path == "/oauth_revoke_token.do" and method in ("GET", "POST"):
            return await self.oauth.revoke(request)
        if self.knobs.hibernating:
            return hibernating_page()
        parts = path.strip("/").split("/")
        if parts[:2] != ["api", "now"] or len(parts) < 4:
            return sn_error(400, "Requested URI does not represent any resource", None)
        version = ""
        if parts[2] in _VERSIONS:
            version, parts = parts[2], parts[:2] + parts[3:]
        api, name, rest = parts[2], parts[3], parts[4:]
        user = caller(request, self.oauth, self.knobs)
        if isinstance(user, web.Response):
            return user
        rule_headers: dict[str, str] = {}
        refusal = self._rate_limit(user, name, rule_headers)
        if refusal is not None:
            return refusal
        response = self._check_headers(request)
        if response is None:
            if api == "table" and len(rest) <= 1:
                response = await self._table(request, version, name, rest, user)
            elif api == "import" and version in ("", "v1") and len(rest) <= 1:
                response = await self._import(request, name, rest, user)
            else:
                response = sn_error(400, "Requested URI does not represent any resource", None)
        response.headers.update(rule_headers)
        return response

    def _check_headers(self, request: web.Request) -> web.Response | None:
        accept = request.headers.get("Accept")
        if not accept:
            return sn_error(400, "Missing Accept header", "Send Accept: application/json")
        if not any(kind in accept for kind in ("application/json", "*/*", "application/*")):
            return sn_error(
                406,
                "Not Acceptable",
                f"Accept {accept!r} is not supported; send Accept: application/json",
            )
        if request.method in ("POST", "PUT", "PATCH"):
            content_type = request.headers.get("Content-Type")
            if not content_type:
                return sn_error(
                    400,
                    "Missing Content-Type header",
                    "Send Content-Type: application/json with a request body",
                )
            if request.content_type != "application/json":
                return sn_error(
                    415,
                    "Unsupported Media Type",
                    f"Content-Type {request.content_type} is not supported; send application/json",
                )
        return None

    def _table_named(self, name: str) -> Table | None:
        if self.knobs.po_staging_table == PO_STAGING_ALIAS:
            if name == "sn_fcms_intg_imp_order":
                return None
            if name == PO_STAGING_ALIAS:
                name = "sn_fcms_intg_imp_order"
        table = TABLES.get(name)
        if table is None or (table.s2p and not self.knobs.s2p_plugin_active):
            return None
        return table

    async def _table(
        self, request: web.Request, version: str, name: str, rest: list[str], user: str
    ) -> web.Response:
        table = self._table_named(name)
        if table is None:
            return invalid_table(name)
        method = request.method
        roles = roles_of(user, self.knobs)
        reading = method == "GET"
        needed = table.read_roles if reading else table.write_roles
        if not roles & needed:
            operation = {"GET": "Read", "POST": "Insert", "DELETE": "Delete"}.get(method, "Write")
            return denied(user, table, operation, needed)
        if not rest:
            if method == "GET":
                return await self.table_list(request, table, version)
            if method == "POST":
                return await self.table_insert(request, table, user)
        else:
            if method == "GET":
                return await self.table_get(request, table, rest[0])
            if method in ("PUT", "PATCH"):
                return await self.table_update(request, table, rest[0], user)
            if method == "DELETE":
                return await self.table_delete(table, rest[0])
        return sn_error(405, "Method not Supported", f"{method} is not supported on this path")

    async def _import(
        self, request: web.Request, name: str, rest: list[str], user: str
    ) -> web.Response:
        table = self._table_named(name)
        if table is None or table.name not in STAGING:
            return invalid_table(name)
        staging: Staging = STAGING[table.name]
        if not roles_of(user, self.knobs) & table.write_roles:
            return denied(user, table, "Insert", table.write_roles)
        if request.method == "POST" and rest == ["insertMultiple"]:
            return await self.import_many(request, staging, user)
        if request.method == "POST" and not rest:
            return await self.import_one(request, staging, user)
        if request.method == "GET" and rest:
            return await self.import_get(staging, rest[0])
        return sn_error(
            405, "Method not Supported", f"{request.method} is not supported on this path"
        )

    def _rate_limit(self, user: str, table: str, headers: dict[str, str]) -> web.Response | None:
        knobs = self.knobs
        if not knobs.rate_limit_per_hour:
            return None
        if knobs.rate_limit_user not in (None, user) or knobs.rate_limit_table not in (None, table):
            return None
        window = self._hour.setdefault(user, SlidingWindow(3600.0))
        now = monotonic()
        wait = window.seconds_until_free(now)
        headers.update(
            {
                "X-RateLimit-Limit": str(knobs.rate_limit_per_hour),
                "X-RateLimit-Reset": str(int(time.time() + (wait or 3600.0))),
                "X-RateLimit-Rule": RATE_RULE_ID,
            }
        )
        if window.count(now) >= knobs.rate_limit_per_hour:
            self.counters["served_429"] += 1
            scope = f" for table {knobs.rate_limit_table}" if knobs.rate_limit_table else ""
            return sn_error(
                429,
                "Rate limit exceeded",
                f"Rate limit of {knobs.rate_limit_per_hour} requests per hour{scope} exceeded",
                headers | {"Retry-After": str(max(1, int(wait + 0.999)))},
            )
        window.add(now)
        return None

    # -- admin --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        rows = self.instance.rows
        return {
            "system": self.name,
            "instance": INSTANCE,
            "s2p_plugin_active": self.knobs.s2p_plugin_active,
            "counts": {name: len(table) for name, table in rows.items()},
            "entities": {name: list(table.values()) for name, table in rows.items()},
            "tokens": {
                "active": self.oauth.active(),
                "refused": self.oauth.refused,
                "refusal_log": list(self.oauth.log),
            },
        }

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """Replace the instance's rows with deterministic reference data and documents."""
        try:
            parsed = msgspec.convert(params, SeedParams)
        except msgspec.ValidationError as exc:
            return {"error": f"seed body rejected: {exc}"}
        self.cancel_pending_transforms()
        self.instance = Instance()
        return {
            "seeded": seed_instance(self.instance, parsed.seed, parsed.counts, parsed.per_second)
        }

    def reset(self) -> None:
        self._fresh()

    def credentials(self) -> dict[str, Any]:
        return {
            "instance_url": self.base_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": SERVICE_USER,
            "password": SERVICE_PASSWORD,
            # What a person's consent in the browser would have produced.
            "authorization_code": self.oauth.issue_code(),
            "refresh_token": self.oauth.issue_refresh(SERVICE_USER, self.knobs),
            "interactive_username": INTERACTIVE_USER,
            "interactive_password": INTERACTIVE_PASSWORD,
        }
