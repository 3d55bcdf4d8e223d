"""Flow ifs-servicetitan end to end, against the IFS and ServiceTitan simulators on loopback."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import anyio
import msgspec
import pytest
from aiohttp import web

from connector import demo, demo_ifs
from connector.app import App
from connector.config import FlowConfig, IfsSystem, ServiceTitanSystem, load_config
from connector.errors import ConfigurationError, MappingError
from connector.flows.ifs_servicetitan import (
    INVOICES,
    NAME,
    PURCHASE_ORDERS,
    build,
    mapping,
    parse_options,
)
from connector.http.limiter import LimiterRegistry
from connector.runtime.flow import MapContext
from connector.runtime.runner import FlowRunner
from connector.sandbox.base import Simulator
from connector.store import Unit
from connector.systems import open_connection
from connector.systems.ifs import IfsClient
from connector.systems.ifs import models as ifs
from connector.systems.ifs.odata import Literal
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.webhooks import SignatureVerifier, webhook_handler
from connector.vault import Vault, generate_key, open_vault, write_key_file
from tests.conftest import StartSimulator
from tests.test_service import admin_get, free_port, run_check, start_service, stop

ST_COUNTS = {
    "business_units": 4,
    "vendors": 6,
    "materials": 8,
    "equipment": 2,
    "services": 4,
    "customers": 8,
    "jobs": 8,
    "invoices": 8,
    "payments": 0,
    "purchase_orders": 0,
    "received_purchase_orders": 0,
    "adjustments": 0,
}
IFS_COUNTS = {"suppliers": 4, "purchase_orders": 8, "vouchers": 2}
WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"  # noqa: S105 - a test fixture value
EXAMPLE = Path(__file__).resolve().parents[2] / "connector.example.toml"


@dataclass
class Env:
    """Both simulators, the connector's store/vault/config, and runners built on demand."""

    servicetitan: Simulator
    ifs: Simulator
    app: App
    connections: list[Any] = field(default_factory=list)

    async def runner(
        self, *, options: dict[str, str] | None = None, ifs_client: type[IfsClient] | None = None
    ) -> FlowRunner:
        """A runner over fresh connections (``options`` override the flow's; ``ifs_client``
        replaces the IFS client class, to stand between the flow and IFS)."""
        config = self.app.config
        st_config, ifs_config = config.systems["servicetitan"], config.systems["ifs"]
        assert isinstance(st_config, ServiceTitanSystem)
        assert isinstance(ifs_config, IfsSystem)
        limiters = LimiterRegistry()
        st_conn = open_connection(st_config, self.app.vault.get("servicetitan"), limiters)
        ifs_conn = open_connection(ifs_config, self.app.vault.get("ifs"), limiters)
        self.connections += [st_conn, ifs_conn]
        client = ifs_conn.client
        if ifs_client is not None:
            client = ifs_client(client.http, url=client.url, company=client.company,
                                tokens=ifs_conn.tokens)
        flow_config = config.flows[NAME]
        if options:
            flow_config = msgspec.structs.replace(
                flow_config, options={**flow_config.options, **options})
        built = build(NAME, flow_config, st_config, client, st_conn.client, self.app.store)
        return FlowRunner(built.flow, self.app.store, webhook_streams=built.webhook_streams)

    async def ifs_client(self) -> IfsClient:
        config = self.app.config.systems["ifs"]
        assert isinstance(config, IfsSystem)
        connection = open_connection(config, self.app.vault.get("ifs"), LimiterRegistry())
        self.connections.append(connection)
        client: IfsClient = connection.client
        return client

    async def state(self, system: str) -> Any:
        return await demo.admin(self.servicetitan if system == "servicetitan" else self.ifs,
                                "GET", "state")

    async def knobs(self, system: str, **knobs: Any) -> None:
        await demo.admin(self.servicetitan if system == "servicetitan" else self.ifs,
                         "POST", "faults", knobs)


