"""`reconcile`: source totals against the target's, read back by natural key."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import msgspec

from connector import demo
from tests.commands.support import FLOW, change_posted_amount, cli

WIDE = ("--from", "2000-01-01", "--to", "2099-12-31")


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
    code, out, err = await cli(env, "reconcile", "--flow", FLOW, *WIDE)
    assert code == 1, err
    assert "1 document(s) differ" in out and "amount differs by 10.00" in out, out

    csv_path = tmp_path / "diff.csv"
    code, out, err = await cli(
        env, "reconcile", "--flow", FLOW, *WIDE, "--json", "--csv", str(csv_path)
    )
    assert code == 1, err
    report = msgspec.json.decode(out)
    [difference] = report["differences"]
    assert difference["source_id"] == "400002" and difference["target_id"] == inbn
    assert Decimal(difference["source_amount"]) - Decimal(difference["target_amount"]) == 10
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [(r["source_id"], r["target_id"]) for r in rows] == [("400002", inbn)]

    # A period without any of the documents has nothing to disagree about.
    code, out, err = await cli(
        env, "reconcile", "--flow", FLOW, "--from", "2000-01-01", "--to", "2000-01-02", "--json"
    )
    assert code == 0, err
    assert all(s["source_count"] == 0 for s in msgspec.json.decode(out)["streams"])
