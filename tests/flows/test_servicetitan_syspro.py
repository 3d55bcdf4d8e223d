"""Flow servicetitan-syspro end to end, against both simulators over loopback.

The environment is the demo's (``demo.start`` for this flow only): vault, TOML config and the
implementer's mapping tables, with a small seeded contractor and company. The simulators run in
the test's event loop, so their tables are read in-process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector import demo
from connector.app import App
from connector.flows.servicetitan_syspro import (
    ADJUSTMENTS,
    EXPORTED,
    INVOICES,
    NAME,
    POS_TO_ST,
    POS_TO_SYSPRO,
    SUPPLIERS,
    VENDORS,
    mapping,
)
from connector.flows.servicetitan_syspro.targets import SysproCycle
from connector.runtime.flow import MapContext
from connector.runtime.runner import CycleReport, FlowRunner
from connector.sandbox.servicetitan import ServiceTitanSimulator
from connector.sandbox.syspro.simulator import SysproSimulator
from connector.store import RecordKey, State
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.resources import RESOURCES
from connector.systems.syspro import SysproConnection
from connector.systems.syspro.models import InventoryAdjustment, Supplier

ST_COUNTS = {
    "business_units": 3,
    "vendors": 5,
    "materials": 6,
    "equipment": 3,
    "services": 4,
    "customers": 8,
    "jobs": 8,
    "invoices": 8,
    "payments": 0,
    "purchase_orders": 4,
    "received_purchase_orders": 2,
    "adjustments": 3,
}
#: Seconds a client waits for an answer: short, so a lost answer costs little.
CLIENT_TIMEOUT_S = 1.0


class Env:
    """The demo environment, the connector opened on it, and in-process views of both
    simulators."""

    def __init__(self, env: demo.DemoEnvironment, app: App) -> None:
        self.env = env
        self.app = app
        st_sim, syspro_sim = env.simulators["servicetitan"], env.simulators["syspro"]
        assert isinstance(st_sim, ServiceTitanSimulator)
        assert isinstance(syspro_sim, SysproSimulator)
        self.st, self.syspro = st_sim, syspro_sim

    async def runner(self) -> FlowRunner:
        return await self.app.runner(NAME)

    async def cycle(self) -> CycleReport:
        report = await (await self.runner()).cycle()
        assert report.ok, report.error
        return report

    def rows(self, table: str, **match: Any) -> list[dict[str, Any]]:
        return [
            row
            for row in self.syspro.company.tables[table]
            if all(row.get(k) == v for k, v in match.items())
        ]

    async def connection(self) -> SysproConnection:
        connection: SysproConnection = (await self.app.supervisor("syspro")).connection
        return connection

    async def knobs(self, **knobs: Any) -> None:
        await demo.admin(self.syspro, "POST", "faults", knobs)

    async def entry(self, stream: str, source_id: object) -> Any:
        return await self.app.store.ledger_entry(RecordKey(NAME, stream, str(source_id)))


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    """A small contractor and SYSPRO company set up as the demo does."""
    environment = await demo.start(
        tmp_path / "state", counts={"servicetitan": ST_COUNTS}, flows=[NAME]
    )
    text = environment.config_path.read_text()
    environment.config_path.write_text(
        text.replace("[systems.syspro]\n", f"[systems.syspro]\ntimeout_s = {CLIENT_TIMEOUT_S}\n")
    )
    app = await App.open(environment.config)
    try:
        yield Env(environment, app)
    finally:
        await app.aclose()
        await environment.stop()


def _written(report: CycleReport) -> int:
    return report.total("created") + report.total("updated")


async def test_a_cycle_moves_every_stream_and_a_second_one_writes_nothing(env: Env) -> None:
    """Every stream lands its records once; a second cycle writes nothing in either system."""
    st_invoices = env.st.store.table("invoices").all()
    st_vendors = env.st.store.table("vendors").all()
    st_pos = env.st.store.table("purchase_orders").all()
    seeded_orders = [r["PurchaseOrder"] for r in env.rows("PorMasterHdr")]
    first = await env.cycle()
    counts = first.counts()
    assert counts[INVOICES]["created"] == len(st_invoices) and first.total("failed") == 0
    assert first.total("review") == 0
    # Job invoices: one AP invoice each on the clearing supplier, stamped with the source.
    for invoice in st_invoices:
        posted = env.rows("ApInvoice", Reference=f"ST invoice {invoice['id']}")
        assert len(posted) == 1 and posted[0]["Supplier"] == "STCLEAR"
        assert posted[0]["OrigInvValue"] == Decimal(invoice["total"])
    # Vendors became suppliers ST<id>; SYSPRO suppliers became stamped vendors.
    for vendor in st_vendors:
        assert len(env.rows("ApSupplier", Supplier=f"ST{vendor['id']}")) == 1
    natives = [r for r in env.rows("ApSupplier") if not r["Supplier"].startswith("ST")]
    stamped = Counter(
        pairs[mapping.SUPPLIER_KEY]
        for v in env.st.store.table("vendors").all()
        for pairs in (v.get("_ext") or {}).values()
        if mapping.SUPPLIER_KEY in pairs
    )
    assert stamped == Counter(r["Supplier"] for r in natives)
    # POs both ways, each once, and neither side's copy travelled back.
    for po in st_pos:
        assert len(env.rows("PorMasterHdr", PurchaseOrder=f"ST{po['id']}")) == (
            0 if po["status"] == "Canceled" else 1
        )
    memos = Counter(
        mapping.mirrored_number(po.get("summary"))
        for po in env.st.store.table("purchase_orders").all()
    )
    assert all(memos[number] == 1 for number in seeded_orders)
    # Adjustments: one movement per line; the invoices are marked exported in ServiceTitan.
    for adjustment in env.st.store.table("adjustments").all():
        for line in range(1, len(adjustment["items"]) + 1):
            assert len(env.rows("InvMovements", Reference=f"STADJ{adjustment['id']}/{line}")) == 1
    assert counts[EXPORTED]["updated"] == len(st_invoices)
    assert {i["syncStatus"] for i in env.st.store.table("invoices").all()} == {"Exported"}
    marked = [i for i in env.st.store.table("invoices").all() if i.get("exportId")]
    assert all(i["exportId"].startswith("STCLEAR/ST-") for i in marked) and marked

    before = {t: len(rows) for t, rows in env.syspro.company.tables.items()}
    second = await env.cycle()
    assert _written(second) == 0 and second.total("failed") == 0
    assert {t: len(rows) for t, rows in env.syspro.company.tables.items()} == before


async def test_one_session_per_cycle_logged_off_at_the_end(env: Env) -> None:
    """A cycle logs on to e.net once, shares that session over its streams and logs off."""
    logons = env.syspro.sessions.logons
    await env.cycle()
    assert env.syspro.sessions.logons == logons + 1
    assert len(env.syspro.sessions.sessions) == 0


async def test_renames_travel_to_the_owner_side_only_and_settle(env: Env) -> None:
    """A renamed ServiceTitan vendor renames its ST supplier; a renamed SYSPRO supplier
    renames its stamped vendor; neither rename comes back, and the next cycle is quiet."""
    await env.cycle()
    vendor = env.st.store.table("vendors").all()[0]
    client = (await env.app.supervisor("servicetitan")).connection.client
    await client.update(
        RESOURCES["vendors"], vendor["id"], st.VendorUpdate(name="Renamed In ST"), record="t"
    )
    async with (await env.connection()).session() as syspro:
        await syspro.update_supplier(Supplier(code="S00001", name="Renamed In SYSPRO"))
    report = await env.cycle()
    assert report.counts()[VENDORS]["updated"] == 1
    assert report.counts()[SUPPLIERS]["updated"] == 1
    assert env.rows("ApSupplier", Supplier=f"ST{vendor['id']}")[0]["SupplierName"] == (
        "Renamed In ST"
    )
    target = await env.entry(SUPPLIERS, "S00001")
    assert env.st.store.table("vendors").get(int(target.target_id))["name"] == "Renamed In SYSPRO"
    assert env.rows("ApSupplier", Supplier="S00001")[0]["SupplierName"] == "Renamed In SYSPRO"
    assert _written(await env.cycle()) == 0


async def test_a_missing_mapping_waits_in_review_and_resumes_once_added(env: Env) -> None:
    """An invoice whose business unit has no SYSPRO branch waits in review; once mapped,
    `review` resumes it and it is posted once."""
    invoice = env.st.store.table("invoices").all()[0]
    unit = str(invoice["businessUnit"]["id"])
    await env.app.store.db.write(
        [("DELETE FROM mappings WHERE kind = ? AND source_key = ?", (mapping.BRANCH, unit))]
    )
    first = await env.cycle()
    assert first.counts()[INVOICES]["review"] >= 1
    items = await env.app.store.review_items(flow=NAME)
    assert str(invoice["id"]) in {i.key.source_id for i in items}
    assert all(mapping.BRANCH in i.reason for i in items)
    assert env.rows("ApInvoice", Reference=f"ST invoice {invoice['id']}") == []
    await env.app.store.set_mappings(mapping.BRANCH, {unit: "10"})
    resumed = await (await env.runner()).resume_review()
    assert resumed.total("created") == len(items)
    assert len(env.rows("ApInvoice", Reference=f"ST invoice {invoice['id']}")) == 1
    assert await env.app.store.review_items(flow=NAME) == []


async def test_a_refused_post_is_dead_lettered_and_replayed_once_fixed(env: Env) -> None:
    """APSTIN refusing an invoice (its AP period closed) dead-letters it with SYSPRO's
    reason; a replay after the period opens posts it exactly once."""
    await env.knobs(company_date="2026-06-15", closed_periods=["2026-06"])
    first = await env.cycle()
    assert first.counts()[INVOICES]["failed"] == len(env.st.store.table("invoices").all())
    letters = await env.app.store.dead_letters(flow=NAME, stream=INVOICES)
    assert letters and all("closed" in letter.reason for letter in letters)
    assert env.rows("ApInvoice", Supplier="STCLEAR") == []
    await env.knobs(closed_periods=[])
    replay = await (await env.runner()).replay()
    assert replay.total("created") == len(letters) and replay.total("failed") == 0
    references = Counter(r["Reference"] for r in env.rows("ApInvoice", Supplier="STCLEAR"))
    assert len(references) == len(letters) and set(references.values()) == {1}
    assert await env.app.store.dead_letters(flow=NAME) == []


async def test_a_post_whose_answer_is_lost_is_settled_by_query_never_posted_twice(
    env: Env,
) -> None:
    """APSTIN, PORTOI and INVTMA posts that land but whose answers never come are settled by
    a COMFND lookup: each document is in SYSPRO once, done, with an in_doubt audit step."""
    script = [
        {"fault": "timeout_after_commit", "match": "write", "path_contains": business_object}
        for business_object in ("APSTIN", "PORTOI", "INVTMA", "APSSSP")
    ]
    await env.knobs(script=script, hang_s=CLIENT_TIMEOUT_S * 2)
    report = await env.cycle()
    assert report.total("failed") == 0 and report.total("in_doubt") == 0
    rows = await env.app.store.db.fetchall(
        "SELECT DISTINCT stream FROM audit WHERE flow = ? AND step = 'in_doubt'", (NAME,)
    )
    assert {r[0] for r in rows} == {VENDORS, POS_TO_SYSPRO, ADJUSTMENTS, INVOICES}
    references = Counter(r["Reference"] for r in env.rows("ApInvoice", Supplier="STCLEAR"))
    assert len(references) == len(env.st.store.table("invoices").all())
    assert set(references.values()) == {1}
    orders = Counter(r["PurchaseOrder"] for r in env.rows("PorMasterHdr"))
    assert set(orders.values()) == {1}
    movements = Counter(r["Reference"] for r in env.rows("InvMovements"))
    assert set(movements.values()) == {1}
    suppliers = Counter(r["Supplier"] for r in env.rows("ApSupplier"))
    assert set(suppliers.values()) == {1}


async def test_an_adjustment_cut_short_is_finished_without_doubling_a_line(env: Env) -> None:
    """An adjustment whose first line already reached SYSPRO (an earlier attempt) gets only
    its other lines posted."""
    adjustment = max(
        env.st.store.table("adjustments").all(), key=lambda a: len(a["items"])
    )
    assert len(adjustment["items"]) > 1, "the seed holds no adjustment with several lines"
    ctx = MapContext(NAME, await env.app.store.all_mappings())
    command = mapping.map_adjustment(
        st.Adjustment(
            id=adjustment["id"],
            inventory_location_id=adjustment["inventoryLocationId"],
            items=[
                st.AdjustmentItem(id=i["id"], sku_id=i["skuId"], code=i["code"],
                                  quantity=i["quantity"])
                for i in adjustment["items"]
            ],
        ),
        ctx,
        mapping.Options(),
    )
    first = command.lines[0]
    async with (await env.connection()).session() as syspro:
        await syspro.post_inventory_adjustment(
            InventoryAdjustment(
                warehouse=first.warehouse,
                stock_code=first.stock_code,
                quantity=first.quantity,
                reference=first.reference,
            )
        )
    await env.cycle()
    for line in command.lines:
        assert len(env.rows("InvMovements", Reference=line.reference)) == 1
    entry = await env.entry(ADJUSTMENTS, adjustment["id"])
    assert entry.state == State.DONE


async def test_syspro_orders_wait_for_their_stock_mapping_then_land_once(env: Env) -> None:
    """A SYSPRO PO whose stock code has no ServiceTitan item waits in review, naming the
    mapping to add; once added, `review` creates each ServiceTitan PO once."""
    stock_to_st = await env.app.store.mapping(mapping.STOCK_TO_ST)
    await env.app.store.db.write([("DELETE FROM mappings WHERE kind = ?", (mapping.STOCK_TO_ST,))])
    report = await env.cycle()
    natives = [r["PurchaseOrder"] for r in env.rows("PorMasterHdr")
               if not mapping.is_servicetitan_order(r["PurchaseOrder"])]
    assert report.counts()[POS_TO_ST]["review"] == len(natives)
    items = await env.app.store.review_items(flow=NAME)
    assert any(mapping.STOCK_TO_ST in i.reason for i in items)
    await env.app.store.set_mappings(mapping.STOCK_TO_ST, stock_to_st)
    resumed = await (await env.runner()).resume_review()
    assert resumed.counts()[POS_TO_ST]["created"] == len(natives)
    memos = Counter(
        mapping.mirrored_number(po.get("summary"))
        for po in env.st.store.table("purchase_orders").all()
    )
    assert all(memos[number] == 1 for number in natives)


async def test_a_posted_invoice_changed_in_servicetitan_goes_to_review_with_a_diff(
    env: Env,
) -> None:
    """A job invoice changed after SYSPRO posted it is not posted again: it waits in review
    with the field diff."""
    await env.cycle()
    invoice = env.st.store.table("invoices").all()[0]
    invoice["dueDate"] = "2027-03-01T00:00:00Z"
    env.st.store.touch("invoices", invoice)
    report = await env.cycle()
    assert report.counts()[INVOICES]["changed"] == 1
    assert len(env.rows("ApInvoice", Reference=f"ST invoice {invoice['id']}")) == 1
    items = await env.app.store.review_items(flow=NAME)
    assert any("due_date" in i.reason for i in items)


def test_the_example_config_options_parse() -> None:
    """The example file's [flows.servicetitan-syspro.options] are this pairing's options."""
    from connector.config import load_config
    from connector.flows.servicetitan_syspro import parse_options

    example = Path(__file__).resolve().parents[2] / "connector.example.toml"
    options = parse_options(load_config(example).flows[NAME], NAME)
    assert options == mapping.Options()


async def test_overlapping_runs_share_one_session_and_the_last_logs_off(env: Env) -> None:
    """A webhook drain that starts while a cycle runs shares its e.net session; the session
    is logged off when the last of them ends, and a run that never calls SYSPRO logs on not
    at all."""
    cycle = SysproCycle(await env.connection())
    async with cycle.run():
        pass
    assert cycle.sessions_opened == 0
    async with cycle.run():
        first = await cycle.client()
        async with cycle.run():
            assert await cycle.client() is first
        assert len(env.syspro.sessions.sessions) == 1
        await first.find_supplier("0001")
    assert len(env.syspro.sessions.sessions) == 0 and cycle.sessions_opened == 1
    with pytest.raises(RuntimeError, match="outside a run"):
        await cycle.client()


def _invoice(total: str, items: list[tuple[str, str]], tax: str = "0.00") -> st.Invoice:
    """A job invoice with (GL account number, line total) items of type Service."""
    return st.Invoice(
        id=7,
        reference_number="R7",
        invoice_date="2026-03-02T00:00:00Z",
        total=total,
        sales_tax=tax,
        business_unit=st.NamedField(id=1, name="HVAC"),
        items=[
            st.InvoiceItem(
                id=n, type="Service", sku_name="SVC-1", quantity="1", total=amount,
                general_ledger_account=st.GLAccountRef(id=n, number=account),
            )
            for n, (account, amount) in enumerate(items, start=1)
        ],
    )


def test_invoice_mapping_needs_every_table_and_consistent_amounts() -> None:
    """A job invoice maps to one APSTIN invoice per mapping tables; an unmapped GL account
    goes to review, a credit or items that do not add up are dead letters."""
    from connector.errors import MappingError, SourceDataError

    tables = {
        mapping.GL_ACCOUNT: {"4000": "40-1100"},
        mapping.BRANCH: {"1": "10"},
        mapping.STOCK_CODE: {"SVC-1": "A100"},
    }
    ctx, options = MapContext(NAME, tables), mapping.Options()
    posted = mapping.map_invoice(_invoice("10.50", [("4000", "10.00")], "0.50"), ctx, options)
    assert (posted.supplier, posted.invoice, posted.branch) == ("STCLEAR", "ST-R7", "10")
    assert posted.reference == "ST invoice 7" and posted.tax_value == Decimal("0.50")
    assert [(line.ledger_code, line.value) for line in posted.lines] == [
        ("40-1100", Decimal("10.00"))
    ]
    assert posted.lines[0].notation.startswith("A100")
    with pytest.raises(MappingError, match=mapping.GL_ACCOUNT):
        mapping.map_invoice(_invoice("5.00", [("9999", "5.00")]), ctx, options)
    with pytest.raises(SourceDataError, match="credit"):
        mapping.map_invoice(_invoice("-5.00", [("4000", "-5.00")]), ctx, options)
    with pytest.raises(SourceDataError, match="add up"):
        mapping.map_invoice(_invoice("9.00", [("4000", "5.00")]), ctx, options)