@pytest.fixture
async def env(tmp_path: Path, start_simulator: StartSimulator) -> AsyncIterator[Env]:
    """A small seeded contractor and IFS company: vault, TOML config as the demo writes it,
    mapping tables filled by the demo's implementer setup."""
    st_sim = await start_simulator("servicetitan")
    ifs_sim = await start_simulator("ifs")
    await demo.admin(st_sim, "POST", "seed", {"seed": 11, "counts": ST_COUNTS})
    await demo.admin(ifs_sim, "POST", "seed", {"seed": 11, "counts": IFS_COUNTS})
    await demo.admin(ifs_sim, "POST", "faults", demo_ifs.knobs())
    st_creds = await demo.admin(st_sim, "GET", "credentials")
    ifs_creds = await demo.admin(ifs_sim, "GET", "credentials")
    key = generate_key()
    write_key_file(tmp_path / "vault.key", key)
    vault = Vault.init(tmp_path / "connector.db", key, key_source="test key file")
    vault.set("servicetitan", "servicetitan",
              {k: str(st_creds[k]) for k in ("client_id", "client_secret", "app_key")})
    vault.set("ifs", "ifs", demo_ifs.vault_fields(ifs_creds))
    lines = [
        "[store]", 'path = "connector.db"',
        "[vault]", 'key_file = "vault.key"', 'key_env = "ML_CONNECTOR_TEST_IFS_FLOW_KEY"', "",
        "[systems.servicetitan]", 'kind = "servicetitan"', 'credential = "servicetitan"',
        f"tenant = {st_creds['tenant']}", f'api_url = "{st_sim.base_url}"',
        f'auth_url = "{st_sim.base_url}"', "",
        *demo_ifs.config_lines(ifs_creds),
    ]
    config_path = tmp_path / "connector.toml"
    config_path.write_text("\n".join(lines) + "\n")
    app = await App.open(load_config(config_path))
    environment = Env(st_sim, ifs_sim, app)
    try:
        st_conn = open_connection(
            app.config.systems["servicetitan"], app.vault.get("servicetitan"), LimiterRegistry())
        environment.connections.append(st_conn)
        tables = await demo_ifs.setup(st_conn.client, await environment.ifs_client())
        for kind, values in tables.items():
            await app.store.set_mappings(kind, values)
        yield environment
    finally:
        for connection in environment.connections:
            await connection.aclose()
        await app.aclose()


