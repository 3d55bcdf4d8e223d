"""Flow servicetitan-acumatica end to end, against both simulators over loopback."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web

from connector import demo, demo_acumatica
from connector.app import App
from connector.config import AcumaticaSystem, FlowConfig, ServiceTitanSystem, load_config
from connector.errors import ConfigurationError
from connector.flows.servicetitan_acumatica import (
    CUSTOMERS,
    INVOICES,
    NAME,
    PAYMENTS,
    build,
    mapping,
    parse_options,
)
from connector.http.limiter import LimiterRegistry
from connector.runtime.flow import MapContext
from connector.runtime.runner import FlowRunner
from connector.sandbox.base import Simulator
from connector.store import RecordKey, State, Store, Unit
from connector.systems import open_connection
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.webhooks import SignatureVerifier, webhook_handler
from connector.vault import Vault, generate_key, write_key_file
from tests.conftest import StartSimulator

ST_COUNTS = {
    "business_units": 4,
    "vendors": 6,
    "materials": 8,
    "equipment": 4,
    "services": 6,
    "customers": 8,
    "jobs": 10,
    "invoices": 10,
    "payments": 6,
    "purchase_orders": 6,
    "received_purchase_orders": 4,
    "adjustments": 0,
}
ACUMATICA_COUNTS = {"vendors": 5, "customers": 5}
WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"  # noqa: S105 - a test fixture value


@dataclass
class Env:
    """Both simulators, the connector's store/vault/config, and runners built on demand."""

    servicetitan: Simulator
    acumatica: Simulator
    app: App
    connections: list[Any] = field(default_factory=list)

    async def runner(
        self, *, options: dict[str, str] | None = None, **acumatica_settings: Any
    ) -> FlowRunner:
        """A runner over fresh connections (``acumatica_settings`` override the config's,
        ``options`` the flow's options)."""
        config = self.app.config
        st_config = config.systems["servicetitan"]
        acu_config = config.systems["acumatica"]
        assert isinstance(st_config, ServiceTitanSystem)
        assert isinstance(acu_config, AcumaticaSystem)
        acu_config = msgspec.structs.replace(acu_config, **acumatica_settings)
        limiters = LimiterRegistry()
        st_conn = open_connection(st_config, self.app.vault.get("servicetitan"), limiters)
        acu_conn = open_connection(acu_config, self.app.vault.get("acumatica"), limiters)
        self.connections += [st_conn, acu_conn]
        await acu_conn.client.check_endpoint()
        flow_config = config.flows[NAME]
        if options:
            flow_config = msgspec.structs.replace(
                flow_config, options={**flow_config.options, **options}
            )
        built = build(NAME, flow_config, st_config, st_conn.client, acu_conn.client, self.app.store)
        return FlowRunner(built.flow, self.app.store, webhook_streams=built.webhook_streams)

    async def state(self, system: str) -> Any:
        sim = self.servicetitan if system == "servicetitan" else self.acumatica
        return await demo.admin(sim, "GET", "state")

    async def knobs(self, system: str, **knobs: Any) -> None:
        sim = self.servicetitan if system == "servicetitan" else self.acumatica
        await demo.admin(sim, "POST", "faults", knobs)

    async def link(self, stream: str, source_id: object) -> str:
        entry = await self.app.store.ledger_entry(RecordKey(NAME, stream, str(source_id)))
        assert entry is not None and entry.state == State.DONE and entry.target_id
        return entry.target_id


