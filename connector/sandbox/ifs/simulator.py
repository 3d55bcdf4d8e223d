"""The IFS Cloud simulator: IFS IAM (Keycloak) and the OData v4 projection API.

Routes::

    POST /auth/realms/{realm}/protocol/openid-connect/token   client_credentials, password,
                                                               refresh_token grants
    POST /auth/realms/{realm}/protocol/openid-connect/revoke
    GET  /auth/realms/{realm}/.well-known/openid-configuration
    GET  /main/ifsapplications/projection/v1/{P}.svc/$metadata
    GET|POST  …/{P}.svc/{Set}                       list (OData query options) / create
    GET|PATCH|DELETE …/{P}.svc/{Set}({keys})        one entity (If-Match on PATCH/DELETE)
    GET  …/{P}.svc/{Set}({keys})/{Array}            a one-to-many navigation
    POST …/{P}.svc/{Set}({keys})/IfsApp.{P}.{Entity}_{Action}   bound action (If-Match)

``/int/ifsapplications/…`` serves the same. Every projection call needs a live bearer (401
with ``WWW-Authenticate: Bearer``, or a 302 to ``/auth/`` by knob), then passes the rate
limit (429) and the ``MI_MODIFIED_ERROR`` knob before it reaches :mod:`.reads` or
:mod:`.writes`. Entity sets are declared in :mod:`.schema`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec
from aiohttp import web

from connector.sandbox.base import Simulator, SlidingWindow, json_response, monotonic
from connector.sandbox.ifs import reads, rules, writes
from connector.sandbox.ifs.auth import Iam, discovery
from connector.sandbox.ifs.knobs import (
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY,
    PASSWORD,
    REALM,
    USERNAME,
    IfsKnobs,
)
from connector.sandbox.ifs.odata import QueryError, parse_keys
from connector.sandbox.ifs.rendering import metadata, wire_value
from connector.sandbox.ifs.responses import bad_request, not_allowed, not_found, odata_error
from connector.sandbox.ifs.schema import ENTITY_SETS, PROJECTIONS, EntitySet
from connector.sandbox.ifs.seed import DEFAULT_COUNTS, DEFAULT_LOADS, seed_tenant
from connector.sandbox.ifs.store import Row, Store, Table

_OIDC = f"/auth/realms/{REALM}/protocol/openid-connect"
_ROOTS = ("/main/ifsapplications/projection/v1/", "/int/ifsapplications/projection/v1/")
_RESOURCE = re.compile(r"^(?P<set>\w+)(?:\((?P<keys>.*)\))?(?:/(?P<segment>[\w.]+))?$")
_VERBS = {"POST": ("C", "create"), "PATCH": ("U", "update"), "DELETE": ("D", "delete")}


class SeedParams(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /_sandbox/seed``."""

    seed: int = 0
    counts: dict[str, int] = msgspec.field(default_factory=lambda: dict(DEFAULT_COUNTS))
    loads: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_LOADS))


