"""The SyteLine line client against the Infor simulator's Mongoose IDOs, over loopback HTTP.

The connection is opened as for any Infor system, with ``product = "syteline"``; the tests
look behind the client only through ``/_sandbox/state`` (``lines.CSI``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.errors import ConfigurationError, ConflictError, InDoubtError, RejectedError
from connector.systems.infor.lines import (
    InforLine,
    LineInvoice,
    LineInvoiceLine,
    LineItem,
    LineOrder,
    LineOrderLine,
    LineSupplier,
)
from connector.systems.infor.paging import ListQuery
from connector.systems.infor.syteline import SyteLineClient
from connector.systems.infor.syteline.paging import BookmarkReader
from tests.systems.infor.conftest import InforSandbox
from tests.systems.infor.line_contract import line_invoice

CONFIG = "ACME_DALS"
SITE = "DALS"


async def open_line(infor: InforSandbox, seed: int | None = 2, **overrides: Any) -> InforLine:
    """A SyteLine connection on the simulator (its site seeded with ``seed``)."""
    if seed is not None:
        await infor.admin("POST", "seed", {"line": "CSI", "seed": seed})
    values: dict[str, Any] = {"product": "syteline", "mongoose_config": CONFIG, "company": SITE}
    values.update(overrides)
    line = infor.connect(**values).line
    assert line is not None
    return line


async def idos(infor: InforSandbox) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = (await infor.state())["lines"]["CSI"]["idos"]
    return rows


def invoice(number: str, lines: int = 3, supplier: str = "1001") -> LineInvoice:
    return line_invoice(
        supplier, number, Decimal("10.25"), lines=lines, reference=f"st-inv-{number}",
        account="5010", cost_center="100",
    )


async def test_validate_checks_site_and_configuration(infor: InforSandbox) -> None:
    """The configured site passes; an unknown site or configuration is a ConfigurationError
    naming the key to fix; a SyteLine system without mongoose_config does not open."""
    await (await open_line(infor)).validate()
    with pytest.raises(ConfigurationError, match="company"):
        await (await open_line(infor, seed=None, company="NOWHERE")).validate()
    with pytest.raises(ConfigurationError, match="mongoose_config"):
        await (await open_line(infor, seed=None, mongoose_config="OTHER_CFG")).validate()
    with pytest.raises(ConfigurationError, match="mongoose_config"):
        infor.connect(product="syteline", company=SITE)


async def test_get_supplier_expands_and_strips_right_justified_codes(infor: InforSandbox) -> None:
    """Vendor "   1001" is found as "1001" and read back without its padding; an unknown
    code is None, one longer than VendNum's 7 characters is refused before any request."""
    line = await open_line(infor)
    supplier = await line.get_supplier("1001")
    assert supplier is not None
    assert (supplier.code, supplier.currency) == ("1001", "USD")
    assert supplier.version.startswith("PBT=[vendor]") and supplier.changed.endswith("Z")
    assert await line.get_supplier("9999") is None
    before = line.requests
    with pytest.raises(RejectedError, match="7-character"):
        await line.get_supplier("ST123456")
    assert line.requests == before


async def test_write_supplier_creates_then_updates_with_item_id(infor: InforSandbox) -> None:
    """A new supplier is inserted padded; a change goes with the _ItemId read, and a change
    based on an outdated read is a ConflictError, not a lost update."""
    line = await open_line(infor)
    await line.write_supplier(LineSupplier(code="ST77", name="Cool Air LLC"), None)
    stored = [v for v in (await idos(infor))["SLVendors"] if v["VendNum"].strip() == "ST77"]
    assert [v["VendNum"] for v in stored] == ["   ST77"]
    read = await line.get_supplier("ST77")
    assert read is not None
    await line.write_supplier(LineSupplier(code="ST77", name="Cool Air Inc", active=False), read)
    now = await line.get_supplier("ST77")
    assert now is not None and (now.name, now.active) == ("Cool Air Inc", False)
    with pytest.raises(ConflictError):
        await line.write_supplier(LineSupplier(code="ST77", name="Stale write"), read)
    final = await line.get_supplier("ST77")
    assert final is not None and final.name == "Cool Air Inc"


async def test_suppliers_page_by_bookmark_and_filter_by_change_time(infor: InforSandbox) -> None:
    """A full read returns every vendor once over several pages; changed_since returns only
    vendors changed at or after that time."""
    line = await open_line(infor, page_size=7)
    everything = [s async for s in line.suppliers()]
    stored = (await idos(infor))["SLVendors"]
    assert sorted(s.code for s in everything) == sorted(v["VendNum"].strip() for v in stored)
    assert len(everything) == 41 and line.requests == 6
    cutoff = sorted(s.changed for s in everything)[30]
    newer = [s async for s in line.suppliers(cutoff)]
    assert {s.code for s in newer} == {s.code for s in everything if s.changed >= cutoff}
    assert 0 < len(newer) < len(everything)