@pytest.fixture
async def env(tmp_path: Path, start_simulator: StartSimulator) -> AsyncIterator[Env]:
    """A small seeded contractor and company: vault, TOML config, mapping tables filled by
    the demo's implementer setup, and the connector opened on them."""
    st_sim = await start_simulator("servicetitan")
    acu_sim = await start_simulator("acumatica")
    await demo.admin(st_sim, "POST", "seed", {"seed": 11, "counts": ST_COUNTS})
    await demo.admin(acu_sim, "POST", "seed", {"seed": 11, "counts": ACUMATICA_COUNTS})
    await demo.admin(acu_sim, "POST", "faults", demo_acumatica.knobs())
    st_creds = await demo.admin(st_sim, "GET", "credentials")
    acu_creds = await demo.admin(acu_sim, "GET", "credentials")
    key = generate_key()
    write_key_file(tmp_path / "vault.key", key)
    vault = Vault.init(tmp_path / "connector.db", key, key_source="test key file")
    vault.set(
        "servicetitan",
        "servicetitan",
        {k: str(st_creds[k]) for k in ("client_id", "client_secret", "app_key")},
    )
    vault.set("acumatica", "acumatica", demo_acumatica.vault_fields(acu_creds))
    lines = [
        "[store]",
        'path = "connector.db"',
        "[vault]",
        'key_file = "vault.key"',
        'key_env = "ML_CONNECTOR_TEST_ACUMATICA_FLOW_KEY"',
        "",
        "[systems.servicetitan]",
        'kind = "servicetitan"',
        'credential = "servicetitan"',
        f"tenant = {st_creds['tenant']}",
        f'api_url = "{st_sim.base_url}"',
        f'auth_url = "{st_sim.base_url}"',
        "",
        *demo_acumatica.config_lines(acu_sim.base_url, acu_creds),
    ]
    config_path = tmp_path / "connector.toml"
    config_path.write_text("\n".join(lines) + "\n")
    app = await App.open(load_config(config_path))
    environment = Env(st_sim, acu_sim, app)
    try:
        st_conn = open_connection(
            app.config.systems["servicetitan"], app.vault.get("servicetitan"), LimiterRegistry()
        )
        acu_conn = open_connection(
            app.config.systems["acumatica"], app.vault.get("acumatica"), LimiterRegistry()
        )
        environment.connections += [st_conn, acu_conn]
        for kind, values in (await demo_acumatica.setup(st_conn.client, acu_conn.client)).items():
            await app.store.set_mappings(kind, values)
        yield environment
    finally:
        for connection in environment.connections:
            await connection.aclose()
        await app.aclose()


