"""The Infor CloudSuite simulator: SSO, ION API gateway and M3 MI programs on one port.

Routes (``{ti}`` is the tenant, ``ACME_TST`` by default):

- ``POST /{ti}/as/token.oauth2`` (password and refresh grants; client in the form or Basic),
  ``POST|GET /{ti}/as/revoke_token.oauth2``; both exempt from the generic faults.
- ``GET /{ti}/M3/m3api-rest/v2/execute/{PGM}/{TRN};matrix?FIELDS`` and the bulk
  ``POST /{ti}/M3/m3api-rest/v2/execute?options`` (see :mod:`.gateway`, :mod:`.mi`).
- ``GET /{ti}/M3/m3api-rest/v2/metadata[/{PGM}[/{TRN}]]``: programs, transactions and
  their fields, from the same tables (see :mod:`.metadata`).
- Anything else on the gateway: no tenant segment or an unknown one → ``400 {"error":"Bad
  Request"}``; a missing, expired or revoked bearer → ``401 {"error":"Unauthorized"}``;
  an ``fnd-csrf-token`` header → 403 ``CSRF_INVALID_SESSION``.

The admin API is the base class's; ``state`` shows every record with its ``CONO`` so
duplicates and wrong-company writes are visible, ``credentials`` is the ``.ionapi`` file.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import msgspec
from aiohttp import web

from connector.sandbox.base import Simulator, SlidingWindow, json_response, monotonic
from connector.sandbox.infor.auth import (
    TenantCredentials,
    TokenStore,
    client_from_request,
    client_is_valid,
    oauth_error,
    password_grant_error,
)
from connector.sandbox.infor.data import M3Database
from connector.sandbox.infor.gateway import (
    WRITE_PREFIXES,
    GatewayPath,
    bulk_record,
    call_options,
    envelope,
    input_fields,
    parse_path,
    transaction_name,
)
from connector.sandbox.infor.knobs import InforKnobs
from connector.sandbox.infor.lines import LineApp, make_line_apps
from connector.sandbox.infor.metadata import is_metadata, metadata_response
from connector.sandbox.infor.mi import (
    CallOptions,
    Registry,
    Transaction,
    run,
    transaction_not_found,
)
from connector.sandbox.infor.seed import SeedRequest, build_database, seed_database
from connector.sandbox.infor.state import render_state
from connector.sandbox.infor.trx_accounts import account_transactions
from connector.sandbox.infor.trx_ap import ap_transactions
from connector.sandbox.infor.trx_company import company_transactions, discovery_transactions
from connector.sandbox.infor.trx_gl import gl_transactions
from connector.sandbox.infor.trx_items import item_transactions
from connector.sandbox.infor.trx_po import po_transactions
from connector.sandbox.infor.trx_suppliers import supplier_transactions

THROTTLE_WINDOW_S = 60.0
SSO_ENDPOINTS = ("token.oauth2", "revoke_token.oauth2", "authorization.oauth2")


def build_registry() -> Registry:
    """Every MI transaction the simulated tenant offers."""
    registry = Registry()
    registry.add(
        *company_transactions(),
        *supplier_transactions(),
        *item_transactions(),
        *ap_transactions(),
        *po_transactions(),
        *account_transactions(),
        *gl_transactions(),
    )
    registry.add(*discovery_transactions(registry))
    return registry


class InforSimulator(Simulator):
    """Infor CloudSuite M3 (ION API gateway + Mingle SSO) for one tenant."""

    name: ClassVar[str] = "infor"
    port_offset: ClassVar[int] = 2
    Knobs: ClassVar[type[msgspec.Struct]] = InforKnobs

    def __init__(self, tenant: str = "ACME_TST") -> None:
        super().__init__()
        self.tenant = tenant
        self.creds = TenantCredentials.generate(tenant)
        self.tokens = TokenStore(tenant)
        self.registry = build_registry()
        self.db: M3Database = build_database()
        self.lines: dict[str, LineApp] = make_line_apps()
        self._quota: dict[str, SlidingWindow] = {}
        self.counters["token_requests"] = 0

    @property
    def infor_knobs(self) -> InforKnobs:
        knobs: InforKnobs = self.knobs
        return knobs

    # -- Simulator contract -------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tenant}/as/{endpoint}", self._sso)
        app.router.add_route("*", "/{tail:.*}", self._gateway)

    def state(self) -> dict[str, Any]:
        state = render_state(self.db, self.tenant)
        state["lines"] = {segment: app.state() for segment, app in self.lines.items()}
        return state

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """Replace the data with ``{"seed", "counts"}``'s deterministic set (400 on unknown
        keys); ``{"line": "CSI"|"LN"|"FSM", …}`` seeds that product line instead."""
        line = params.get("line")
        if line is not None:
            app = self.lines.get(str(line))
            if app is None:
                raise web.HTTPBadRequest(
                    text=msgspec.json.encode(
                        {"error": f"unknown line {line!r}; one of {sorted(self.lines)}"}
                    ).decode(),
                    content_type="application/json",
                )
            return app.seed({k: v for k, v in params.items() if k != "line"})
        try:
            request = msgspec.convert(params, SeedRequest)
        except msgspec.ValidationError as exc:
            raise web.HTTPBadRequest(
                text=msgspec.json.encode({"error": f"bad seed body: {exc}"}).decode(),
                content_type="application/json",
            ) from None
        self.db, made = seed_database(request)
        return {"seeded": made, "seed": request.seed, "tenant": self.tenant}

    def reset(self) -> None:
        """Back to reference data only; issued tokens die too (clients log in again), the
        .ionapi credentials stay the same."""
        self.db = build_database()
        for app in self.lines.values():
            app.reset()
        self.tokens = TokenStore(self.tenant)
        self._quota.clear()
        self.counters["token_requests"] = 0

    def credentials(self) -> dict[str, Any]:
        return dict(self.creds.ionapi(self.base_url))

    def is_write(self, request: web.Request) -> bool:
        """Bulk POSTs and every transaction named Add*/Chg*/Dlt*/Upd*/Valid*/Crt*/Del*/Rcl*
        (all of them are GETs on M3, so the method says nothing)."""
        path = parse_path(request.raw_path)
        if path.segments and path.segments[0] in self.lines:
            return self.lines[path.segments[0]].is_write(request)
        if request.method == "POST" and path.is_bulk:
            return True
        return transaction_name(request.raw_path).startswith(WRITE_PREFIXES)

    def fault_exempt(self, request: web.Request) -> bool:
        return request.path.rstrip("/").endswith(tuple(f"/as/{e}" for e in SSO_ENDPOINTS))

    def too_many_requests(self, headers: dict[str, str]) -> web.Response:
        return json_response(
            {"error": "Too Many Requests", "message": "Quota exceeded"}, 429, headers
        )

    # -- SSO ----------------------------------------------------------------------------
    async def _sso(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["tenant"] != self.tenant:
            return json_response({"error": "not_found"}, 404)
        endpoint = request.match_info["endpoint"]
        if endpoint == "token.oauth2" and request.method == "POST":
            return await self._token(request)
        if endpoint == "revoke_token.oauth2" and request.method in ("POST", "GET"):
            return await self._revoke(request)
        return json_response({"error": "not_found"}, 404)

    async def _token(self, request: web.Request) -> web.Response:
        self.counters["token_requests"] += 1
        if request.content_type != "application/x-www-form-urlencoded":
            return oauth_error(
                400,
                "invalid_request",
                "Send the token request as application/x-www-form-urlencoded",
            )
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        client = client_from_request(request, form)
        if not client_is_valid(self.creds, client):
            return oauth_error(
                401,
                "invalid_client",
                "Client authentication failed: check ci/cs of the .ionapi file",
            )
        client_id = self.creds.client_id
        grant = form.get("grant_type", "")
        knobs = self.infor_knobs
        if grant == "password":
            refusal = password_grant_error(self.creds, form)
            if refusal is not None:
                return refusal
            return self._token_body(self.tokens.issue(client_id, knobs))
        if grant == "refresh_token":
            if not knobs.issue_refresh_tokens:
                return oauth_error(
                    400,
                    "unsupported_grant_type",
                    "This authorized app does not issue refresh tokens; repeat the password grant",
                )
            used = self.tokens.use_refresh(form.get("refresh_token", ""), client_id)
            if used is None:
                return oauth_error(
                    400,
                    "invalid_grant",
                    "Refresh token is unknown, expired, "
                    "revoked or already used; repeat the password grant",
                )
            return self._token_body(self.tokens.issue(client_id, knobs, used.family))
        return oauth_error(
            400,
            "unsupported_grant_type",
            f"grant_type {grant!r} is not supported; use password or refresh_token",
        )

    @staticmethod
    def _token_body(body: dict[str, Any]) -> web.Response:
        return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def _revoke(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            token = request.query.get("token", "")
        else:
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            if not client_is_valid(self.creds, client_from_request(request, form)):
                return oauth_error(401, "invalid_client", "Client authentication failed")
            token = form.get("token", "")
        if not token:
            return oauth_error(400, "invalid_request", "token is required")
        self.tokens.revoke(token)
        return web.Response(status=200)

    # -- gateway ------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        path = parse_path(request.raw_path)
        if path.tenant != self.tenant:
            return json_response({"error": "Bad Request"}, 400)
        auth = request.headers.get("Authorization", "")
        issued = self.tokens.access(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if issued is None:
            return json_response({"error": "Unauthorized"}, 401)
        if "fnd-csrf-token" in request.headers:
            return json_response(
                {
                    "error": "Forbidden",
                    "code": "CSRF_INVALID_SESSION",
                    "message": "fnd-csrf-token belongs to a browser session; do not send it to "
                    "the ION API gateway",
                },
                403,
            )
        throttled = self._throttle(issued.client_id)
        if throttled is not None:
            return throttled
        if path.segments and path.segments[0] in self.lines:
            return await self.lines[path.segments[0]].handle(request, path.segments)
        if path.is_bulk:
            if request.method != "POST":
                return json_response({"error": "Method Not Allowed"}, 405)
            return await self._bulk(request, path)
        if is_metadata(path.segments):
            if request.method != "GET":
                return json_response({"error": "Method Not Allowed"}, 405)
            return metadata_response(self.registry, self.infor_knobs, path.segments)
        target = path.program_transaction
        if target is None:
            return json_response(
                {
                    "error": "Not Found",
                    "message": "Use /{ti}/M3/m3api-rest/v2/execute/{PROGRAM}/{TRANSACTION}",
                },
                404,
            )
        if request.method != "GET":
            return json_response({"error": "Method Not Allowed"}, 405)
        return self._single(request, path, *target)

    def _throttle(self, client_id: str) -> web.Response | None:
        knobs = self.infor_knobs
        if knobs.requests_per_minute <= 0:
            return None
        window = self._quota.setdefault(client_id, SlidingWindow(THROTTLE_WINDOW_S))
        now = monotonic()
        if window.count(now) < knobs.requests_per_minute:
            window.add(now)
            return None
        self.counters["served_429"] += 1
        headers = {}
        if knobs.retry_after_header:
            headers["Retry-After"] = str(max(1, math.ceil(window.seconds_until_free(now))))
        return json_response(
            {"error": "Too Many Requests", "message": "Quota exceeded"},
            knobs.throttle_status,
            headers,
        )

    def _single(
        self, request: web.Request, path: GatewayPath, program: str, name: str
    ) -> web.Response:
        knobs = self.infor_knobs
        trn = self.registry.find(program, name, knobs)
        if trn is None:
            if knobs.unknown_transaction_style == "http400":
                return web.Response(status=400)
            return json_response(
                envelope([transaction_not_found(program, name, knobs)], False, knobs)
            )
        options = call_options(
            path.matrix, request.query, query_maxrecs=knobs.query_maxrecs_honoured
        )
        self._ran(trn)
        result = run(self.db, knobs, trn, input_fields(request.query), options)
        return json_response(envelope([result], False, knobs))

    def _ran(self, trn: Transaction) -> None:
        """Count a transaction run, in all and by ``PGM/TRN``: a bulk request runs many, so
        the HTTP request count alone does not say how much a client asked of M3."""
        for key in ("mi_transactions", f"{trn.program}/{trn.name}"):
            self.counters[key] = self.counters.get(key, 0) + 1

    async def _bulk(self, request: web.Request, path: GatewayPath) -> web.Response:
        knobs = self.infor_knobs
        try:
            body = msgspec.json.decode(await request.read())
        except msgspec.DecodeError:
            body = None
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("program"), str)
            or not isinstance(body.get("transactions"), list)
        ):
            return json_response(
                {
                    "error": "Bad Request",
                    "message": 'body must be {"program": ..., "transactions": [{"transaction": '
                    '..., "record": {...}}]}',
                },
                400,
            )
        program: str = body["program"]
        if not self.registry.has_program(program) and knobs.unknown_transaction_style == "http400":
            return web.Response(status=400)
        options = call_options(path.matrix, request.query, query_maxrecs=True)
        if isinstance(body.get("maxReturnedRecords"), int):
            options.maxrecs = body["maxReturnedRecords"]
        if body.get("excludeEmptyValues") is True:
            options.excludempty = True
        results: list[dict[str, Any]] = []
        terminated = False
        for entry in body["transactions"]:
            result = self._bulk_entry(program, entry, options)
            results.append(result)
            if "errorMessage" in result and knobs.bulk_stop_on_error:
                terminated = True
                break
        return json_response(envelope(results, terminated, knobs))

    def _bulk_entry(self, program: str, entry: Any, options: CallOptions) -> dict[str, Any]:
        knobs = self.infor_knobs
        name = entry.get("transaction") if isinstance(entry, dict) else None
        record = bulk_record(entry.get("record", {})) if isinstance(entry, dict) else None
        trn = self.registry.find(program, name, knobs) if isinstance(name, str) else None
        if trn is None or record is None:
            return transaction_not_found(program, str(name), knobs)
        self._ran(trn)
        own = dataclasses.replace(options)
        columns = entry.get("selectedColumns")
        if isinstance(columns, list):
            own.returncols = [str(c) for c in columns]
        return run(self.db, knobs, trn, record, own)
