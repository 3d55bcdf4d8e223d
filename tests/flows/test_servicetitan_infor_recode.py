"""servicetitan-infor with ``ap_coding = "recode"`` (issue 18): post without AIT, then move
each line to its account and cost center with a recode batch, exactly once across a lost
reply or a dropped connection at any step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from connector import demo
from connector.app import App
from connector.sandbox.infor import InforSimulator
from connector.sandbox.infor.data import InvoiceBatch

FLOW = "servicetitan-infor"
#: One job invoice: its requests come in a fixed order, so a scripted fault hits one step.
ONE_INVOICE = {
    "servicetitan": {
        "vendors": 3, "materials": 4, "equipment": 2, "services": 2, "customers": 3,
        "jobs": 1, "invoices": 1, "payments": 0, "purchase_orders": 0,
        "received_purchase_orders": 0, "adjustments": 0,
    },
    "infor": {"suppliers": 3, "items": 4, "purchase_orders": 0},
}  # fmt: skip
REFERENCE = ["vendors_to_m3", "materials_to_m3", "equipment_to_m3"]


def use_recode(env: demo.DemoEnvironment) -> None:
    """The config's flow options with recode coding (the demo writes addline)."""
    text = env.config_path.read_text()
    section = f"[flows.{FLOW}.options]\n"
    env.config_path.write_text(text.replace(section, f'{section}ap_coding = "recode"\n'))


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """One invoice, an M3 that refuses AIT on AddLine, and the flow set to recode."""
    environment = await demo.start(tmp_path / "state", counts=ONE_INVOICE, flows=[FLOW])
    await demo.admin(environment.simulators["infor"], "POST", "faults", {"addline_ait": False})
    use_recode(environment)
    yield environment
    await environment.stop()


@pytest.fixture
async def app(env: demo.DemoEnvironment) -> AsyncIterator[App]:
    opened = await App.open(env.config)
    yield opened
    await opened.aclose()


def m3(env: demo.DemoEnvironment) -> InforSimulator:
    sim = env.simulators["infor"]
    assert isinstance(sim, InforSimulator)
    return sim


def assert_posted_and_recoded_once(env: demo.DemoEnvironment, app: App) -> None:
    """One validated invoice batch with one line per source line, one validated recode batch,
    and the voucher's cost lines netting to the mapped cost center only."""
    sim = m3(env)
    invoices = [b for b in sim.db.batches.values() if b.kind == "invoice" and b.head.get("CORI")]
    recodes = [b for b in sim.db.batches.values() if b.kind == "recode"]
    assert len(invoices) == 1, [b.head for b in invoices]
    [invoice] = invoices
    assert invoice.status == "validated"
    assert len(recodes) == 1, [b.head for b in recodes]
    assert recodes[0].status == "validated"
    assert len(recodes[0].lines) == 2 * len(invoice.lines)  # a reversal and a move per line
    centers = set(app.config.mappings["business_unit_cost_center"].values())
    assert _net_strings(sim, invoice).keys() <= {(a, c) for a, c in _keys(sim, invoice)
                                                  if c in centers}


def _net_strings(sim: InforSimulator, invoice: InvoiceBatch) -> dict[tuple[str, str], Decimal]:
    [voucher] = [v for v in sim.db.vouchers if v.inbn == invoice.inbn]
    net: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in voucher.lines[1:]:  # the first is the supplier's liability
        if not line.get("VTXT", "").startswith("VAT line"):
            net[(line.get("AIT1", ""), line.get("AIT2", ""))] += Decimal(line["NLAM"])
    return {key: amount for key, amount in net.items() if amount}


def _keys(sim: InforSimulator, invoice: InvoiceBatch) -> set[tuple[str, str]]:
    [voucher] = [v for v in sim.db.vouchers if v.inbn == invoice.inbn]
    return {(line.get("AIT1", ""), line.get("AIT2", "")) for line in voucher.lines}


async def test_recode_posts_then_moves_every_line_to_its_cost_center(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Without faults the invoice is posted once and re-coded once; a second cycle writes
    nothing and adds no batch."""
    runner = await app.runner(FLOW)
    first = await runner.cycle()
    assert first.ok, first.error
    assert_posted_and_recoded_once(env, app)
    batches = len(m3(env).db.batches)
    second = await runner.cycle(full=True)
    assert second.total("created") + second.total("updated") == 0, second.counts()
    assert len(m3(env).db.batches) == batches


#: (fault, path fragment) entries, fired once each in order on the next matching write. A
#: bulk POST's path is ``…/execute?…``: the first carries the invoice lines, the second the
#: recode lines; the first ValidByBatchNo posts the invoice, the second the recode.
STEPS = {
    "AddHead": [("timeout_after_commit", "AddHead;")],
    "AddLine bulk": [("timeout_after_commit", "execute?")],
    "invoice validation": [("timeout_after_commit", "ValidByBatchNo")],
    "AddHeadRecode": [("timeout_after_commit", "AddHeadRecode")],
    "AddHeadRecode reset": [("reset", "AddHeadRecode")],
    "AddLineRecode bulk": [("timeout_after_commit", "execute?")] * 2,
    "recode validation": [("timeout_after_commit", "ValidByBatchNo")] * 2,
    "recode validation reset": [("timeout_after_commit", "ValidByBatchNo"), ("reset", "Valid")],
}


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_step_interrupted_is_finished_by_the_next_cycle_without_a_duplicate(
    env: demo.DemoEnvironment, app: App, step: str
) -> None:
    """A lost reply or dropped connection at one step of post-then-recode leaves the
    document unfinished or in doubt; the next cycle finishes it from the step M3 shows,
    with one invoice batch and one recode batch."""
    runner = await app.runner(FLOW)
    prepared = await runner.cycle(streams=REFERENCE)
    assert prepared.ok, prepared.error
    script = [{"fault": f, "match": "write", "path_contains": p} for f, p in STEPS[step]]
    await demo.admin(m3(env), "POST", "faults", {"hang_s": 0.1, "script": script})
    for _ in range(len(script)):  # an in-doubt write waits for the next cycle's lookup
        await runner.cycle(streams=["invoices_to_m3"])
        if not m3(env).faults.script:
            break
    assert m3(env).faults.script == [], "a scripted fault never fired"
    finished = await runner.cycle(streams=["invoices_to_m3"])
    assert finished.ok, finished.error
    assert_posted_and_recoded_once(env, app)
    again = await runner.cycle(streams=["invoices_to_m3"], full=True)
    assert again.total("created") + again.total("updated") == 0, again.counts()