def by_field(records: list[dict[str, Any]], name: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record.get(name):
            found.setdefault(str(record[name]), []).append(record)
    return found


async def documents(env: Env) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Acumatica's invoices, payments and bills keyed by the reference we stamp on them."""
    entities = (await env.state("acumatica"))["entities"]
    return {
        "invoices": by_field(entities["Invoice"], "CustomerOrder"),
        "payments": by_field(entities["Payment"], "PaymentRef"),
        "bills": by_field(entities["Bill"], "VendorRef"),
    }


async def test_every_document_lands_once_on_its_customer_branch_subaccount_and_amount(
    env: Env,
) -> None:
    """Each invoice, payment and inventory bill is one Acumatica document on the linked
    customer or vendor, with the mapped branch and subaccount and the source's amount; a
    second full cycle writes nothing."""
    runner = await env.runner()
    first = await runner.cycle()
    assert first.ok, first.error
    assert first.total("failed") == first.total("review") == 0
    source = (await env.state("servicetitan"))["entities"]
    docs = await documents(env)
    mappings = await env.app.store.all_mappings()
    branch, subaccount = mappings[mapping.BU_BRANCH], mappings[mapping.BU_SUBACCOUNT]
    assert len(docs["invoices"]) == len(source["invoices"]) > 0
    for invoice in source["invoices"]:
        [posted] = docs["invoices"][f"ST-INV-{invoice['id']}"]
        assert posted["Customer"] == await env.link(CUSTOMERS, invoice["customer"]["id"])
        assert Decimal(str(posted["Amount"])) == Decimal(invoice["total"])
        unit = str(invoice["businessUnit"]["id"])
        assert posted["LinkBranch"] == branch[unit]
        assert {(d["Branch"], d["Subaccount"]) for d in posted["Details"]} == {
            (branch[unit], subaccount[unit])
        }
    assert len(docs["payments"]) == len(source["payments"]) > 0
    for payment in source["payments"]:
        [posted] = docs["payments"][f"ST-PAY-{payment['id']}"]
        assert posted["CustomerID"] == await env.link(CUSTOMERS, payment["customer"]["id"])
        assert Decimal(str(posted["PaymentAmount"])) == Decimal(payment["total"])
        applied = {
            d["ReferenceNbr"]: Decimal(str(d["AmountPaid"])) for d in posted["DocumentsToApply"]
        }
        expected = {
            await env.link(INVOICES, a["appliedTo"]): Decimal(a["appliedAmount"])
            for a in payment["appliedTo"]
        }
        assert applied == expected
    assert len(docs["bills"]) == len(source["inventory_bills"]) > 0
    for bill in source["inventory_bills"]:
        [posted] = docs["bills"][bill["referenceNumber"]]
        assert posted["Vendor"] == await env.link("vendors_to_acumatica", bill["vendor"]["id"])
        assert Decimal(str(posted["Amount"])) == Decimal(bill["billAmount"])
        unit = str(bill["businessUnit"]["id"])
        assert posted["BranchID"] == branch[unit]
        assert {d["Subaccount"] for d in posted["Details"]} == {subaccount[unit]}
    second = await runner.cycle(full=True)
    assert second.ok, second.error
    assert second.total("created") + second.total("updated") == 0
    assert await documents(env) == docs


async def _requests(env: Env) -> int:
    counters: dict[str, int] = (await env.state("acumatica"))["counters"]
    return counters["requests"]


async def test_documents_in_flight_together_are_looked_up_with_one_request(
    env: Env, tmp_path: Path
) -> None:
    """A rebuilt state database adopts every invoice and payment by looking them up in
    Acumatica, once for several documents rather than once per document."""
    first = await (await env.runner()).cycle()
    assert first.ok, first.error
    streams = [INVOICES, PAYMENTS]
    documents = sum(first.streams[s].outcomes["created"] for s in streams)
    mappings = await env.app.store.all_mappings()
    old_store = env.app.store
    rebuilt = await Store.open(tmp_path / "rebuilt.db")
    try:
        for kind, values in mappings.items():
            await rebuilt.set_mappings(kind, values)
        env.app.store = rebuilt
        before = await _requests(env)
        again = await (await env.runner()).cycle(streams=streams)
        asked = await _requests(env) - before
    finally:
        env.app.store = old_store
        await rebuilt.close()
    assert again.ok, again.error
    assert again.total("unchanged") == documents > 0
    assert asked * 2 <= documents


async def test_a_bill_is_looked_up_once_before_it_is_posted(env: Env) -> None:
    """Posting a bill costs its share of a look-up and one PUT: the write does not ask
    again under the vendor the look-up just asked under."""
    runner = await env.runner()
    await runner.cycle(streams=[CUSTOMERS, "vendors_to_acumatica"])
    before = await _requests(env)
    report = await runner.cycle(streams=["bills_to_acumatica"])
    assert report.ok, report.error
    bills = report.streams["bills_to_acumatica"].outcomes["created"]
    assert bills > 0
    assert await _requests(env) - before < 2 * bills


async def test_an_invoice_costs_its_put_its_release_and_a_share_of_the_look_ups(
    env: Env,
) -> None:
    """Each released invoice is one PUT and one ReleaseInvoice; its look-up before and the
    status read that confirms its release are shared with the other invoices in flight, so
    no invoice polls the release operation on its own."""
    runner = await env.runner()
    await runner.cycle(streams=[CUSTOMERS])
    before = await _requests(env)
    report = await runner.cycle(streams=[INVOICES])
    assert report.ok, report.error
    invoices = report.streams[INVOICES].outcomes["created"]
    assert invoices > 0
    assert await _requests(env) - before < 3 * invoices
    released = (await documents(env))["invoices"]
    assert all(doc["Status"] == "Open" for [doc] in released.values())


async def test_customers_link_by_name_once_and_namesakes_stay_apart(env: Env) -> None:
    """A ServiceTitan customer named like an existing Acumatica customer is linked to it;
    other customers of that name, in the same run or a later one, get accounts of their
    own; nothing is created twice."""
    acu_customer = (await env.state("acumatica"))["entities"]["Customer"][0]
    sim: Any = env.servicetitan
    first, second = sorted(sim.store.table("customers").all(), key=lambda r: r["id"])[:2]
    first["name"] = second["name"] = acu_customer["CustomerName"]
    report = await (await env.runner()).cycle(streams=[CUSTOMERS])
    assert report.ok, report.error
    assert await env.link(CUSTOMERS, first["id"]) == acu_customer["CustomerID"]
    assert await env.link(CUSTOMERS, second["id"]) == f"STC{second['id']}"
    await demo.admin(env.servicetitan, "POST", "generate", {"entity": "customers", "count": 1})
    third = max(sim.store.table("customers").all(), key=lambda r: r["id"])
    third["name"] = second["name"]
    later = await (await env.runner()).cycle(streams=[CUSTOMERS])
    assert later.ok, later.error
    assert await env.link(CUSTOMERS, third["id"]) == f"STC{third['id']}"
    customers = (await env.state("acumatica"))["entities"]["Customer"]
    assert max(Counter(c["CustomerID"] for c in customers).values()) == 1
    created = [c for c in customers if c["CustomerID"].startswith("STC")]
    assert len(created) == len(sim.store.table("customers").all()) - 1


async def test_missing_business_unit_mapping_waits_in_review_then_resumes(env: Env) -> None:
    """Documents of a business unit without a branch wait in review with the fix in the
    message; once the mapping is added, resuming lands exactly those documents, once."""
    sim: Any = env.servicetitan
    invoice = sorted(sim.store.table("invoices").all(), key=lambda r: r["id"])[0]
    unit = str(invoice["businessUnit"]["id"])
    branch = (await env.app.store.all_mappings())[mapping.BU_BRANCH][unit]
    await env.app.store.commit(
        Unit().raw(
            "DELETE FROM mappings WHERE kind = ? AND source_key = ?", (mapping.BU_BRANCH, unit)
        )
    )
    runner = await env.runner()
    report = await runner.cycle()
    assert report.ok, report.error
    waiting = await env.app.store.review_items(flow=NAME)
    assert report.total("review") == len(waiting) > 0
    assert all(f"business unit {unit}" in item.reason for item in waiting)
    assert all(
        f"review resolve --mapping {mapping.BU_BRANCH} {unit}=" in item.reason for item in waiting
    )
    assert f"ST-INV-{invoice['id']}" not in (await documents(env))["invoices"]
    await env.app.store.set_mappings(mapping.BU_BRANCH, {unit: branch})
    resumed = await runner.resume_review()
    assert resumed.ok, resumed.error
    assert resumed.total("created") == len(waiting)
    assert await env.app.store.review_items(flow=NAME) == []
    docs = await documents(env)
    assert [d["LinkBranch"] for d in docs["invoices"][f"ST-INV-{invoice['id']}"]] == [branch]
    assert all(len(found) == 1 for kind in docs.values() for found in kind.values())


async def test_saved_invoices_are_released_so_payments_apply_at_once(env: Env) -> None:
    """With Acumatica's rule that payments apply only to released invoices, the flow
    releases each invoice it saves, and every payment lands on the first cycle."""
    await env.knobs("acumatica", applications_require_release=True)
    report = await (await env.runner()).cycle()
    assert report.ok, report.error
    assert await env.app.store.dead_letters(flow=NAME) == []
    invoices = (await env.state("acumatica"))["entities"]["Invoice"]
    assert invoices, invoices
    assert {i["Status"] for i in invoices} <= {"Open", "Closed"}, {i["Status"] for i in invoices}


async def test_payment_on_an_unreleased_invoice_is_replayed_once_it_is_released(
    env: Env,
) -> None:
    """Where payments apply to released invoices only, a payment is dead-lettered naming
    its invoice; after the invoice is released in Acumatica, replay lands it once."""
    await env.knobs("acumatica", applications_require_release=True)
    runner = await env.runner(options={"release_invoices": "no"})
    report = await runner.cycle()
    assert report.ok, report.error
    letters = await env.app.store.dead_letters(flow=NAME)
    source = (await env.state("servicetitan"))["entities"]
    applied = [p for p in source["payments"] if p["appliedTo"]]
    assert {dl.key.source_id for dl in letters} == {str(p["id"]) for p in applied}
    assert all("not released" in dl.reason for dl in letters)
    sim: Any = env.acumatica
    for payment in applied:
        for application in payment["appliedTo"]:
            number = await env.link(INVOICES, application["appliedTo"])
            if not sim.tenant.find("Invoice", ["Invoice", number]).released:
                sim.tenant.release("Invoice", {"ReferenceNbr": number})
    assert (await runner.replay()).total("created") == len(applied)
    assert (await runner.replay()).total("created") == 0
    payments = (await documents(env))["payments"]
    assert all(len(payments[f"ST-PAY-{p['id']}"]) == 1 for p in applied)


async def test_duplicate_webhook_deliveries_land_once(env: Env) -> None:
    """An invoice and a payment each delivered twice by webhook, and seen again by the poll,
    become one document each; the invoice's new customer is created on the way."""
    runner = await env.runner()
    verifier = SignatureVerifier([WEBHOOK_SECRET], header="X-ServiceTitan-Signature")
    receiver = web.Application()
    receiver.router.add_post("/hook", webhook_handler(env.app.store, NAME, verifier))
    web_runner = web.AppRunner(receiver)
    await web_runner.setup()
    site = web.TCPSite(web_runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for event in ("invoice", "payment"):
            await demo.admin(
                env.servicetitan,
                "POST",
                "webhooks",
                {"event": event, "url": f"http://127.0.0.1:{port}/hook", "secret": WEBHOOK_SECRET},
            )
        await env.knobs("servicetitan", duplicate_delivery_rate=1.0)
        await demo.admin(env.servicetitan, "POST", "generate", {"entity": "invoices", "count": 1})
        sim: Any = env.servicetitan
        new_invoice = max(r["id"] for r in sim.store.table("invoices").all())
        await demo.admin(env.servicetitan, "POST", "generate", {"entity": "payments", "count": 1})
        with anyio.fail_after(10):
            while len(await env.app.store.pending_inbox(NAME)) < 2:
                await anyio.sleep(0.05)
        await anyio.sleep(0.3)  # let the duplicate deliveries arrive too
        drained = await runner.drain_inbox()
        assert drained.ok, drained.error
        assert drained.total("created") >= 1
    finally:
        await web_runner.cleanup()
    # The drain alone, before any poll, created the invoice and the customer it cites.
    customer = await env.link(
        CUSTOMERS, sim.store.table("invoices").get(new_invoice)["customer"]["id"]
    )
    invoice_number = await env.link(INVOICES, new_invoice)
    polled = await runner.cycle()
    assert polled.ok, polled.error
    assert await env.app.store.pending_inbox(NAME) == []
    docs = await documents(env)
    [posted] = docs["invoices"][f"ST-INV-{new_invoice}"]
    assert (posted["ReferenceNbr"], posted["Customer"]) == (invoice_number, customer)
    assert all(len(found) == 1 for kind in docs.values() for found in kind.values())
    source = (await env.state("servicetitan"))["entities"]
    assert len(docs["payments"]) == len(source["payments"])


async def test_throttling_on_both_sides_loses_no_record(env: Env) -> None:
    """Licence 429s from Acumatica (more requests in flight than it allows) and 429s from
    ServiceTitan fail no record: what a run cannot finish stays pending and the next run
    lands it, each document once."""
    await env.knobs("acumatica", max_concurrent=3, handler_delay_ms=5)
    throttled = {"fault": "429", "match": "read"}
    await env.knobs("servicetitan", retry_after_s=0.05, script=[throttled, throttled])
    runner = await env.runner(max_concurrent=4)
    reports = [await runner.cycle()]
    while not reports[-1].ok and len(reports) < 3:
        reports.append(await runner.cycle())
    assert reports[-1].ok, reports[-1].error
    assert all(r.total("failed") == r.total("in_doubt") == 0 for r in reports)
    assert (await env.state("acumatica"))["counters"]["served_429"] > 0
    assert (await env.state("servicetitan"))["counters"]["served_429"] == 2
    docs = await documents(env)
    source = (await env.state("servicetitan"))["entities"]
    assert len(docs["invoices"]) == len(source["invoices"])
    assert len(docs["payments"]) == len(source["payments"])
    assert len(docs["bills"]) == len(source["inventory_bills"])
    assert all(len(found) == 1 for kind in docs.values() for found in kind.values())


async def test_tokens_expiring_mid_run_lose_no_record(env: Env) -> None:
    """Access tokens of both systems that expire during the run are renewed; no record
    fails and every document lands once."""
    await env.knobs("acumatica", token_lifetime_s=1.0, handler_delay_ms=80)
    await env.knobs("servicetitan", token_lifetime_s=1.0)
    report = await (await env.runner(token_refresh_margin_s=0.0)).cycle()
    assert report.ok, report.error
    assert report.total("failed") == report.total("in_doubt") == 0
    assert (await env.state("acumatica"))["counters"]["token_requests"] > 2
    docs = await documents(env)
    source = (await env.state("servicetitan"))["entities"]
    assert len(docs["invoices"]) == len(source["invoices"])
    assert len(docs["payments"]) == len(source["payments"])
    assert all(len(found) == 1 for kind in docs.values() for found in kind.values())


async def test_lost_reply_to_an_invoice_is_settled_by_lookup_not_repeated(env: Env) -> None:
    """An invoice PUT that Acumatica commits but whose reply is lost is found again by its
    CustomerOrder and adopted: one document, and the audit shows the doubt."""
    lost = {"fault": "timeout_after_commit", "match": "write", "path_contains": "/Invoice"}
    await env.knobs("acumatica", hang_s=0.2, script=[lost])
    report = await (await env.runner()).cycle()
    assert report.ok, report.error
    assert report.total("in_doubt") == 0
    docs = await documents(env)
    source = (await env.state("servicetitan"))["entities"]
    assert len(docs["invoices"]) == len(source["invoices"])
    assert all(len(found) == 1 for found in docs["invoices"].values())
    doubted = [
        invoice["id"]
        for invoice in source["invoices"]
        if "in_doubt"
        in [e.step for e in await env.app.store.audit_history(NAME, str(invoice["id"]))]
    ]
    assert len(doubted) == 1
    [posted] = docs["invoices"][f"ST-INV-{doubted[0]}"]
    assert await env.link(INVOICES, doubted[0]) == posted["ReferenceNbr"]


async def test_crash_between_write_and_commit_is_verified_not_repeated(env: Env) -> None:
    """After a crash, records left in flight are looked up by natural key before anything
    is written: invoices whose documents landed are adopted, payments whose writes never
    went out are written, once each."""
    first = await (await env.runner()).cycle(streams=[CUSTOMERS, INVOICES])
    assert first.ok, first.error
    before = {
        ref: [d["id"] for d in found] for ref, found in (await documents(env))["invoices"].items()
    }
    landed = [
        e.key for e in await env.app.store.ledger_by_state(NAME, [State.DONE], stream=INVOICES)
    ]
    sim: Any = env.servicetitan
    payment_ids = sorted(r["id"] for r in sim.store.table("payments").all())[:2]
    unsent = [RecordKey(NAME, PAYMENTS, str(i)) for i in payment_ids]
    unit = Unit()
    for key in landed[:3]:
        unit.ledger(key, State.IN_FLIGHT)
    for key in unsent:
        unit.ledger(key, State.IN_FLIGHT, content_hash="crashed-before-the-write")
    await env.app.store.commit(unit)
    again = await (await env.runner()).cycle(full=True)
    assert again.ok, again.error
    docs = await documents(env)
    assert {ref: [d["id"] for d in found] for ref, found in docs["invoices"].items()} == before
    assert all(len(found) == 1 for kind in docs.values() for found in kind.values())
    assert {f"ST-PAY-{i}" for i in payment_ids} <= set(docs["payments"])
    for key in [*landed[:3], *unsent]:
        entry = await env.app.store.ledger_entry(key)
        assert entry is not None and entry.state == State.DONE
        steps = [e.step for e in await env.app.store.audit_history(NAME, key.source_id)]
        assert "verified" in steps


def test_account_codes_round_trip_and_never_claim_foreign_codes() -> None:
    """Codes made from ServiceTitan ids read back to those ids, long ids go compact within
    ten characters, and codes a person typed are not taken for ours."""
    for kind in ("customer", "vendor"):
        for source_id in (7, 1234567, 9876543210):
            code = mapping.account_code(kind, source_id)
            assert len(code) <= mapping.ACCOUNT_CODE_LENGTH
            assert mapping.source_id_of(kind, code) == source_id
    assert mapping.source_id_of("vendor", mapping.account_code("customer", 5)) is None
    for foreign in ("C20001", "SCHMIDT001", "STCX", "V10001"):
        assert mapping.source_id_of("customer", foreign) is None


def test_an_unknown_or_empty_option_is_a_configuration_error_naming_it() -> None:
    """A misspelt option key or an empty value stops the flow with a message naming it."""
    for options, named in (
        ({"cash_acount": "10100"}, "cash_acount"),
        ({"cash_account": " "}, "options.cash_account"),
    ):
        config = FlowConfig(source="servicetitan", target="acumatica", options=options)
        with pytest.raises(ConfigurationError, match=named):
            parse_options(config, NAME)


def test_a_line_total_that_is_not_quantity_times_price_keeps_the_total() -> None:
    """A manually overridden line total is sent as the amount without a unit price, so
    Acumatica cannot recompute it; an exact one carries its unit price."""
    gl = st.GLAccountRef(id=1, number="4000")
    unit = st.NamedField(id=5, name="HVAC")
    invoice = st.Invoice(
        id=42,
        invoice_date="2026-02-03T00:00:00Z",
        total="150.00",
        sales_tax="0.00",
        customer=st.NamedField(id=9),
        business_unit=unit,
        items=[
            st.InvoiceItem(
                id=1, quantity="2", price="50.00", total="100.00", general_ledger_account=gl
            ),
            st.InvoiceItem(
                id=2, quantity="3", price="20.00", total="50.00", general_ledger_account=gl
            ),
        ],
    )
    ctx = MapContext(
        NAME,
        {
            mapping.BU_BRANCH: {"5": "NORTH"},
            mapping.BU_SUBACCOUNT: {"5": "HVAC-NORTH"},
            mapping.GL_ACCOUNT: {"4000": "40000"},
        },
    )
    command = mapping.map_invoice(invoice, ctx, mapping.Options())
    exact, overridden = command.lines
    assert (exact.unit_price, exact.amount) == (Decimal("50.00"), Decimal("100.00"))
    assert (overridden.unit_price, overridden.amount) == (None, Decimal("50.00"))
    assert command.customer_order == "ST-INV-42" and command.amount == Decimal("150.00")