class IfsSimulator(Simulator):
    """IFS Cloud's projection API behind IFS IAM, strict where a real tenant is strict."""

    name = "ifs"
    port_offset = 4
    Knobs = IfsKnobs

    def __init__(self) -> None:
        super().__init__()
        self.knobs: IfsKnobs = IfsKnobs()
        self._fresh()

    def _fresh(self) -> None:
        self.store = Store()
        self.iam = Iam()
        self._minute = SlidingWindow(60.0)
        self._mi_failed: set[str] = set()

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._dispatch)

    def fault_exempt(self, request: web.Request) -> bool:
        return request.path.startswith("/auth/")

    def is_write(self, request: web.Request) -> bool:
        return request.method in ("POST", "PATCH", "DELETE") and not self.fault_exempt(request)

    def too_many_requests(self, headers: dict[str, str]) -> web.Response:
        return odata_error(
            429, "ODP_TOO_MANY_REQUESTS", "Too many requests; retry later.", headers=headers
        )

    # -- routing ------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.Response:
        path, method = request.path, request.method
        if path == f"{_OIDC}/token" and method == "POST":
            return await self.iam.token(request, self.knobs)
        if path == f"{_OIDC}/revoke" and method == "POST":
            return await self.iam.revoke(request)
        if path == f"/auth/realms/{REALM}/.well-known/openid-configuration" and method == "GET":
            return discovery(self.base_url)
        if path.startswith("/auth/realms/"):
            return json_response({"error": "Realm does not exist"}, 404)
        root = next((r for r in _ROOTS if path.startswith(r)), None)
        if root is None:
            return not_found(path)
        refused = self._gate(request)
        if refused is not None:
            return refused
        projection, _, rest = path[len(root) :].partition("/")
        if not projection.endswith(".svc") or projection[:-4] not in PROJECTIONS:
            return not_found(f"projection {projection}")
        return await self._projection(request, projection[:-4], rest)

    def _gate(self, request: web.Request) -> web.Response | None:
        """Bearer, rate limit and metadata-change checks every projection call passes."""
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if not self.iam.is_valid(token):
            if self.knobs.unauthorized_redirect:
                raise web.HTTPFound(f"{_OIDC}/auth?client_id=IFS_aurena&response_type=code")
            return web.Response(status=401, headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        limit = self.knobs.requests_per_minute
        now = monotonic()
        if limit and self._minute.count(now) >= limit:
            self.counters["served_429"] += 1
            headers = {}
            if self.knobs.retry_after_header:
                headers["Retry-After"] = str(max(1, int(self._minute.seconds_until_free(now) + 1)))
            return self.too_many_requests(headers)
        self._minute.add(now)
        if self.knobs.mi_modified_errors > 0:
            fingerprint = hashlib.sha256(f"{request.method} {request.path_qs}".encode()).hexdigest()
            if fingerprint not in self._mi_failed:
                self._mi_failed.add(fingerprint)
                self.knobs.mi_modified_errors -= 1
                return odata_error(
                    500,
                    "MI_MODIFIED_ERROR",
                    "Metadata of the projection has been modified. Please retry.",
                )
        return None

    async def _projection(self, request: web.Request, projection: str, rest: str) -> web.Response:
        if rest == "$metadata":
            return web.Response(text=metadata(projection), content_type="application/xml")
        match = _RESOURCE.match(rest)
        spec = ENTITY_SETS.get(f"{projection}/{match.group('set')}") if match else None
        if match is None or spec is None:
            return not_found(f"{projection}.svc/{rest}")
        table = self.store.table(spec.path)
        link = f"{projection}.svc/{spec.name}"
        if match.group("keys") is None:
            if match.group("segment"):
                return not_found(f"{projection}.svc/{rest}")
            return await self._collection(request, table, link)
        try:
            keys = parse_keys(spec, match.group("keys"))
        except QueryError as exc:
            return bad_request(str(exc))
        row = table.rows.get(table.key_of(keys))
        segment = match.group("segment")
        if segment:
            return await self._segment(request, table, row, keys, segment)
        return await self._entity(request, table, row, keys)

    # -- handlers -----------------------------------------------------------------------
    async def _collection(self, request: web.Request, table: Table, link: str) -> web.Response:
        spec = table.spec
        if request.method == "GET":
            return reads.list_rows(request, self.store, table, self.knobs, self.base_url, link)
        if request.method != "POST":
            return not_allowed(f"{request.method} is not allowed on the {spec.name} collection.")
        refused = self._rights(spec, "POST")
        if refused is not None:
            return refused
        try:
            body = await writes.json_body(request)
            row = writes.create(self.store, table, body, self.knobs)
        except writes.Refused as exc:
            return exc.response
        response = reads.entity_response(
            self.store, table, row, self.knobs, self.base_url, request, 201
        )
        response.headers["Location"] = f"{self.base_url}{request.path}({_key_text(table, row)})"
        return response

    async def _entity(
        self, request: web.Request, table: Table, row: Row | None, keys: dict[str, Any]
    ) -> web.Response:
        spec = table.spec
        method = request.method
        if method == "GET":
            if row is None:
                return not_found(f"{spec.name}({_keys_text(keys)})")
            return reads.entity_response(self.store, table, row, self.knobs, self.base_url, request)
        if method not in ("PATCH", "DELETE"):
            return not_allowed(f"{method} is not allowed on one {spec.entity}.")
        refused = self._rights(spec, method)
        if refused is not None:
            return refused
        if (
            method == "PATCH"
            and "If-Match" not in request.headers
            and self.knobs.patch_without_if_match == "upsert"
        ):
            return await self._upsert(request, table, row, keys)
        refused = writes.precondition(request, row, self.knobs)
        if refused is not None:
            return refused
        if row is None:
            return not_found(f"{spec.name}({_keys_text(keys)})")
        if method == "DELETE":
            del table.rows[table.key_of(row.values)]
            return web.Response(status=204)
        try:
            body = await writes.json_body(request)
            writes.update(self.store, table, row, body, self.knobs)
        except writes.Refused as exc:
            return exc.response
        return self._patched(request, table, row)

    async def _upsert(
        self, request: web.Request, table: Table, row: Row | None, keys: dict[str, Any]
    ) -> web.Response:
        """PATCH without If-Match on releases that treat it as an upsert (knob)."""
        try:
            body = await writes.json_body(request)
            if row is None:
                row = writes.create(self.store, table, body | keys, self.knobs)
                return reads.entity_response(
                    self.store, table, row, self.knobs, self.base_url, request, 201
                )
            writes.update(self.store, table, row, body, self.knobs)
        except writes.Refused as exc:
            return exc.response
        return self._patched(request, table, row)

    def _patched(self, request: web.Request, table: Table, row: Row) -> web.Response:
        if self.knobs.patch_response == "no_content":
            return web.Response(status=204, headers={"ETag": row.etag})
        return reads.entity_response(self.store, table, row, self.knobs, self.base_url, request)

    async def _segment(
        self,
        request: web.Request,
        table: Table,
        row: Row | None,
        keys: dict[str, Any],
        segment: str,
    ) -> web.Response:
        spec = table.spec
        if row is None:
            return not_found(f"{spec.name}({_keys_text(keys)})")
        array = spec.arrays.get(segment)
        if array is not None:
            if request.method != "GET":
                return not_allowed(f"{request.method} is not allowed on {segment}.")
            target = self.store.table(array.target)
            wanted = {there: row.values.get(here) for here, there in array.keys}
            link = f"{target.spec.projection}.svc/{target.spec.name}"
            return reads.list_rows(
                request,
                self.store,
                target,
                self.knobs,
                self.base_url,
                link,
                scope=lambda values: all(values.get(k) == v for k, v in wanted.items()),
            )
        action = next((a for a in spec.actions if spec.action_name(a) == segment), None)
        if action is None:
            return not_found(f"{spec.name}(…)/{segment}")
        if request.method != "POST":
            return not_allowed(f"Actions are called with POST, not {request.method}.")
        refused = writes.precondition(request, row, self.knobs)
        if refused is not None:
            return refused
        try:
            rules.run_action(self.store, spec.path, row, action)
        except rules.BusinessError as exc:
            return writes.business(exc, self.knobs).response
        return web.Response(status=204)

    def _rights(self, spec: EntitySet, method: str) -> web.Response | None:
        letter, verb = _VERBS[method]
        if letter in spec.crud:
            return None
        allowed = {"R": "Read only", "RU": "Read and Update only"}.get(spec.crud, spec.crud)
        return not_allowed(f"{spec.name} does not allow {verb} ({method}): it is {allowed}.")

    # -- admin --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        entities = {
            table.spec.name: [
                {
                    "@odata.etag": row.etag,
                    **{k: wire_value(v, self.knobs) for k, v in row.values.items()},
                }
                for row in table.rows.values()
            ]
            for table in self.store.tables.values()
        }
        return {
            "system": self.name,
            "entities": entities,
            "counts": {name: len(rows) for name, rows in entities.items()},
            "tokens": {"active": self.iam.active(), "requests": self.iam.requests},
        }

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """Replace the tenant's rows with deterministic reference data."""
        try:
            parsed = msgspec.convert(params, SeedParams)
        except msgspec.ValidationError as exc:
            return {"error": f"seed body rejected: {exc}"}
        self.store = Store()
        return {"seeded": seed_tenant(self.store, parsed.seed, parsed.counts, parsed.loads)}

    def reset(self) -> None:
        self._fresh()

    def credentials(self) -> dict[str, Any]:
        return {
            "url": self.base_url,
            "realm": REALM,
            "token_url": f"{self.base_url}{_OIDC}/token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": USERNAME,
            "password": PASSWORD,
            "company": COMPANY,
        }


def _keys_text(keys: dict[str, Any]) -> str:
    return ",".join(f"{k}='{v}'" if isinstance(v, str) else f"{k}={v}" for k, v in keys.items())


def _key_text(table: Table, row: Row) -> str:
    return _keys_text({k: row.values[k] for k in table.spec.keys})
