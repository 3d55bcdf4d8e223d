"""Edits after posting: every source change is carried to the target or put in front of a
person with a field diff; none is ever reported "unchanged".

Both ServiceTitan flows run over one tenant. After a first sync, 50 records are edited in
ServiceTitan: customers renamed, vendors deactivated (reference data: carried), invoices
repriced, payments and inventory bills re-described (posted documents: review with a diff).
The second sync's audit trail must show, for every flow and stream that carries an edited
record, either a write of the change or a "changed after posting" review item.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector import demo
from connector.app import App
from connector.store import RecordKey, State
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import Figures, servicetitan

FLOWS = ("servicetitan-infor", "servicetitan-acumatica")
COUNTS = {
    "servicetitan": {
        "vendors": 10, "materials": 8, "equipment": 4, "services": 4, "customers": 20,
        "jobs": 30, "invoices": 30, "payments": 20, "purchase_orders": 16,
        "received_purchase_orders": 12, "adjustments": 0,
    },
    "infor": {"suppliers": 4, "items": 8, "purchase_orders": 0},
    "acumatica": {"vendors": 2, "customers": 2},
}
#: Source table → (how many to edit, the streams that carry it in each flow).
EDITS: dict[str, tuple[int, dict[str, str]]] = {
    "customers": (10, {"servicetitan-acumatica": "customers_to_acumatica"}),
    "vendors": (
        5,
        {"servicetitan-acumatica": "vendors_to_acumatica", "servicetitan-infor": "vendors_to_m3"},
    ),
    "invoices": (
        15,
        {"servicetitan-acumatica": "invoices_to_acumatica", "servicetitan-infor": "invoices_to_m3"},
    ),
    "payments": (10, {"servicetitan-acumatica": "payments_to_acumatica"}),
    "inventory_bills": (10, {"servicetitan-acumatica": "bills_to_acumatica"}),
}


def _edit(table: str, row: dict[str, Any]) -> None:
    """One realistic change a user makes in ServiceTitan after the record was synced."""
    if table == "customers":
        row["name"] = f"{row['name']} (renamed)"
    elif table == "vendors":
        row["active"] = False
    elif table == "invoices":
        line = row["items"][0]
        added = Decimal("10.00") * Decimal(str(line["quantity"]))
        line["price"] = str(Decimal(str(line["price"])) + Decimal("10.00"))
        line["total"] = str(Decimal(str(line["total"])) + added)
        row["total"] = str(Decimal(str(row["total"])) + added)
    elif table == "payments":
        row["memo"] = "corrected after deposit"
    else:
        row["summary"] = "re-described after posting"


async def _posted(app: App, flow: str, stream: str, source_id: str) -> bool:
    entry = await app.store.ledger_entry(RecordKey(flow, stream, source_id))
    return entry is not None and entry.state == State.DONE


async def _verdict(app: App, flow: str, stream: str, source_id: str, run_id: int) -> str:
    """``carried`` (the change was written), ``review`` (waits with a diff) or ``silent``."""
    for event in await app.store.audit_history(flow, source_id):
        if event.key.stream != stream or event.run_id != run_id:
            continue
        if event.step == "written" and '"updated"' in (event.detail or ""):
            return "carried"
        if event.step == "changed_after_posting" and "→" in (event.detail or ""):
            return "review"
    items = await app.store.review_items(flow=flow, stream=stream, source_ids=[source_id])
    if any(i.mapping_kind == "changed_after_posting" and "→" in i.reason for i in items):
        return "review"
    return "silent"


@pytest.mark.timeout(600)
async def test_fifty_source_edits_are_each_carried_or_in_review_with_a_diff(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """50 edits after posting: each one, in every flow that carries it, is written to the
    target (reference data) or waits in review with its field diff (documents); 0 silent."""
    env = await demo.start(tmp_path / "state", seed=9, counts=COUNTS, flows=FLOWS)
    verdicts: dict[str, int] = {"carried": 0, "review": 0, "silent": 0}
    silent: list[str] = []
    try:
        app = await App.open(env.config)
        try:
            for flow in FLOWS:
                assert (await (await app.runner(flow)).cycle()).ok
            st = servicetitan(env)
            edited: list[tuple[str, str]] = []
            for table, (wanted, carriers) in EDITS.items():
                rows = []
                for row in st.store.table(table).all():
                    if len(rows) == wanted:
                        break
                    if table == "invoices" and not row.get("items"):
                        continue
                    if table == "vendors" and not row.get("active"):
                        continue
                    posted = [
                        await _posted(app, flow, stream, str(row["id"]))
                        for flow, stream in carriers.items()
                    ]
                    if all(posted):
                        rows.append(row)
                assert len(rows) == wanted, f"the seed has too few posted {table}"
                for row in rows:
                    _edit(table, row)
                    st.store.touch(table, row, notify=False)
                    edited.append((table, str(row["id"])))
            reports = {flow: await (await app.runner(flow)).cycle() for flow in FLOWS}
            for table, source_id in edited:
                for flow, stream in EDITS[table][1].items():
                    verdict = await _verdict(app, flow, stream, source_id, reports[flow].run_id)
                    verdicts[verdict] += 1
                    if verdict == "silent":
                        silent.append(f"{flow}/{stream}/{source_id}")
        finally:
            await app.aclose()
    finally:
        await env.stop()
    show_figures(
        Figures(
            "edits after posting",
            2,
            len(edited),
            0,
            0,
            verdicts["review"],
            f"{verdicts['carried']} changes carried to the target, {verdicts['review']} in "
            f"review with a diff, {verdicts['silent']} reported unchanged",
        )
    )
    for flow, report in reports.items():
        assert report.ok, f"{flow}: {report.error}"
    assert len(edited) == 50
    assert silent == []
    assert verdicts["carried"] >= 15 and verdicts["review"] >= 35