def loads(entities: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """IFS external voucher rows by load id (the natural key of a ServiceTitan document)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for row in entities["ExternalVouchersSet"]:
        found.setdefault(row["LoadId"], []).append(row)
    return found


def vouchers_of(entities: dict[str, Any], load_id: str) -> list[dict[str, Any]]:
    return [v for v in entities["VoucherSet"] if v["VoucherText2"] == f"External load {load_id}"]


def st_po_memos(entities: dict[str, Any]) -> Counter[str]:
    return Counter(po["summary"] for po in entities["purchase_orders"] if po.get("summary"))


async def posted_invoices(env: Env) -> list[dict[str, Any]]:
    """The ServiceTitan invoices that post a voucher (active, non-zero)."""
    source = (await env.state("servicetitan"))["entities"]
    return [i for i in source["invoices"] if i["active"] and Decimal(i["total"]) != 0]


def assert_each_load_once(entities: dict[str, Any]) -> None:
    """Every load holds distinct row numbers, all turned into exactly one voucher."""
    for load_id, rows in loads(entities).items():
        if not load_id.startswith("ST-"):
            continue
        numbers = [mapping.row_marker(r["Text"]) for r in rows]
        assert len(numbers) == len(set(numbers)), (load_id, numbers)
        assert {r["Objstate"] for r in rows} == {"Updated"}, load_id
        assert len(vouchers_of(entities, load_id)) == 1, load_id


async def test_every_stream_lands_once_and_a_second_cycle_writes_nothing(env: Env) -> None:
    """IFS accounts become ServiceTitan GL accounts by number; released IFS orders become
    ServiceTitan POs on the mapped vendor with the zone's tax and the lines' descriptions;
    each invoice becomes one balanced IFS voucher on its business unit's cost center; a
    second full cycle writes nothing."""
    runner = await env.runner()
    first = await runner.cycle()
    assert first.ok, first.error
    assert first.total("failed") == first.total("review") == 0
    st_state = (await env.state("servicetitan"))["entities"]
    ifs_state = (await env.state("ifs"))["entities"]
    tables = await env.app.store.all_mappings()
    by_number = {a["number"]: a for a in st_state["gl_accounts"]}
    for account in ifs_state["AccountSet"]:
        assert by_number[account["Account"]]["name"] == \
            f"{account['Account']} {account['Description']}"
    rates = {z["id"]: sum(Decimal(str(r["taxRate"])) for r in z["rates"])
             for z in st_state["tax_zones"]}
    released = [o for o in ifs_state["PurchaseOrderSet"] if o["Objstate"] == "Released"]
    memos = st_po_memos(st_state)
    assert released and all(memos[f"IFS PO {o['OrderNo']}"] == 1 for o in released)
    for order in released:
        memo = f"IFS PO {order['OrderNo']}"
        [po] = [p for p in st_state["purchase_orders"] if p["summary"] == memo]
        lines = [li for li in ifs_state["PurchaseOrderLineSet"]
                 if li["OrderNo"] == order["OrderNo"]]
        assert po["vendorId"] == int(tables[mapping.SUPPLIER_VENDOR][order["VendorNo"]])
        assert sorted(i["description"] for i in po["items"]) == sorted(
            li["Description"] for li in lines)
        subtotal = sum(Decimal(str(li["BuyQtyDue"])) * Decimal(str(li["FbuyUnitPrice"]))
                       for li in lines)
        zone = int(tables[mapping.TAX_ZONE][order["TaxLiability"]])
        assert Decimal(str(po["tax"])) == (subtotal * rates[zone] / 100).quantize(Decimal("0.01"))
    posted = await posted_invoices(env)
    by_load = loads(ifs_state)
    assert posted
    for invoice in posted:
        rows = by_load[f"ST-INV-{invoice['id']}"]
        center = tables[mapping.BU_COST_CENTER][str(invoice["businessUnit"]["id"])]
        assert {r["CodeB"] for r in rows} == {center}
        debit = sum(Decimal(str(r["DebetAmount"] or 0)) for r in rows)
        credit = sum(Decimal(str(r["CreditAmount"] or 0)) for r in rows)
        assert debit == credit
        receivable = [r for r in rows if r["Account"] == "1200"]
        assert Decimal(str(receivable[0]["DebetAmount"] or 0)) - Decimal(
            str(receivable[0]["CreditAmount"] or 0)) == Decimal(invoice["total"])
    assert_each_load_once(ifs_state)
    second = await runner.cycle(full=True)
    assert second.ok, second.error
    assert second.total("created") + second.total("updated") == 0
    assert (await env.state("ifs"))["counts"] == {
        name: len(rows) for name, rows in ifs_state.items()}
    assert st_po_memos((await env.state("servicetitan"))["entities"]) == memos


class ConcurrentCheck(IfsClient):
    """Another IFS user runs each load's check between our read of the load and our first
    action on it, so our If-Match carries a stale ETag."""

    interfered: ClassVar[list[str]] = []

    async def run_action(
        self, entity: type[ifs.Entity], keys: Sequence[Literal], action: str, *,
        etag: str | None = None,
    ) -> None:
        if action == "DoCheckTransactions" and etag is not None:
            await IfsClient.run_action(self, entity, keys, "DoCheckTransactions")
            self.interfered.append(str(keys[1]))
        await super().run_action(entity, keys, action, etag=etag)


async def test_concurrent_edit_between_read_and_write_is_reread_and_applied_once(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """A load changed by someone else after the flow read its ETag answers 412; the client
    re-reads the load and runs the action once more with the new ETag: one voucher each."""
    ConcurrentCheck.interfered.clear()
    runner = await env.runner(ifs_client=ConcurrentCheck)
    with caplog.at_level(logging.INFO, logger="connector.systems.ifs.client"):
        report = await runner.cycle(streams=[INVOICES])
    assert report.ok, report.error
    assert report.total("failed") == 0
    stale = {r.getMessage().split("(10, ")[1].split(")")[0] for r in caplog.records
             if "ETag was stale (412)" in r.getMessage()}
    assert stale == set(ConcurrentCheck.interfered) and stale
    entities = (await env.state("ifs"))["entities"]
    assert all(len(vouchers_of(entities, load_id)) == 1 for load_id in stale)
    assert_each_load_once(entities)
    assert len([k for k in loads(entities) if k.startswith("ST-INV-")]) == len(
        await posted_invoices(env))


async def test_missing_cost_center_mapping_waits_in_review_then_resumes(env: Env) -> None:
    """Invoices of a business unit without a cost center wait in review naming the fix;
    once the mapping is added, resuming posts exactly those invoices, once."""
    posted = await posted_invoices(env)
    unit = str(posted[0]["businessUnit"]["id"])
    center = (await env.app.store.all_mappings())[mapping.BU_COST_CENTER][unit]
    await env.app.store.commit(Unit().raw(
        "DELETE FROM mappings WHERE kind = ? AND source_key = ?", (mapping.BU_COST_CENTER, unit)))
    runner = await env.runner()
    report = await runner.cycle(streams=[INVOICES])
    assert report.ok, report.error
    waiting = await env.app.store.review_items(flow=NAME)
    expected = {str(i["id"]) for i in posted if str(i["businessUnit"]["id"]) == unit}
    assert {w.key.source_id for w in waiting} == expected
    assert all(f"review resolve --mapping {mapping.BU_COST_CENTER} {unit}=" in w.reason
               for w in waiting)
    before = loads((await env.state("ifs"))["entities"])
    assert not {f"ST-INV-{i}" for i in expected} & before.keys()
    await env.app.store.set_mappings(mapping.BU_COST_CENTER, {unit: center})
    resumed = await runner.resume_review()
    assert resumed.ok, resumed.error
    assert resumed.total("created") == len(expected)
    assert await env.app.store.review_items(flow=NAME) == []
    entities = (await env.state("ifs"))["entities"]
    assert_each_load_once(entities)
    assert {r["CodeB"] for i in expected for r in loads(entities)[f"ST-INV-{i}"]} == {center}


async def test_unfinished_load_is_finished_without_posting_a_row_twice(env: Env) -> None:
    """Rows already loaded under an invoice's load (a crash after the first row) are found
    by the live look-up: the write posts only the missing rows, then creates the voucher."""
    invoice = (await posted_invoices(env))[0]
    ctx = MapContext(NAME, await env.app.store.all_mappings())
    options = parse_options(env.app.config.flows[NAME], NAME)
    command = mapping.map_invoice(msgspec.convert(invoice, st.Invoice), ctx, options)
    assert len(command.rows) >= 2
    client = await env.ifs_client()
    first = command.rows[0]
    await client.create(ifs.ExternalVoucherRow, ifs.NewExternalVoucherRow(
        company=client.company, load_id=command.load_id, account=first.account,
        correction=False, code_b=first.cost_center, currency_code="USD",
        debet_amount=float(first.debit) if first.debit else None,
        credit_amount=float(first.credit) if first.credit else None, text=first.text,
    ), record="first row, before the crash")
    report = await (await env.runner()).cycle(streams=[INVOICES])
    assert report.ok, report.error
    entities = (await env.state("ifs"))["entities"]
    rows = loads(entities)[command.load_id]
    assert sorted(mapping.row_marker(r["Text"]) for r in rows) == [r.number for r in command.rows]
    assert_each_load_once(entities)


async def test_refused_row_is_dead_lettered_then_replayed_once_after_the_fix(env: Env) -> None:
    """A revenue account IFS does not have dead-letters the invoice with IFS's reason; after
    the mapping is corrected, replay completes the same load (the rows already loaded are
    kept) and a second replay writes nothing."""
    invoice = (await posted_invoices(env))[0]
    numbers = {i["generalLedgerAccount"]["number"] for i in invoice["items"]
               if i.get("generalLedgerAccount") and Decimal(i["total"]) != 0}
    good = await env.app.store.mapping(mapping.GL_ACCOUNT)
    await env.app.store.set_mappings(mapping.GL_ACCOUNT, dict.fromkeys(numbers, "9999"))
    runner = await env.runner()
    report = await runner.cycle(streams=[INVOICES])
    assert report.ok, report.error
    letters = {dl.key.source_id: dl for dl in await env.app.store.dead_letters(flow=NAME)}
    assert str(invoice["id"]) in letters
    assert "9999" in letters[str(invoice["id"])].reason
    await env.app.store.set_mappings(mapping.GL_ACCOUNT, {n: good[n] for n in numbers})
    replayed = await runner.replay()
    assert replayed.total("created") == len(letters)
    assert (await runner.replay()).total("created") == 0
    assert_each_load_once((await env.state("ifs"))["entities"])


async def test_lost_reply_to_a_voucher_row_is_settled_by_lookup_not_repeated(env: Env) -> None:
    """A row IFS stores but whose reply is lost is found by the load look-up: the load ends
    with each row once and one voucher, and the audit shows the doubt."""
    lost = {"fault": "timeout_after_commit", "match": "write",
            "path_contains": "ExternalVouchersSet"}
    await env.knobs("ifs", hang_s=0.2, script=[lost])
    report = await (await env.runner()).cycle(streams=[INVOICES])
    assert report.ok, report.error
    assert report.total("in_doubt") == report.total("failed") == 0
    entities = (await env.state("ifs"))["entities"]
    assert_each_load_once(entities)
    assert len([k for k in loads(entities) if k.startswith("ST-INV-")]) == len(
        await posted_invoices(env))
    doubted = [i["id"] for i in await posted_invoices(env)
               if "in_doubt" in [e.step for e in await env.app.store.audit_history(
                   NAME, str(i["id"]))]]
    assert len(doubted) == 1


async def test_duplicate_webhook_deliveries_land_once(env: Env) -> None:
    """An invoice delivered twice by webhook, and seen again by the poll, becomes one IFS
    voucher; the drain alone posts it."""
    runner = await env.runner()
    verifier = SignatureVerifier([WEBHOOK_SECRET], header="X-ServiceTitan-Signature")
    receiver = web.Application()
    receiver.router.add_post("/hook", webhook_handler(env.app.store, NAME, verifier))
    web_runner = web.AppRunner(receiver)
    await web_runner.setup()
    site = web.TCPSite(web_runner, "127.0.0.1", 0)
    await site.start()
    sim: Any = env.servicetitan
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for event in ("invoice", "job"):
            await demo.admin(env.servicetitan, "POST", "webhooks", {
                "event": event, "url": f"http://127.0.0.1:{port}/hook", "secret": WEBHOOK_SECRET})
        await env.knobs("servicetitan", duplicate_delivery_rate=1.0)
        await demo.admin(env.servicetitan, "POST", "generate", {"entity": "invoices", "count": 1})
        new_invoice = max(r["id"] for r in sim.store.table("invoices").all())
        with anyio.fail_after(10):
            while len(await env.app.store.pending_inbox(NAME)) < 1:
                await anyio.sleep(0.05)
        await anyio.sleep(0.3)  # let the duplicate deliveries arrive too
        drained = await runner.drain_inbox()
        assert drained.ok, drained.error
        assert drained.streams[INVOICES].outcomes["created"] == 1
    finally:
        await web_runner.cleanup()
    assert f"ST-INV-{new_invoice}" in loads((await env.state("ifs"))["entities"])
    polled = await runner.cycle()
    assert polled.ok, polled.error
    assert await env.app.store.pending_inbox(NAME) == []
    entities = (await env.state("ifs"))["entities"]
    assert_each_load_once(entities)
    assert len([k for k in loads(entities) if k.startswith("ST-INV-")]) == len(
        await posted_invoices(env))


async def test_changed_ifs_order_after_creation_waits_in_review(env: Env) -> None:
    """An IFS order already in ServiceTitan that changes (its ETag moves) is read again and
    goes to review with a field diff; ServiceTitan keeps its one PO."""
    runner = await env.runner()
    assert (await runner.cycle(streams=[PURCHASE_ORDERS])).ok
    sim: Any = env.ifs
    orders = sim.store.table("PurchaseOrderHandling/PurchaseOrderSet").rows
    released = {no for (no,), row in orders.items() if row.values["Objstate"] == "Released"}
    table = sim.store.table("PurchaseOrderLinesHandling/PurchaseOrderLineSet")
    line = next(r for r in table.rows.values() if r.values["OrderNo"] in released)
    order_no = line.values["OrderNo"]
    line.values["BuyQtyDue"] = float(line.values["BuyQtyDue"]) + 1
    sim.store.touch(orders[(order_no,)])
    again = await runner.cycle(streams=[PURCHASE_ORDERS])
    assert again.ok, again.error
    assert again.streams[PURCHASE_ORDERS].read == 1
    assert again.total("changed") == 1
    assert st_po_memos((await env.state("servicetitan"))["entities"])[f"IFS PO {order_no}"] == 1


def test_a_completed_job_without_invoice_accrues_and_others_post_nothing() -> None:
    """A completed, uninvoiced job accrues its total on its region's cost center; an
    invoiced or open job posts nothing (its invoice carries the revenue)."""
    ctx = MapContext(NAME, {mapping.BU_COST_CENTER: {"7": "CC20"}})
    options = mapping.Options()
    done = st.Job(id=5, job_number="5", business_unit_id=7, job_status="Completed",
                  completed_on="2025-03-02T10:00:00Z", total=250.0)
    command = mapping.map_job(done, ctx, options)
    assert command.load_id == "ST-JOB-5"
    assert [(r.account, r.cost_center, r.debit, r.credit) for r in command.rows] == [
        ("1200", "CC20", Decimal("250.00"), None), ("4000", "CC20", None, Decimal("250.00"))]
    invoiced = msgspec.structs.replace(done, invoice_id=9)
    assert mapping.map_job(invoiced, ctx, options).rows == ()
    assert mapping.map_job(msgspec.structs.replace(done, job_status="InProgress"), ctx,
                           options).rows == ()


def test_every_option_is_documented_and_a_bad_one_names_itself() -> None:
    """Every option of the pairing appears in connector.example.toml's section; an unknown
    or out-of-range option is a ConfigurationError naming it."""
    section = EXAMPLE.read_text().split(f"[flows.{NAME}.options]", 1)[1].split("\n[", 1)[0]
    for name in mapping.Options.__struct_fields__:
        assert f"\n{name} = " in section, name
    config = FlowConfig(source="ifs", target="servicetitan", options={"voucher_typ": "K"})
    with pytest.raises(ConfigurationError, match="voucher_typ"):
        parse_options(config, NAME)
    config = FlowConfig(source="ifs", target="servicetitan", options={"voucher_type": "KKKK"})
    with pytest.raises(ConfigurationError, match="voucher_type"):
        parse_options(config, NAME)


async def test_check_and_run_serve_the_flow_and_land_webhook_invoices_in_ifs(
    tmp_path: Path,
) -> None:
    """`check` says OK for both systems of the demo config; `run` syncs the flow on its
    schedule and lands invoices announced by ServiceTitan webhooks (received although
    ServiceTitan is the flow's target) in IFS, once each; SIGTERM exits 0."""
    counts = {"servicetitan": ST_COUNTS, "ifs": IFS_COUNTS}
    environment = await demo.start(tmp_path / "state", counts=counts, flows=[NAME])
    try:
        code, rows = await run_check(environment.config_path)
        assert code == 0 and {(r["system"], r["status"]) for r in rows} == {
            ("servicetitan", "OK"), ("ifs", "OK"), ("state", "OK"),
            ("servicetitan webhooks", "OK")}
        environment.ports = {"webhook": free_port(), "admin": free_port()}  # type: ignore[attr-defined]
        text = environment.config_path.read_text().replace(
            'schedule = "every 5m"', 'schedule = "every 1h"')
        text += (
            '[service]\nwebhook_host = "127.0.0.1"\n'
            f"webhook_port = {environment.ports['webhook']}\n"  # type: ignore[attr-defined]
            f"admin_port = {environment.ports['admin']}\n"  # type: ignore[attr-defined]
            "shutdown_timeout_s = 10\n")
        environment.config_path.write_text(text)
        process = await start_service(environment)
        try:
            with anyio.fail_after(60):
                while True:
                    try:
                        _, body = await admin_get(environment, "/healthz")
                    except aiohttp.ClientError:
                        await anyio.sleep(0.1)
                        continue
                    if msgspec.json.decode(body)["flows"].get(NAME, {}).get("last_success"):
                        break
                    await anyio.sleep(0.1)
            st_sim: Any = environment.simulators["servicetitan"]
            secret = open_vault(environment.config).get("servicetitan-webhook").secret("secret")
            port = environment.ports["webhook"]  # type: ignore[attr-defined]
            await demo.admin(st_sim, "POST", "webhooks", {
                "event": "invoice", "url": f"http://127.0.0.1:{port}/webhooks/{NAME}",
                "secret": secret})
            before = {r["id"] for r in st_sim.store.table("invoices").all()}
            await demo.admin(st_sim, "POST", "generate", {"entity": "invoices", "count": 3})
            new = {r["id"] for r in st_sim.store.table("invoices").all()} - before
            with anyio.fail_after(30):
                while True:
                    entities = (await demo.admin(environment.simulators["ifs"], "GET",
                                                 "state"))["entities"]
                    if all(len(vouchers_of(entities, f"ST-INV-{i}")) == 1 for i in new):
                        break
                    await anyio.sleep(0.1)
        finally:
            assert await stop(process) == 0
        assert_each_load_once(entities)
    finally:
        await environment.stop()


async def test_an_invoice_that_posted_nothing_is_posted_once_it_has_something(env: Env) -> None:
    """An inactive invoice posts nothing; when it becomes active it is posted like a new
    one (not sent to review as a change after posting), once."""
    sim: Any = env.servicetitan
    invoice = sorted((i for i in sim.store.table("invoices").all()
                      if i["active"] and Decimal(i["total"]) != 0), key=lambda i: i["id"])[0]
    invoice["active"] = False
    sim.store.touch("invoices", invoice)
    runner = await env.runner()
    first = await runner.cycle(streams=[INVOICES])
    assert first.ok, first.error
    assert f"ST-INV-{invoice['id']}" not in loads((await env.state("ifs"))["entities"])
    invoice["active"] = True
    sim.store.touch("invoices", invoice)
    again = await runner.cycle(streams=[INVOICES])
    assert again.ok, again.error
    assert again.total("created") == 1 and again.total("changed") == 0
    assert await env.app.store.review_items(flow=NAME) == []
    assert_each_load_once((await env.state("ifs"))["entities"])


def test_an_invoice_maps_to_balanced_rows_and_a_discount_to_the_debit_side() -> None:
    """An invoice becomes a receivable debit, revenue credits per mapped account (a negative
    line on the debit side) and a tax credit, all on the cost center, numbered #1…; an item
    without a GL account and no default waits in review naming the option."""
    ctx = MapContext(NAME, {mapping.BU_COST_CENTER: {"3": "CC10"},
                            mapping.GL_ACCOUNT: {"4010": "4000", "4900": "4100"}})
    options = mapping.Options()

    def item(number: int, total: str, gl: str | None) -> st.InvoiceItem:
        account = st.GLAccountRef(id=number, number=gl) if gl else None
        return st.InvoiceItem(id=number, total=total, general_ledger_account=account)

    invoice = st.Invoice(
        id=88812, reference_number="R-1", invoice_date="2025-03-02T00:00:00Z", total="108.00",
        sales_tax="8.00", business_unit=st.NamedField(id=3),
        items=[item(1, "120.00", "4010"), item(2, "-20.00", "4900")])
    command = mapping.map_invoice(invoice, ctx, options)
    assert command.load_id == "ST-INV-88812"
    assert [(r.number, r.account, r.cost_center, r.debit, r.credit) for r in command.rows] == [
        (1, "1200", "CC10", Decimal("108.00"), None),
        (2, "4000", "CC10", None, Decimal("120.00")),
        (3, "4100", "CC10", Decimal("20.00"), None),
        (4, "2610", "CC10", None, Decimal("8.00")),
    ]
    assert [mapping.row_marker(r.text) for r in command.rows] == [1, 2, 3, 4]
    bare = msgspec.structs.replace(invoice, items=[item(1, "100.00", None)])
    with pytest.raises(MappingError, match="default_revenue_account"):
        mapping.map_invoice(bare, ctx, options)
