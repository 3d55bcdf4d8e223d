"""Flow servicetitan-infor on Infor LN (OData), against the simulated LN services: the demo
cycle lands every record once, a second writes nothing, a lost reply is settled live."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.flows.infor_line_support import (
    FLOW,
    LINE_WRITES,
    faults,
    faults_left,
    line_app,
    line_state,
)

SEED = {"line": "LN", "seed": 9, "suppliers": 3, "items": 3, "page_size": 4}
#: LN's write knobs: neither one-request way offered (the default), deep insert, $batch.
WRITE_KNOBS = pytest.mark.parametrize(
    "knobs", [{}, {"deep_insert": True}, {"batch": True}], ids=["single", "deep", "batch"]
)


def company(state: Any) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = state["companies"]["100"]
    return tables


def invoice_keys(tables: dict[str, list[dict[str, Any]]]) -> Counter[tuple[str, str]]:
    return Counter(
        (row["InvoicefromBusinessPartner"], row["SupplierInvoice"]) for row in tables["Invoices"]
    )


def lines_per_invoice(tables: dict[str, list[dict[str, Any]]]) -> Counter[int]:
    return Counter(row["Document"] for row in tables["InvoiceLines"])


@WRITE_KNOBS
async def test_demo_cycle_on_ln_lands_everything_once_and_second_cycle_writes_nothing(
    tmp_path: Path, knobs: dict[str, bool]
) -> None:
    """Suppliers, items, POs and AP invoices reach LN company 100 once, with every line,
    whichever way LN takes documents; a full second cycle writes nothing to LN."""
    async with line_app(tmp_path, "ln", {**SEED, **knobs}) as (app, env):
        runner = await app.runner(FLOW)
        first = await runner.cycle()
        assert first.ok, first.error
        for stream in LINE_WRITES:
            assert first.streams[stream].as_dict().get("created", 0) > 0, stream
        tables = company(await line_state(env, "LN"))
        assert max(invoice_keys(tables).values()) == 1
        created = first.streams["invoices_to_infor"].as_dict()["created"]
        created += first.streams["ap_bills_to_infor"].as_dict()["created"]
        assert len(tables["Invoices"]) == created
        assert set(lines_per_invoice(tables)) == {row["Document"] for row in tables["Invoices"]}
        assert all(len(row["BusinessPartner"]) <= 9 for row in tables["BusinessPartners"])
        assert {row["PurchaseOrder"] for row in tables["Lines"]} == {
            row["PurchaseOrder"] for row in tables["Orders"]
        }
        second = await runner.cycle(full=True)
        assert second.ok, second.error
        assert second.total("created") + second.total("updated") == 0
        assert company(await line_state(env, "LN")) == tables


@WRITE_KNOBS
async def test_invoice_header_reply_lost_after_commit_is_found_not_duplicated(
    tmp_path: Path, knobs: dict[str, bool]
) -> None:
    """LN commits an invoice (header alone, its deep insert, or its $batch) and the reply is
    lost: the flow finds it live by supplier + invoice number, finishes its lines if any are
    missing, and never posts a second one."""
    async with line_app(tmp_path, "ln", {**SEED, **knobs}) as (app, env):
        cut = {
            "fault": "timeout_after_commit",
            "match": "write",
            "path_contains": "acpInvoice/",
        }
        await faults(env, hang_s=0.05, script=[cut])
        runner = await app.runner(FLOW)
        report = await runner.cycle()
        tables = company(await line_state(env, "LN"))
        if not report.ok or len(lines_per_invoice(tables)) < len(tables["Invoices"]):
            report = await runner.cycle()
        assert report.ok, report.error
        tables = company(await line_state(env, "LN"))
        assert (await faults_left(env)) == []
        assert max(invoice_keys(tables).values()) == 1
        assert set(lines_per_invoice(tables)) == {row["Document"] for row in tables["Invoices"]}
        again = await runner.cycle(full=True)
        assert again.total("created") + again.total("updated") == 0
        assert company(await line_state(env, "LN")) == tables
