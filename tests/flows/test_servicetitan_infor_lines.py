"""Flow servicetitan-infor on a non-M3 line: the line-agnostic targets keep the contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from connector import demo
from connector.app import App
from connector.errors import ConfigurationError
from connector.systems.infor import lines as infor_lines
from tests.flows import infor_fake_line
from tests.flows.infor_fake_line import FakeLine

FLOW = "servicetitan-infor"
COUNTS = {
    "servicetitan": {
        "vendors": 6,
        "materials": 6,
        "equipment": 3,
        "services": 2,
        "customers": 8,
        "jobs": 10,
        "invoices": 8,
        "payments": 2,
        "purchase_orders": 5,
        "received_purchase_orders": 3,
    },
    "infor": {"suppliers": 2, "items": 2, "purchase_orders": 1},
}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """The demo's seeded ServiceTitan; the Infor side is replaced by the in-memory line."""
    environment = await demo.start(tmp_path / "state", counts=COUNTS, flows=[FLOW])
    yield environment
    await environment.stop()


@pytest.fixture
async def line(monkeypatch: pytest.MonkeyPatch) -> FakeLine:
    """The line every connection of this test talks to."""
    fake = FakeLine()
    monkeypatch.setattr(infor_fake_line, "LINES", [fake])
    monkeypatch.setitem(infor_lines.LINE_MODULES, "syteline", "tests.flows.infor_fake_line")
    return fake


@pytest.fixture
async def app(env: demo.DemoEnvironment, line: FakeLine) -> AsyncIterator[App]:
    """The connector on the demo config with the Infor system switched to product syteline."""
    config = env.config
    infor = msgspec.structs.replace(
        config.systems["infor"], product="syteline", mongoose_config="ACME_DALS"
    )
    config = msgspec.structs.replace(config, systems={**config.systems, "infor": infor})
    opened = await App.open(config)
    yield opened
    await opened.aclose()


async def test_a_cycle_lands_every_record_once_and_the_second_writes_nothing(
    app: App, line: FakeLine
) -> None:
    """Suppliers, items, POs and AP invoices reach the line once; a full second cycle writes
    nothing, and the streams are named for Infor, not M3."""
    runner = await app.runner(FLOW)
    first = await runner.cycle()
    assert first.ok, first.error
    assert first.streams["invoices_to_infor"].as_dict().get("created", 0) > 0
    assert "vendors_to_m3" not in first.streams
    assert line.suppliers_by_code and line.items_by_code and line.orders and line.stored_invoices
    assert all(len(code) <= FakeLine.supplier_code_length for code in line.suppliers_by_code)
    assert all(lines == len(invoice.lines) for _, invoice, lines in line.stored_invoices.values())
    writes = list(line.writes)
    second = await runner.cycle(full=True)
    assert second.total("created") + second.total("updated") == 0
    assert line.writes == writes


async def test_an_invoice_cut_short_after_its_header_is_finished_not_created_again(
    app: App, line: FakeLine
) -> None:
    """A write that stopped after the line stored the header and one line (reply lost) is
    settled by the live lookup: the rest of its lines go to the same invoice, none twice."""
    line.cut_after_lines = 1
    runner = await app.runner(FLOW)
    report = await runner.cycle()
    assert report.ok, report.error
    assert line.cut is not None
    _, invoice, lines = line.stored_invoices[line.cut]
    assert lines == len(invoice.lines) > 1
    assert line.writes.count(f"invoice {line.cut[1]}") == 1
    again = await runner.cycle(full=True)
    assert again.total("created") + again.total("updated") == 0


async def test_recode_coding_on_a_line_is_refused_naming_the_option(
    env: demo.DemoEnvironment, line: FakeLine
) -> None:
    """ap_coding = "recode" is M3's: on a line the flow refuses to start and names the
    option to remove, instead of coding the invoices some other way without a word."""
    config = env.config
    infor = msgspec.structs.replace(
        config.systems["infor"], product="syteline", mongoose_config="ACME_DALS"
    )
    flow = config.flows[FLOW]
    flow = msgspec.structs.replace(flow, options={**flow.options, "ap_coding": "recode"})
    config = msgspec.structs.replace(
        config, systems={**config.systems, "infor": infor}, flows={**config.flows, FLOW: flow}
    )
    opened = await App.open(config)
    try:
        with pytest.raises(ConfigurationError, match=r"options\.ap_coding = \"recode\" is for M3"):
            await opened.runner(FLOW)
    finally:
        await opened.aclose()
    assert line.writes == []


async def test_a_new_purchase_order_costs_one_lookup_and_one_write(
    app: App, line: FakeLine
) -> None:
    """Each ServiceTitan PO new to the line costs two line requests against the gateway's
    budget: the live lookup by number and the write (the write trusts the lookup it follows
    instead of reading the order again)."""
    runner = await app.runner(FLOW)
    setup = await runner.cycle(
        streams=["vendors_to_infor", "materials_to_infor", "equipment_to_infor"]
    )
    assert setup.ok, setup.error
    before = line.requests
    report = await runner.cycle(streams=["purchase_orders_to_infor"])
    assert report.ok, report.error
    created = report.total("created")
    assert created > 0 and len(line.orders) == created
    assert line.requests - before == 2 * created
