"""`reconcile`: source totals against the target's, read back by natural key."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import msgspec

from connector import demo
from connector.sandbox.syspro.simulator import SysproSimulator
from tests.commands.support import FLOW, change_posted_amount, cli, cli_at_once

WIDE = ("--from", "2000-01-01", "--to", "2099-12-31")
#: A small contractor for the servicetitan-syspro flow.
SYSPRO_ST = {
    "business_units": 2, "vendors": 3, "materials": 3, "equipment": 1, "services": 2,
    "customers": 3, "jobs": 4, "invoices": 4, "payments": 0, "purchase_orders": 2,
    "received_purchase_orders": 1, "adjustments": 1,
}


async def test_reconcile_agrees_then_lists_the_one_document_that_differs(
    env: demo.DemoEnvironment, tmp_path: Any
) -> None:
    """After a clean sync the books agree (exit 0); one amount changed in M3 is listed with
    both amounts, in the table, the JSON and the CSV (exit 1)."""
    code, _, err = await cli(env, "sync", "--flow", FLOW)
    assert code == 0, err
    code, out, err = await cli(env, "reconcile", "--flow", FLOW, *WIDE, "--json")
    assert code == 0, err
    clean = msgspec.json.decode(out)
    assert clean["agrees"] is True
    invoices = next(s for s in clean["streams"] if s["stream"] == "invoices_to_m3")
    assert invoices["source_count"] == invoices["target_count"] == 4
    assert invoices["source_amount"] == invoices["target_amount"]

    inbn = change_posted_amount(env, "400002", "-10.00")
    csv_path = tmp_path / "diff.csv"
    # Reports only read: the table, the JSON with the CSV, and an empty period at once.
    table, as_json, empty = await cli_at_once(
        env,
        ("reconcile", "--flow", FLOW, *WIDE),
        ("reconcile", "--flow", FLOW, *WIDE, "--json", "--csv", str(csv_path)),
        ("reconcile", "--flow", FLOW, "--from", "2000-01-01", "--to", "2000-01-02", "--json"),
    )
    code, out, err = table
    assert code == 1, err
    assert "1 document(s) differ" in out and "amount differs by 10.00" in out, out

    code, out, err = as_json
    assert code == 1, err
    report = msgspec.json.decode(out)
    [difference] = report["differences"]
    assert difference["source_id"] == "400002" and difference["target_id"] == inbn
    assert Decimal(difference["source_amount"]) - Decimal(difference["target_amount"]) == 10
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [(r["source_id"], r["target_id"]) for r in rows] == [("400002", inbn)]

    # A period without any of the documents has nothing to disagree about.
    code, out, err = empty
    assert code == 0, err
    assert all(s["source_count"] == 0 for s in msgspec.json.decode(out)["streams"])


async def test_reconcile_a_syspro_flow_lists_an_extra_invoice_in_json_and_csv(
    tmp_path: Any,
) -> None:
    """`reconcile` works for a non-M3 flow: servicetitan-syspro agrees after a sync (exit 0);
    an AP invoice of ours in SYSPRO that no ServiceTitan invoice accounts for is listed as
    extra in the JSON and the CSV, with no source amount (exit 1)."""
    env = await demo.start(tmp_path / "state", counts={"servicetitan": SYSPRO_ST},
                           flows=["servicetitan-syspro"])
    try:
        code, _, err = await cli(env, "sync", "--flow", "servicetitan-syspro")
        assert code == 0, err
        code, out, err = await cli(env, "reconcile", "--flow", "servicetitan-syspro", *WIDE,
                                   "--json")
        assert code == 0, err
        [invoices] = msgspec.json.decode(out)["streams"]
        assert invoices["source_count"] == invoices["target_count"] > 0

        syspro = env.simulators["syspro"]
        assert isinstance(syspro, SysproSimulator)
        rows = syspro.company.tables["ApInvoice"]
        ours = next(r for r in rows if r["Reference"].startswith("ST invoice "))
        rows.append(dict(ours, Invoice="ST-FOREIGN", Reference="ST invoice 1"))
        csv_path = tmp_path / "diff.csv"
        code, out, err = await cli(env, "reconcile", "--flow", "servicetitan-syspro", *WIDE,
                                   "--json", "--csv", str(csv_path))
        assert code == 1, err
        [difference] = msgspec.json.decode(out)["differences"]
        assert difference["source_id"] == "1" and difference["source_amount"] is None
        assert difference["target_id"] == f"{ours['Supplier']}/ST-FOREIGN"
        [row] = list(csv.DictReader(io.StringIO(csv_path.read_text())))
        assert (row["source_id"], row["source_amount"], row["issue"]) == (
            "1", "", difference["issue"])
        assert row["issue"].startswith("extra in target")
    finally:
        await env.stop()