async def test_items_round_trip_kind_and_status(infor: InforSandbox) -> None:
    """An item is inserted with the product code of its kind and read back as that kind;
    an update with the read _ItemId changes it; items(changed_since) finds it."""
    line = await open_line(infor)
    await line.write_item(
        LineItem(code="EQ-500", description="Furnace 80k", kind="equipment"), None
    )
    item = await line.get_item("EQ-500")
    assert item is not None and (item.kind, item.active) == ("equipment", True)
    await line.write_item(
        LineItem(code="EQ-500", description="Furnace 80k BTU", kind="equipment", active=False),
        item,
    )
    changed = [i async for i in line.items(item.changed)]
    assert [(i.code, i.description, i.active) for i in changed] == [
        ("EQ-500", "Furnace 80k BTU", False)
    ]


async def test_invoice_is_written_in_two_requests_and_found_complete(infor: InforSandbox) -> None:
    """A new voucher costs a header insert and one update for all distributions; the live
    look-up (2 requests) finds it complete with the server's voucher number."""
    line = await open_line(infor)
    before = line.requests
    written = await line.write_invoice(invoice("ST-9001"), None)
    assert line.requests - before == 2
    assert (written.line_count, written.amount) == (3, Decimal("30.75"))
    before = line.requests
    found = await line.find_invoice("1001", "ST-9001")
    assert line.requests - before == 2
    assert found is not None
    assert (found.document, found.line_count, found.invoice_date) == (
        written.document,
        3,
        "2024-06-12",
    )
    dists = [d for d in (await idos(infor))["SLAptrxds"] if d["Voucher"] == found.document]
    assert sorted(int(d["DistSeq"]) for d in dists) == [5, 10, 15]
    assert {(d["Acct"], d["AcctUnit1"]) for d in dists} == {("5010", "100")}


async def test_lost_header_reply_is_settled_by_finishing_not_duplicating(
    infor: InforSandbox,
) -> None:
    """The header's reply is lost after it committed: InDoubtError; the look-up finds the
    header without distributions and writing again finishes it — one voucher in the end."""
    # 1 s, not less: every other call of this line must answer within it on a busy machine.
    line = await open_line(infor, timeout_s=1.0)
    await infor.knobs(
        hang_s=1.5,
        script=[
            {"fault": "timeout_after_commit", "match": "write", "path_contains": "/update/SLAptrxs"}
        ],
    )
    with pytest.raises(InDoubtError):
        await line.write_invoice(invoice("ST-9002"), None)
    found = await line.find_invoice("1001", "ST-9002")
    assert found is not None and found.line_count == 0
    finished = await line.write_invoice(invoice("ST-9002"), found)
    assert (finished.document, finished.line_count) == (found.document, 3)
    vouchers = [v for v in (await idos(infor))["SLAptrxs"] if v["InvNum"] == "ST-9002"]
    assert len(vouchers) == 1


async def test_partly_written_invoice_gets_only_its_missing_lines(infor: InforSandbox) -> None:
    """A voucher holding the first line of three gets lines 2 and 3 (DistSeq 10, 15) only."""
    line = await open_line(infor)
    await line.write_invoice(invoice("ST-9003", lines=1), None)
    partial = await line.find_invoice("1001", "ST-9003")
    assert partial is not None and partial.line_count == 1
    await line.write_invoice(invoice("ST-9003", lines=3), partial)
    dists = [d for d in (await idos(infor))["SLAptrxds"] if d["Voucher"] == partial.document]
    assert sorted(int(d["DistSeq"]) for d in dists) == [5, 10, 15]


async def test_refused_distribution_is_rejected_with_syteline_reason(infor: InforSandbox) -> None:
    """A cost center longer than SyteLine's 4-character unit code is refused with the
    IDO's message; the header stays for the next attempt to finish."""
    line = await open_line(infor)
    bad = invoice("ST-9004", lines=1)
    bad = LineInvoice(
        **{
            **{f: getattr(bad, f) for f in bad.__struct_fields__},
            "lines": (
                LineInvoiceLine(amount=Decimal(1), text="x", account="5010", cost_center="TOOLONG"),
            ),
        }
    )
    with pytest.raises(RejectedError, match="AcctUnit1"):
        await line.write_invoice(bad, None)
    found = await line.find_invoice("1001", "ST-9004")
    assert found is not None and found.line_count == 0


