"""The ServiceTitan simulator: auth host and API host on one port.

Strict where ServiceTitan is strict (sheet ``systems/servicetitan.md``, specs in
``systems/servicetitan-openapi/``):

* ``POST /connect/token`` — client credentials only; ``invalid_client`` for a bad id or
  secret, ``unsupported_grant_type`` otherwise; opaque tokens living ``token_lifetime_s``
  (900 s), no refresh token. Exempt from generic faults, counted in
  ``counters["token_requests"]``.
* Every API call needs ``Authorization: Bearer <live token>`` **and** ``ST-App-Key``, else
  401; a tenant id other than the token's → 403 (knob ``wrong_tenant_status``: 404).
* 60 calls per rolling second per (app key, tenant) → 429 with ``Retry-After: 1`` (knob
  ``retry_after_header``); refused calls do not use up the window.

Routes: the writes and the core reads are hand-built (``api_*`` modules); every other GET
the vendor documents for the six modules is served from the OpenAPI documents
(:mod:`.generic`), and every documented query parameter is type-checked and applied from
them (:mod:`.filtering`). Unknown paths and malformed ids get the problem JSON 404.

Coverage (documented GET operations served / documented, each exercised by
``tests/sandbox/test_servicetitan_contract.py``): accounting 39/39, crm 40/40,
inventory 21/21, jpm 43/43, pricebook 19/19, settings 13/13 — 175/175. Their 1240
documented query parameters are all accepted and type-checked; the 785 that select or
order rows filter, sort or search, through fields the models show or private ones
(:mod:`.facets`, :mod:`.relations`) where they do not, and
``tests/sandbox/test_servicetitan_filters.py`` proves the ones whose field the model
lacks. The other 455 are paging, ``active``/``activeState``, externalData, export-feed and
shape parameters handled where they apply; ``genPermUrl`` (no documented URL form) and
``excludeAccountingChangesFromModifiedDateRange`` (the sandbox makes no accounting-only
customer changes) change nothing. Modules outside these six are not served.

Writes (documented POST/PUT/PATCH/DELETE served / documented, each exercised by
``tests/sandbox/test_servicetitan_writes_contract.py``): accounting 31/31, crm 46/46,
inventory 29/29, jpm 28/28, pricebook 21/21, settings 9/9 — 164/164. 23 are hand-built
(``api_*``); 9 whose effect lands on other records (payment status, budget codes,
client-specific pricing, images, bulk pricebook) are kept where the documented GETs read
them (:mod:`.kept`, with ``GET images`` and its ``/_sandbox/files/…`` download); the other
132 are served from the spec (:mod:`.writes`): bodies checked against the documented
request schema, records created, updated, deleted or acted on where the generic GETs read
them.

Admin additions beyond the base ``/_sandbox/`` API: ``POST /_sandbox/generate``
(``{"entity", "count"}``: realistic records created now, firing webhooks) and
``/_sandbox/webhooks`` (``GET``, ``POST {"event","url","secret"}``, ``DELETE /{id}``,
``POST /replay {"eventId"}``).
"""

from __future__ import annotations

import hmac
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import BasicAuth, web

# Token expiry and the rate window read ``base.monotonic`` through the module, so tests can
# move the clock instead of sleeping.
from connector.sandbox import base
from connector.sandbox.base import Simulator, SlidingWindow, json_response, read_json
from connector.sandbox.servicetitan import api_accounting, api_inventory, api_reference, spec
from connector.sandbox.servicetitan.generic import GenericRoutes, served_key
from connector.sandbox.servicetitan.kept import FILES_PREFIX, KeptWrites
from connector.sandbox.servicetitan.knobs import ServiceTitanKnobs
from connector.sandbox.servicetitan.seeding import DEFAULT_COUNTS, GENERATABLE, Seeder, Timeline
from connector.sandbox.servicetitan.store import Store, debug_view, public
from connector.sandbox.servicetitan.webhooks import SubscriptionError, WebhookHub
from connector.sandbox.servicetitan.wire import (
    ApiError,
    api_error_response,
    format_ticks,
    problem,
    trace_id,
)
from connector.sandbox.servicetitan.writes import WriteRoutes

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: (method, module, path after ``/{module}/v2/tenant/{tenant}/``, handler)
Route = tuple[str, str, str, Handler]

