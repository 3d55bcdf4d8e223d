"""Flow servicetitan-infor on Infor FSM (Landmark REST), against the simulated FSM: the demo
cycle lands every record once, a second writes nothing, a lost reply is settled live."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tests.flows.infor_line_support import (
    FLOW,
    LINE_WRITES,
    faults,
    faults_left,
    line_app,
    line_state,
)

SEED = {"line": "FSM", "seed": 9, "vendors": 3, "items": 3, "max_limit": 50}


def invoice_keys(classes: dict[str, list[dict[str, Any]]]) -> Counter[tuple[str, str]]:
    return Counter((row["Vendor"], row["Invoice"]) for row in classes["PayablesInvoice"])


def distributions(classes: dict[str, list[dict[str, Any]]]) -> Counter[tuple[str, str]]:
    return Counter(
        (row["Vendor"], row["Invoice"]) for row in classes["PayablesInvoiceDistribution"]
    )


async def test_demo_cycle_on_fsm_lands_everything_once_and_second_cycle_writes_nothing(
    tmp_path: Path,
) -> None:
    """Vendors, items, POs and payables invoices reach FSM once, with every distribution;
    a full second cycle writes nothing to FSM."""
    async with line_app(tmp_path, "fsm", SEED) as (app, env):
        runner = await app.runner(FLOW)
        first = await runner.cycle()
        assert first.ok, first.error
        for stream in LINE_WRITES:
            assert first.streams[stream].as_dict().get("created", 0) > 0, stream
        classes = (await line_state(env, "FSM"))["classes"]
        assert max(invoice_keys(classes).values()) == 1
        created = sum(
            first.streams[s].as_dict()["created"]
            for s in ("invoices_to_infor", "ap_bills_to_infor")
        )
        assert len(classes["PayablesInvoice"]) == created
        assert set(distributions(classes)) == set(invoice_keys(classes))
        assert {r["PurchaseOrder"] for r in classes["PurchaseOrderLine"]} == {
            r["PurchaseOrder"] for r in classes["PurchaseOrder"]
        }
        second = await runner.cycle(full=True)
        assert second.ok, second.error
        assert second.total("created") + second.total("updated") == 0
        assert (await line_state(env, "FSM"))["classes"] == classes


async def test_distribution_batch_reply_lost_after_commit_is_found_not_duplicated(
    tmp_path: Path,
) -> None:
    """FSM commits an invoice's distribution batch and the reply is lost: the flow finds the
    invoice complete by vendor + invoice number and posts nothing again."""
    async with line_app(tmp_path, "fsm", SEED) as (app, env):
        cut = {
            "fault": "timeout_after_commit",
            "match": "write",
            "path_contains": "PayablesInvoiceDistribution",
        }
        await faults(env, hang_s=0.05, script=[cut])
        runner = await app.runner(FLOW)
        report = await runner.cycle()
        if not report.ok:
            report = await runner.cycle()
        assert report.ok, report.error
        assert await faults_left(env) == []
        classes = (await line_state(env, "FSM"))["classes"]
        assert max(invoice_keys(classes).values()) == 1
        assert set(distributions(classes)) == set(invoice_keys(classes))
        again = await runner.cycle(full=True)
        assert again.total("created") + again.total("updated") == 0
        assert (await line_state(env, "FSM"))["classes"] == classes