async def test_invoices_by_date_carry_their_line_counts(infor: InforSandbox) -> None:
    """invoices(from, to) lists the vouchers dated in the range with their distributions and
    the reference we stamped (what reconciliation matches them by)."""
    line = await open_line(infor)
    await line.write_invoice(invoice("ST-9005", lines=2), None)
    listed = [i async for i in line.invoices("2024-06-12", "2024-06-12")]
    assert [(i.invoice_number, i.line_count, i.reference) for i in listed] == [
        ("ST-9005", 2, "st-inv-ST-9005")
    ]
    seeded = [i async for i in line.invoices("2024-01-01", "2024-05-31")]
    stored = (await idos(infor))["SLAptrxds"]
    assert len(seeded) == 20
    for found in seeded:
        assert found.line_count == sum(1 for d in stored if d["Voucher"] == found.document)


async def test_purchase_order_written_then_resumed_by_line_number(infor: InforSandbox) -> None:
    """A new PO is a head and its lines; a PO found with a line missing gets only that
    line; the look-up answers the line numbers present."""
    line = await open_line(infor)
    order = LineOrder(
        number="ST55",
        supplier="1002",
        order_date="2024-06-01",
        currency="USD",
        lines=(
            LineOrderLine(number=1, item="PRT-10001", quantity=Decimal(2), price=Decimal("9.5")),
            LineOrderLine(number=2, item="PRT-10002", quantity=Decimal(1), price=Decimal(3)),
        ),
    )
    first = await line.write_order(
        LineOrder(
            **{**{f: getattr(order, f) for f in order.__struct_fields__}, "lines": order.lines[:1]}
        ),
        None,
    )
    assert first.lines == (1,)
    found = await line.find_order("ST55")
    assert found is not None and found.lines == (1,)
    done = await line.write_order(order, found)
    assert done.lines == (1, 2)
    again = await line.find_order("ST55")
    assert again is not None and again.lines == (1, 2)
    stored = [p for p in (await idos(infor))["SLPoItems"] if p["PoNum"].strip() == "ST55"]
    assert len(stored) == 2 and stored[0]["PoNum"] == "      ST55"
    assert await line.find_order("ST56") is None


async def test_server_saving_only_the_first_change_is_caught_and_finished(
    infor: InforSandbox,
) -> None:
    """A Mongoose that saves only the first change of a request (field reports) still ends
    with every distribution and PO line: the refresh answer shows the shortfall and the
    missing rows go one per request."""
    line = await open_line(infor)
    await infor.admin("POST", "seed", {"line": "CSI", "knobs": {"update_first_change_only": True}})
    before = line.requests
    written = await line.write_invoice(invoice("ST-9006", lines=3), None)
    # header, all three (one saved), the live re-read, then the two missing ones
    assert line.requests - before == 5
    found = await line.find_invoice("1001", "ST-9006")
    assert found is not None and found.line_count == written.line_count == 3
    order = LineOrder(
        number="ST57",
        supplier="1002",
        order_date="2024-06-01",
        currency="USD",
        lines=tuple(
            LineOrderLine(number=n, item="PRT-10001", quantity=Decimal(1), price=Decimal(1))
            for n in (1, 2)
        ),
    )
    await line.write_order(order, None)
    again = await line.find_order("ST57")
    assert again is not None and again.lines == (1, 2)


async def test_bookmark_reader_is_a_list_reader_from_a_start_key(infor: InforSandbox) -> None:
    """BookmarkReader.rows (the ListReader view) reads an IDO from a start key on, in key
    order, each row once, across pages, with nulls as empty strings."""
    line = await open_line(infor)
    assert isinstance(line, SyteLineClient)
    reader = BookmarkReader(line.ido, page_size=4)
    query = ListQuery("SLItems", "load", ("Item",), returncols=("Item", "Description"))
    rows = [row async for row in reader.rows(query, {"Item": "PRT-10050"})]
    assert [row["Item"] for row in rows] == [f"PRT-{n}" for n in range(10050, 10061)]
    assert reader.calls == 3 and all(set(row) == {"Item", "Description", "_ItemId"} for row in rows)
    filtered = ListQuery("SLVendors", "load", ("VendNum",), inputs={"filter": "Stat = 'I'"})
    inactive = [row async for row in reader.rows(filtered)]
    stored = [v for v in (await idos(infor))["SLVendors"] if v["Stat"] == "I"]
    assert sorted(row["VendNum"] for row in inactive) == sorted(v["VendNum"] for v in stored)
