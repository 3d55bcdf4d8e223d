"""ServiceTitan simulator over raw HTTP: auth, tenancy, paging, typing, exports, rate limits,
seeding and faults. Writes are in ``test_servicetitan_writes.py``, webhooks in
``test_servicetitan_webhooks.py``; both reuse the :class:`ST` helper defined here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from connector.sandbox import base
from connector.sandbox.base import Simulator
from tests.conftest import StartSimulator

#: A small tenant: enough rows for paging and filters, fast to seed.
SMALL = {
    "business_units": 3,
    "tax_zones": 2,
    "gl_accounts": 24,
    "vendors": 30,
    "materials": 25,
    "equipment": 10,
    "services": 12,
    "customers": 20,
    "jobs": 60,
    "invoices": 60,
    "payments": 25,
    "purchase_orders": 12,
    "received_purchase_orders": 6,
    "adjustments": 4,
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$")
MONEY = re.compile(r"^-?\d+\.\d{2}$")


class ST:
    """Raw-HTTP access to one simulator: admin calls, tokens and tenant-scoped URLs."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session
        self.base = sim.base_url
        self.creds: dict[str, Any] = {}
        self.token = ""

    async def setup(self) -> None:
        async with self.session.get(f"{self.base}/_sandbox/credentials") as reply:
            self.creds = await reply.json()
        self.token = await self.new_token()

    async def new_token(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.creds["client_id"],
            "client_secret": self.creds["client_secret"],
        }
        async with self.session.post(f"{self.base}/connect/token", data=form) as reply:
            assert reply.status == 200, await reply.text()
            return str((await reply.json())["access_token"])

    @property
    def tenant(self) -> int:
        return int(self.creds["tenant"])

    def url(self, module: str, path: str, tenant: int | None = None) -> str:
        return f"{self.base}/{module}/v2/tenant/{tenant or self.tenant}/{path}"

    def headers(self, **override: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "ST-App-Key": self.creds["app_key"]}
        for name, value in override.items():
            key = name.replace("_", "-")
            if value is None:
                headers.pop(key, None)
            else:
                headers[key] = value
        return headers

    async def call(
        self, method: str, module: str, path: str, *, json: Any = None, **params: Any
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, self.url(module, path), json=json, params=params or None, headers=self.headers()
        ) as reply:
            text = await reply.text()
            return reply.status, (await reply.json() if text else None)

    async def get(self, module: str, path: str, **params: Any) -> Any:
        status, body = await self.call("GET", module, path, **params)
        assert status == 200, body
        return body

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.base}/_sandbox/{path}", json=body) as reply:
            assert reply.status < 300, await reply.text()
            return await reply.json()

    async def knobs(self, **values: Any) -> None:
        await self.admin("POST", "faults", values)

    async def seed(self, seed: int = 1, **counts: int) -> Any:
        return await self.admin("POST", "seed", {"seed": seed, "counts": SMALL | counts})


@asynccontextmanager
async def connect(start_simulator: StartSimulator) -> AsyncIterator[ST]:
    """A fresh ServiceTitan simulator with credentials and a live token."""
    sim = await start_simulator("servicetitan")
    async with aiohttp.ClientSession() as session:
        client = ST(sim, session)
        await client.setup()
        yield client


@pytest.fixture
async def st(start_simulator: StartSimulator) -> AsyncIterator[ST]:
    """A fresh ServiceTitan simulator with credentials and a live token."""
    async with connect(start_simulator) as client:
        yield client