TENANT_ID = 3_829_117_001
CLIENT_ID = "cid.sandbox.summit-comfort"
CLIENT_SECRET = "cs1.sandbox-summit-comfort-not-a-real-secret"
APP_KEY = "ak1.sandbox-ml-connector-app-key"

#: Tables whose changes are webhook events, and the event names.
EVENTS = {"invoices": "invoice", "payments": "payment", "jobs": "job", "customers": "customer"}


async def _no_route(request: web.Request) -> web.StreamResponse:
    return problem(
        404,
        "Not Found",
        {"path": [f"No {request.method} endpoint {request.path} exists in the v2 API."]},
    )


@dataclass(frozen=True)
class _Grant:
    tenant: int
    expires_at: float

    def __repr__(self) -> str:  # the token is the dict key; nothing secret here either way
        return f"_Grant(tenant={self.tenant})"


class ServiceTitanSimulator(Simulator):
    """ServiceTitan v2 (accounting, inventory, pricebook, crm, jpm, settings) for one tenant."""

    name = "servicetitan"
    port_offset = 1
    Knobs = ServiceTitanKnobs
    knobs: ServiceTitanKnobs

    def __init__(self) -> None:
        super().__init__()
        self.tenant_id = TENANT_ID
        self.store = Store()
        self.store.listener = self._on_change
        self.hub = WebhookHub(lambda: self.knobs, self.store.stamp)
        self._tokens: dict[str, _Grant] = {}
        self._windows: dict[tuple[str, int], SlidingWindow] = {}
        self._generator = random.Random(0)
        self.counters["token_requests"] = 0
        self.generic = GenericRoutes(self)
        self.writes = WriteRoutes(self)
        self.kept = KeptWrites(self)

    # -- Simulator contract ---------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/connect/token", self._token)
        app.router.add_post("/_sandbox/generate", self._admin_generate)
        app.router.add_get("/_sandbox/webhooks", self._admin_list_webhooks)
        app.router.add_post("/_sandbox/webhooks", self._admin_subscribe)
        app.router.add_post("/_sandbox/webhooks/replay", self._admin_replay)
        app.router.add_delete("/_sandbox/webhooks/{id}", self._admin_unsubscribe)
        app.router.add_get(FILES_PREFIX + "{path:.*}", self.kept.serve_file)
        hand = [
            route
            for module in (api_accounting, api_inventory, api_reference)
            for route in module.routes(self)
        ] + self.kept.routes()
        served = {served_key(system, path) for method, system, path, _ in hand if method == "GET"}
        written = {
            (system, method, spec.template_key(path))
            for method, system, path, _ in hand
            if method not in ("GET", "*")
        }
        # Catch-all routes ("*", e.g. the bill-write refusals) go after the specific GETs,
        # or they would shadow documented paths such as ap-bills/custom-fields.
        # aiohttp takes the first route that matches, so literal segments go before
        # placeholders: contacts/preferences must not be read as contacts/{id}.
        specific = [r for r in hand if r[0] != "*"] + self.generic.routes(served)
        specific += self.writes.routes(written)
        specific.sort(key=lambda route: [part.startswith("{") for part in route[2].split("/")])
        ordered = specific + [r for r in hand if r[0] == "*"]
        for method, system, path, handler in ordered:
            app.router.add_route(
                method, f"/{system}/v2/tenant/{{tenant}}/{path}", self._api(handler)
            )
        # Anything else is ServiceTitan's problem body, never aiohttp's text/plain 404.
        app.router.add_route("*", "/{module}/v2/tenant/{tenant}/{tail:.*}", self._api(_no_route))

    def state(self) -> dict[str, Any]:
        return {
            "system": self.name,
            "tenant": self.tenant_id,
            "entities": {
                name: [debug_view(record) for record in table.all()]
                for name, table in self.store.tables.items()
            },
            "counts": self.store.counts(),
            "webhooks": self.hub.state(),
        }

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """Replace the tenant's data with a reproducible HVAC/plumbing history."""
        seed_value = params.get("seed", 0)
        counts = dict(DEFAULT_COUNTS)
        requested = params.get("counts", {})
        unknown = set(params) - {"seed", "counts"}
        problems = [f"unknown keys {sorted(unknown)}"] if unknown else []
        if not isinstance(seed_value, int) or isinstance(seed_value, bool):
            problems.append("seed must be an integer")
        if not isinstance(requested, dict):
            problems.append("counts must be an object")
            requested = {}
        for key, value in requested.items():
            if key not in counts:
                problems.append(f"unknown count {key!r} (known: {', '.join(counts)})")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"counts.{key} must be a non-negative integer")
            else:
                counts[key] = value
        if problems:
            raise web.HTTPBadRequest(
                text=msgspec.json.encode({"error": "; ".join(problems)}).decode(),
                content_type="application/json",
            )
        self.store.clear()
        self.generic.sources.clear()
        self.kept.clear()
        rng = random.Random(seed_value)
        timeline = Timeline(rng)
        seeder = Seeder(
            self.store,
            rng,
            timeline.next,
            tenant_id=self.tenant_id,
            notify=False,
            create_bills=self.knobs.auto_create_bill,
        )
        seeder.seed(counts)
        if self.knobs.same_modified_on:
            shared = timeline.next()
            for table in self.store.tables.values():
                for record in table.rows.values():
                    record["modifiedOn"] = shared
        self.store.clock.advance_to(timeline.ticks)
        return {"seed": seed_value, "counts": self.store.counts()}

    def reset(self) -> None:
        self.store.clear()
        self.generic.sources.clear()
        self.kept.clear()
        self.hub.cancel_all()
        self._tokens.clear()
        self._windows.clear()
        self._generator.seed(0)
        self.counters["token_requests"] = 0

    def credentials(self) -> dict[str, Any]:
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "app_key": APP_KEY,
            "tenant": self.tenant_id,
            "auth_url": self.base_url,
            "api_url": self.base_url,
            "webhook_secret": None,
        }

    def is_write(self, request: web.Request) -> bool:
        return super().is_write(request) and request.path != "/connect/token"

    def fault_exempt(self, request: web.Request) -> bool:
        return request.path == "/connect/token"

    def too_many_requests(self, headers: dict[str, str]) -> web.Response:
        """ServiceTitan's 429 (as seen in the field); injected 429s look the same."""
        retry_after = headers.get("Retry-After", "1")
        if not self.knobs.retry_after_header:
            headers = {k: v for k, v in headers.items() if k.lower() != "retry-after"}
        body = {
            "status": 429,
            "title": f"Rate limit is exceeded. Try again in {retry_after} seconds.",
            "traceId": trace_id(),
        }
        return json_response(body, 429, headers)

    async def stop(self) -> None:
        await self.hub.close()
        await super().stop()

    # -- auth -----------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        self.counters["token_requests"] += 1
        form = await request.post()
        client_id = form.get("client_id")
        client_secret = form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                basic = BasicAuth.decode(header)
                client_id, client_secret = basic.login, basic.password
            except ValueError:
                pass
        if not (
            isinstance(client_id, str)
            and isinstance(client_secret, str)
            and hmac.compare_digest(client_id.encode(), CLIENT_ID.encode())
            and hmac.compare_digest(client_secret.encode(), CLIENT_SECRET.encode())
        ):
            return json_response({"error": "invalid_client"}, 400)
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        now = base.monotonic()
        self._tokens = {t: g for t, g in self._tokens.items() if g.expires_at > now}
        token = secrets.token_urlsafe(48)
        lifetime = self.knobs.token_lifetime_s
        self._tokens[token] = _Grant(self.tenant_id, now + lifetime)
        return json_response(
            {"access_token": token, "expires_in": int(lifetime), "token_type": "Bearer"}
        )

    def _unauthorized(self, reason: str) -> web.Response:
        challenge = f'Bearer error="invalid_token", error_description="{reason}"'
        return problem(401, "Unauthorized", full=False, headers={"WWW-Authenticate": challenge})

    def _admit(self, request: web.Request) -> web.Response | None:
        """The refusal for a request that may not reach a handler, or None to go ahead."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self._unauthorized("The request has no bearer token")
        grant = self._tokens.get(token.strip())
        if grant is None:
            return self._unauthorized("The access token is not known here")
        if grant.expires_at <= base.monotonic():
            return self._unauthorized("The access token expired")
        app_key = request.headers.get("ST-App-Key")
        if app_key is None or not hmac.compare_digest(app_key.encode(), APP_KEY.encode()):
            return self._unauthorized("The ST-App-Key header is missing or wrong")
        text = request.match_info["tenant"]
        try:
            tenant = int(text)
        except ValueError:
            return api_error_response(
                ApiError.invalid("tenant", f"'{text}' is not a tenant id (int64).")
            )
        if tenant != grant.tenant:
            status = self.knobs.wrong_tenant_status
            return problem(status, "Forbidden" if status == 403 else "Not Found", full=False)
        limit = self.knobs.rate_limit_per_s
        if limit > 0:
            window = self._windows.setdefault((APP_KEY, tenant), SlidingWindow(1.0))
            now = base.monotonic()
            if window.count(now) >= limit:
                self.counters["served_429"] += 1
                return self.too_many_requests({"Retry-After": "1"})
            window.add(now)
        return None

    def _api(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            refusal = self._admit(request)
            if refusal is not None:
                return refusal
            try:
                return await handler(request)
            except ApiError as error:
                return api_error_response(error)

        return guarded

    # -- webhooks and generation ----------------------------------------------------------
    def _on_change(self, table: str, record: dict[str, Any], created: bool) -> None:
        event = EVENTS.get(table)
        if event is not None and self.hub.has_subscribers(event):
            self.hub.publish(event, created, self.tenant_id, public(record))

    async def _admin_generate(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        entity = body.get("entity") if isinstance(body, dict) else None
        count = body.get("count", 1) if isinstance(body, dict) else None
        if entity not in GENERATABLE or not isinstance(count, int) or not 0 < count <= 10_000:
            return json_response(
                {"error": f'send {{"entity": one of {list(GENERATABLE)}, "count": 1..10000}}'}, 400
            )
        before = self.store.counts()
        seeder = Seeder(
            self.store,
            self._generator,
            self.store.stamp,
            tenant_id=self.tenant_id,
            notify=True,
            create_bills=self.knobs.auto_create_bill,
        )
        if self.knobs.same_modified_on:
            self.store.pinned_ticks = self.store.clock.now()
        try:
            seeder.generate(entity, count)
        except ApiError as error:
            return json_response({"error": error.title}, error.status)
        finally:
            self.store.pinned_ticks = None
        after = self.store.counts()
        created = {
            name: after[name] - before[name] for name in after if after[name] != before[name]
        }
        return json_response(
            {"entity": entity, "created": created, "at": format_ticks(self.store.clock.now())}
        )

    async def _admin_list_webhooks(self, request: web.Request) -> web.Response:
        return json_response({"subscriptions": self.hub.subscriptions()})

    async def _admin_subscribe(self, request: web.Request) -> web.Response:
        try:
            subscription = self.hub.subscribe(await read_json(request))
        except SubscriptionError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(subscription, 201)

    async def _admin_unsubscribe(self, request: web.Request) -> web.Response:
        try:
            subscription_id = int(request.match_info["id"])
        except ValueError:
            return json_response({"error": "subscription id must be an integer"}, 400)
        if not self.hub.unsubscribe(subscription_id):
            return json_response({"error": f"no webhook subscription {subscription_id}"}, 404)
        return json_response({"deleted": subscription_id})

    async def _admin_replay(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        event_id = body.get("eventId") if isinstance(body, dict) else None
        if not isinstance(event_id, str):
            return json_response({"error": 'send {"eventId": "<id from the delivery log>"}'}, 400)
        results = await self.hub.replay(event_id)
        if results is None:
            return json_response(
                {"error": f"no webhook event {event_id} (see /_sandbox/state)"}, 404
            )
        return json_response({"eventId": event_id, "results": results})