class FakeClock:
    """Stands in for ``base.monotonic`` so token lifetimes and rate windows need no sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(base, "monotonic", fake)
    return fake


# -- auth and tenancy ---------------------------------------------------------------------


async def test_token_flow_returns_bearer_token_without_refresh(st: ST) -> None:
    """Client credentials yield an opaque Bearer token for 900 s and no refresh token."""
    form = {
        "grant_type": "client_credentials",
        "client_id": st.creds["client_id"],
        "client_secret": st.creds["client_secret"],
    }
    async with st.session.post(f"{st.base}/connect/token", data=form) as reply:
        body = await reply.json()
    assert reply.status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert "refresh_token" not in body and len(body["access_token"]) >= 32
    assert await st.get("settings", "business-units") is not None


async def test_token_with_bad_secret_is_invalid_client(st: ST) -> None:
    """A wrong client secret is a 400 invalid_client, and the secret is not echoed."""
    form = {
        "grant_type": "client_credentials",
        "client_id": st.creds["client_id"],
        "client_secret": "wrong-secret-value",
    }
    async with st.session.post(f"{st.base}/connect/token", data=form) as reply:
        assert reply.status == 400
        assert await reply.json() == {"error": "invalid_client"}


async def test_token_with_other_grant_type_is_unsupported(st: ST) -> None:
    """Only client_credentials is accepted; a password grant is unsupported_grant_type."""
    form = {
        "grant_type": "password",
        "client_id": st.creds["client_id"],
        "client_secret": st.creds["client_secret"],
        "username": "u",
        "password": "p",
    }
    async with st.session.post(f"{st.base}/connect/token", data=form) as reply:
        assert reply.status == 400
        assert await reply.json() == {"error": "unsupported_grant_type"}


async def test_token_endpoint_is_exempt_from_faults_but_counted(st: ST) -> None:
    """With every request failing 503, tokens are still issued and counted."""
    await st.knobs(rate_5xx=1.0)
    await st.new_token()
    status, _ = await st.call("GET", "settings", "business-units")
    state = await st.admin("GET", "state")
    assert status == 503
    assert state["counters"]["token_requests"] == 2


async def test_missing_token_is_401_problem(st: ST) -> None:
    """A call without Authorization is refused with a 401 problem body."""
    headers = st.headers(Authorization=None)
    async with st.session.get(st.url("crm", "customers"), headers=headers) as reply:
        body = await reply.json()
    assert reply.status == 401
    assert body["title"] == "Unauthorized" and body["status"] == 401
    assert set(body) == {"type", "title", "status", "traceId"}


async def test_missing_app_key_is_401(st: ST) -> None:
    """A valid token is not enough: ST-App-Key must be sent too."""
    async with st.session.get(st.url("crm", "customers"), headers=st.headers(ST_App_Key=None)) as r:
        assert r.status == 401
    async with st.session.get(
        st.url("crm", "customers"), headers=st.headers(ST_App_Key="ak1.x")
    ) as r:
        assert r.status == 401


async def test_expired_token_is_401(st: ST, clock: FakeClock) -> None:
    """A token past its lifetime (knob token_lifetime_s) is refused with 401."""
    await st.knobs(token_lifetime_s=5)
    st.token = await st.new_token()
    status, _ = await st.call("GET", "crm", "customers")
    assert status == 200
    clock.now += 5.5
    status, body = await st.call("GET", "crm", "customers")
    assert status == 401 and body["title"] == "Unauthorized"


async def test_unknown_token_is_401(st: ST) -> None:
    """A made-up bearer token is refused."""
    async with st.session.get(
        st.url("crm", "customers"), headers=st.headers(Authorization="Bearer nope")
    ) as r:
        assert r.status == 401


async def test_other_tenant_is_403_or_404_by_knob(st: ST) -> None:
    """A tenant id the token is not bound to is 403, or 404 with wrong_tenant_status."""
    url = st.url("crm", "customers", tenant=st.tenant + 1)
    async with st.session.get(url, headers=st.headers()) as reply:
        assert reply.status == 403
    await st.knobs(wrong_tenant_status=404)
    async with st.session.get(url, headers=st.headers()) as reply:
        assert reply.status == 404


# -- paging, filters, typing --------------------------------------------------------------


async def test_page_size_over_5000_is_api_error_response(st: ST) -> None:
    """pageSize 5001 is a 400 ApiErrorResponse naming pageSize."""
    status, body = await st.call("GET", "accounting", "invoices", pageSize=5001)
    assert status == 400
    assert set(body) == {"type", "title", "status", "traceId", "errors", "data"}
    assert body["status"] == 400 and list(body["errors"]) == ["pageSize"]


async def test_paging_walks_every_row_once(st: ST) -> None:
    """Following hasMore page by page returns each vendor exactly once, in id order."""
    await st.seed()
    seen: list[int] = []
    page = 1
    while True:
        body = await st.get(
            "inventory", "vendors", page=page, pageSize=7, includeTotal="true", active="Any"
        )
        assert set(body) == {"page", "pageSize", "hasMore", "totalCount", "data"}
        seen += [row["id"] for row in body["data"]]
        if not body["hasMore"]:
            break
        page += 1
    assert body["totalCount"] == 30 and len(seen) == 30
    assert seen == sorted(set(seen))
    first = await st.get("inventory", "vendors", pageSize=7)
    assert first["totalCount"] is None


async def test_ids_filter_is_limited_to_50(st: ST) -> None:
    """ids selects records; more than 50 ids is a 400."""
    await st.seed()
    body = await st.get("inventory", "vendors", ids="10001,10003", active="Any")
    assert [row["id"] for row in body["data"]] == [10001, 10003]
    status, body = await st.call(
        "GET", "inventory", "vendors", ids=",".join(str(i) for i in range(51))
    )
    assert status == 400 and "ids" in body["errors"]


async def test_active_filter_defaults_to_active_only(st: ST) -> None:
    """Lists hide inactive rows unless active=Any (or False) is asked for."""
    await st.seed()
    status, _ = await st.call("PATCH", "inventory", "vendors/10002", json={"active": False})
    assert status == 200
    default = {row["id"] for row in (await st.get("inventory", "vendors", pageSize=100))["data"]}
    anyone = {
        row["id"]
        for row in (await st.get("inventory", "vendors", pageSize=100, active="Any"))["data"]
    }
    inactive = {row["id"] for row in (await st.get("inventory", "vendors", active="False"))["data"]}
    assert 10002 not in default and 10002 in anyone and 10002 in inactive
    assert default | inactive == anyone


async def test_invoices_use_active_state(st: ST) -> None:
    """Invoices filter with activeState (ActiveOnly by default, InactiveOnly, All)."""
    await st.seed(seed=3, jobs=200, invoices=200)
    counts = {}
    for state in ("ActiveOnly", "InactiveOnly", "All"):
        counts[state] = (
            await st.get("accounting", "invoices", activeState=state, includeTotal="true")
        )["totalCount"]
    default = (await st.get("accounting", "invoices", includeTotal="true"))["totalCount"]
    assert counts["InactiveOnly"] > 0
    assert default == counts["ActiveOnly"] == counts["All"] - counts["InactiveOnly"]


async def test_invoice_money_is_strings_and_timestamps_have_seven_digits(st: ST) -> None:
    """Accounting money/quantities are strings, inventory numbers; timestamps end .fffffffZ."""
    await st.seed()
    invoice = (await st.get("accounting", "invoices", pageSize=1))["data"][0]
    for key in ("subTotal", "salesTax", "total", "balance"):
        assert isinstance(invoice[key], str) and MONEY.match(invoice[key]), (key, invoice[key])
    item = invoice["items"][0]
    assert isinstance(item["quantity"], str) and isinstance(item["price"], str)
    assert item["generalLedgerAccount"]["number"] and item["businessUnit"]["id"]
    assert TIMESTAMP.match(invoice["modifiedOn"]) and TIMESTAMP.match(invoice["createdOn"])
    assert invoice["job"]["id"] and invoice["customer"]["id"]
    po = (await st.get("inventory", "purchase-orders", pageSize=1))["data"][0]
    assert isinstance(po["total"], float) and isinstance(po["items"][0]["quantity"], float)


async def test_modified_on_or_after_is_inclusive(st: ST) -> None:
    """A record modified exactly at modifiedOnOrAfter is included; modifiedBefore excludes it."""
    await st.seed()
    rows = (await st.get("crm", "customers", pageSize=50))["data"]
    pivot = rows[5]["modifiedOn"]
    after = (await st.get("crm", "customers", pageSize=50, modifiedOnOrAfter=pivot))["data"]
    before = (await st.get("crm", "customers", pageSize=50, modifiedBefore=pivot))["data"]
    assert rows[5]["id"] in {r["id"] for r in after}
    assert rows[5]["id"] not in {r["id"] for r in before}
    assert len(after) + len(before) == len(rows)


async def test_patch_bumps_modified_on(st: ST) -> None:
    """Every change moves modifiedOn forward, strictly."""
    await st.seed()
    before = await st.get("crm", "customers/100001")
    status, _ = await st.call("PATCH", "crm", "customers/100001", json={"doNotMail": True})
    after = await st.get("crm", "customers/100001")
    assert status == 200 and after["doNotMail"] is True
    assert after["modifiedOn"] > before["modifiedOn"]
    invoice = (await st.get("accounting", "invoices", pageSize=1))["data"][0]
    status, _ = await st.call(
        "PATCH", "accounting", f"invoices/{invoice['id']}", json={"summary": "Checked"}
    )
    again = (await st.get("accounting", "invoices", ids=str(invoice["id"])))["data"][0]
    assert (
        status == 200
        and again["summary"] == "Checked"
        and again["modifiedOn"] > invoice["modifiedOn"]
    )


async def test_sort_by_modified_on_descending(st: ST) -> None:
    """sort=-ModifiedOn orders newest first; an unknown sort field is a 400."""
    await st.seed()
    rows = (await st.get("inventory", "vendors", sort="-ModifiedOn", pageSize=50))["data"]
    stamps = [row["modifiedOn"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)
    status, body = await st.call("GET", "inventory", "vendors", sort="+Name")
    assert status == 400 and "sort" in body["errors"]


async def test_undocumented_parameter_is_ignored_and_documented_one_filters(st: ST) -> None:
    """An undocumented parameter is ignored as ServiceTitan does; a documented one filters."""
    await st.seed()
    everything = await st.get("accounting", "invoices", pageSize=500)
    ignored = await st.get("accounting", "invoices", pageSize=500, noSuchFilter="x")
    assert ignored["data"] == everything["data"]
    big = await st.get("accounting", "invoices", pageSize=500, totalGreater=500)
    assert big["data"] and all(float(row["total"]) > 500 for row in big["data"])
    assert len(big["data"]) < len(everything["data"])


async def test_inventory_bills_bare_array_and_paginated_envelope(st: ST) -> None:
    """GET inventory-bills is a bare JSON array; /paginated wraps the same rows."""
    await st.seed()
    bare = await st.get("accounting", "inventory-bills", pageSize=3)
    paged = await st.get("accounting", "inventory-bills/paginated", pageSize=3)
    assert isinstance(bare, list) and len(bare) == 3
    assert paged["data"] == bare and paged["hasMore"] is True
    assert isinstance(bare[0]["billAmount"], str) and bare[0]["vendorNumber"]


# -- export feeds -------------------------------------------------------------------------


async def _drain(
    st: ST, module: str, feed: str, start: str | None
) -> tuple[list[dict[str, Any]], str]:
    rows: list[dict[str, Any]] = []
    token = start
    while True:
        params = {"from": token} if token else {}
        body = await st.get(module, f"export/{feed}", **params)
        assert set(body) == {"hasMore", "continueFrom", "data"}
        rows += body["data"]
        token = body["continueFrom"]
        if not body["hasMore"]:
            return rows, token


async def test_export_feed_resumes_without_gaps_or_duplicates(st: ST) -> None:
    """Chunked export covers every row once (inactive too); the last token picks up changes."""
    await st.seed()
    await st.knobs(export_chunk=7)
    rows, token = await _drain(st, "pricebook", "materials", None)
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 25
    await st.call("PATCH", "pricebook", "materials/20003", json={"price": 99.5})
    await st.call("PATCH", "pricebook", "materials/20001", json={"price": 12.25})
    more, token2 = await _drain(st, "pricebook", "materials", token)
    assert [row["id"] for row in more] == [20003, 20001]
    quiet = await st.get("pricebook", "export/materials", **{"from": token2})
    assert quiet["data"] == [] and quiet["hasMore"] is False and quiet["continueFrom"]
    orders, _ = await _drain(st, "inventory", "purchase-orders", None)
    assert len(orders) == 12


async def test_rows_sharing_modified_on_are_not_skipped(st: ST) -> None:
    """With same_modified_on, a date-based from and chunked tokens still return every row."""
    await st.knobs(same_modified_on=True, export_chunk=4)
    await st.seed()
    customers = (await st.get("crm", "customers", pageSize=50))["data"]
    assert len({row["modifiedOn"] for row in customers}) == 1
    stamp = customers[0]["modifiedOn"]
    rows, _ = await _drain(st, "crm", "customers", stamp)
    assert sorted(row["id"] for row in rows) == sorted(row["id"] for row in customers)
    listed = await st.get("crm", "customers", modifiedOnOrAfter=stamp, pageSize=50)
    assert len(listed["data"]) == 20


async def test_export_includes_inactive_rows_and_active_flag(st: ST) -> None:
    """Export feeds include inactive rows (lists hide them) and bills/jobs carry active."""
    await st.seed()
    await st.call("PATCH", "crm", "customers/100001", json={"active": False})
    listed = (await st.get("crm", "customers", pageSize=50))["data"]
    exported, _ = await _drain(st, "crm", "customers", None)
    assert 100001 not in {row["id"] for row in listed}
    assert 100001 in {row["id"] for row in exported} and len(exported) == 20
    bills, _ = await _drain(st, "accounting", "inventory-bills", None)
    assert bills and all(bill["active"] is True for bill in bills)
    jobs, _ = await _drain(st, "jpm", "jobs", None)
    assert len(jobs) == 60 and "active" in jobs[0]
    status, body = await st.call("GET", "crm", "export/customers", **{"from": "not a token"})
    assert status == 400 and "from" in body["errors"]


# -- rate limit ---------------------------------------------------------------------------


async def test_61st_request_in_a_second_is_429_with_retry_after(st: ST, clock: FakeClock) -> None:
    """60 calls per second per app key and tenant; the 61st gets 429, Retry-After and the body."""
    for _ in range(60):
        status, _ = await st.call("GET", "settings", "business-units")
        assert status == 200
    async with st.session.get(st.url("settings", "business-units"), headers=st.headers()) as reply:
        body = await reply.json()
        assert reply.status == 429 and reply.headers["Retry-After"] == "1"
    assert body["title"] == "Rate limit is exceeded. Try again in 1 seconds."
    assert body["status"] == 429 and body["traceId"]
    clock.now += 1.01
    status, _ = await st.call("GET", "settings", "business-units")
    assert status == 200
    assert (await st.admin("GET", "state"))["counters"]["served_429"] == 1


async def test_refused_requests_do_not_consume_the_window(st: ST, clock: FakeClock) -> None:
    """Hammering while throttled does not extend the throttle."""
    await st.knobs(rate_limit_per_s=3)
    for _ in range(3):
        assert (await st.call("GET", "settings", "business-units"))[0] == 200
    clock.now += 0.5
    for _ in range(10):
        assert (await st.call("GET", "settings", "business-units"))[0] == 429
    clock.now += 0.51
    assert (await st.call("GET", "settings", "business-units"))[0] == 200


async def test_429_without_retry_after_when_knob_off(st: ST, clock: FakeClock) -> None:
    """retry_after_header=false drops Retry-After from both real and injected 429s."""
    await st.knobs(rate_limit_per_s=1, retry_after_header=False)
    await st.call("GET", "settings", "business-units")
    async with st.session.get(st.url("settings", "business-units"), headers=st.headers()) as reply:
        assert reply.status == 429 and "Retry-After" not in reply.headers
    clock.now += 2
    await st.knobs(rate_429=1.0)
    async with st.session.get(st.url("settings", "business-units"), headers=st.headers()) as reply:
        body = await reply.json()
        assert reply.status == 429 and "Retry-After" not in reply.headers
    assert body["title"].startswith("Rate limit is exceeded.")


# -- seeding and admin --------------------------------------------------------------------


async def test_seed_is_deterministic(st: ST) -> None:
    """The same seed produces the same tenant, to the tick; another seed does not."""
    first = await st.seed(seed=42)
    state_one = (await st.admin("GET", "state"))["entities"]
    await st.admin("POST", "reset")
    second = await st.seed(seed=42)
    state_two = (await st.admin("GET", "state"))["entities"]
    await st.seed(seed=43)
    state_three = (await st.admin("GET", "state"))["entities"]
    assert first == second and state_one == state_two
    assert state_one["invoices"] != state_three["invoices"]
    assert first["counts"]["inventory_bills"] == first["counts"]["ap_bills"] == 6


async def test_seeded_invoices_reference_real_catalog_records(st: ST) -> None:
    """Invoice lines point at seeded pricebook skus, GL accounts and business units."""
    await st.seed()
    state = (await st.admin("GET", "state"))["entities"]
    skus = {row["id"] for kind in ("materials", "equipment", "services") for row in state[kind]}
    accounts = {row["id"] for row in state["gl_accounts"]}
    units = {row["id"] for row in state["business_units"]}
    jobs = {row["id"]: row for row in state["jobs"]}
    for invoice in state["invoices"]:
        assert jobs[invoice["job"]["id"]]["invoiceId"] == invoice["id"]
        for item in invoice["items"]:
            assert item["skuId"] in skus and item["generalLedgerAccount"]["id"] in accounts
            assert item["businessUnit"]["id"] in units
    assert any("Pleated Filter" in row["description"] for row in state["materials"])


async def test_seed_rejects_unknown_counts(st: ST) -> None:
    """A typo in the seed counts is a 400 naming it, not a silently default tenant."""
    async with st.session.post(
        f"{st.base}/_sandbox/seed", json={"counts": {"vendorz": 1}}
    ) as reply:
        assert reply.status == 400 and "vendorz" in (await reply.json())["error"]


async def test_scripted_faults_fire_once_then_normal_service(st: ST) -> None:
    """An admin fault script injects a 503 on the next read and a timeout after a write."""
    await st.seed()
    await st.knobs(
        hang_s=0.05,
        script=[
            {"fault": "5xx", "match": "read"},
            {"fault": "timeout_after_commit", "match": "write", "path_contains": "gl-accounts"},
        ],
    )
    status, _ = await st.call("GET", "accounting", "gl-accounts")
    assert status == 503
    assert (await st.call("GET", "accounting", "gl-accounts"))[0] == 200
    with pytest.raises(aiohttp.ClientError):
        await st.call("POST", "accounting", "gl-accounts", json={"name": "Warranty Reserve"})
    names = [
        row["name"] for row in (await st.get("accounting", "gl-accounts", pageSize=100))["data"]
    ]
    assert "Warranty Reserve" in names


async def test_reset_clears_data_tokens_and_knobs(st: ST) -> None:
    """reset forgets records, tokens and knobs."""
    await st.seed()
    await st.knobs(rate_limit_per_s=1)
    await st.admin("POST", "reset")
    status, _ = await st.call("GET", "crm", "customers")
    assert status == 401
    st.token = await st.new_token()
    assert (await st.get("crm", "customers"))["data"] == []
    assert (await st.admin("GET", "faults"))["knobs"]["rate_limit_per_s"] == 60


async def test_credentials_share_one_port_for_auth_and_api(st: ST) -> None:
    """credentials name client, secret, app key, tenant and the same URL for auth and API."""
    creds = st.creds
    assert creds["auth_url"] == creds["api_url"] == st.base
    assert isinstance(creds["tenant"], int) and creds["app_key"] and creds["client_secret"]
    assert "webhook_secret" in creds


async def test_generate_creates_records_now(st: ST) -> None:
    """generate adds realistic records with current timestamps on top of the seed."""
    await st.seed()
    newest = (await st.get("accounting", "invoices", sort="-ModifiedOn", pageSize=1))["data"][0]
    made = await st.admin("POST", "generate", {"entity": "invoices", "count": 3})
    assert made["created"]["invoices"] == 3 and made["created"]["jobs"] == 3
    fresh = await st.get(
        "accounting", "invoices", modifiedOnOrAfter=newest["modifiedOn"], pageSize=10
    )
    assert len(fresh["data"]) == 4
