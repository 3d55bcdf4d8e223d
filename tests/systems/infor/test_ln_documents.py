"""The LN client writing a document with its lines in as few requests as the service allows,
against the simulated LN services over loopback: deep insert, $batch, one POST per line, the
mode read from $metadata once per connection, the fallback when a mode is turned down, and
exactly-once across a lost reply or a header found short."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from connector.errors import InDoubtError, RejectedError
from connector.systems.infor.lines import LineOrder, LineOrderLine
from connector.systems.infor.ln import LnLine
from connector.systems.infor.ln.documents import mode_from_metadata
from tests.systems.infor.conftest import InforSandbox
from tests.systems.infor.test_ln import invoice, ln_rows

PO_LINES = ("ITM000001", "ITM000002", "ITM000003")


async def open_ln(infor: InforSandbox, mode: str = "auto", **knobs: Any) -> LnLine:
    """LN company 100 seeded with the write knobs ``knobs``; a connection in ``mode``."""
    await infor.admin(
        "POST", "seed", {"line": "LN", "seed": 5, "suppliers": 5, "items": 5, **knobs}
    )
    line = infor.connect(product="ln", ln_write_mode=mode).line
    assert isinstance(line, LnLine)
    return line


def order(number: str = "ST500", items: tuple[str, ...] = PO_LINES) -> LineOrder:
    return LineOrder(
        number=number,
        supplier="BP0000003",
        order_date="2024-06-12",
        currency="USD",
        lines=tuple(
            LineOrderLine(number=10 * n, item=item, quantity=Decimal(1), price=Decimal("2.5"))
            for n, item in enumerate(items, start=1)
        ),
    )


async def count(line: LnLine, write: Any) -> int:
    before = line.requests
    await write
    return line.requests - before


async def test_auto_uses_deep_insert_one_request_per_document(infor: InforSandbox) -> None:
    """Where $metadata announces deep insert, an invoice of 5 lines and a PO of 3 each take
    one request (plus one $metadata read per service, once); both are found complete."""
    line = await open_ln(infor, deep_insert=True, batch=True)
    assert await count(line, line.write_invoice(invoice(5, "D-1"), None)) == 2
    assert await count(line, line.write_invoice(invoice(5, "D-2"), None)) == 1
    assert await count(line, line.write_order(order(), None)) == 2
    found = await line.find_invoice("BP0000002", "D-2")
    assert found is not None and found.line_count == 5
    placed = await line.find_order("ST500")
    assert placed is not None and placed.lines == (10, 20, 30)
    assert line.writer.modes == {"tfapi.acpInvoice": "deep", "tdapi.purPurchaseOrder": "deep"}


async def test_workers_starting_together_read_metadata_once(infor: InforSandbox) -> None:
    """Two documents written at once on a fresh connection: one $metadata read between
    them, then one deep insert each."""
    line = await open_ln(infor, deep_insert=True)
    await asyncio.gather(
        line.write_invoice(invoice(2, "W-1"), None), line.write_invoice(invoice(2, "W-2"), None)
    )
    assert line.requests == 3


async def test_auto_uses_batch_when_only_batch_is_offered(infor: InforSandbox) -> None:
    """With $batch alone announced, a document is one $batch request; the invoice's lines
    carry the document number LN gave the header in the same batch."""
    line = await open_ln(infor, batch=True)
    assert await count(line, line.write_invoice(invoice(4, "B-1"), None)) == 2
    assert await count(line, line.write_order(order(), None)) == 2
    (header,) = await ln_rows(infor, "Invoices")
    assert [r["Document"] for r in await ln_rows(infor, "InvoiceLines")] == [header["Document"]] * 4
    assert line.writer.modes["tfapi.acpInvoice"] == "batch"


async def test_auto_without_announcements_writes_line_by_line(infor: InforSandbox) -> None:
    """A service whose $metadata announces neither gets the header and each line alone."""
    line = await open_ln(infor)
    assert await count(line, line.write_invoice(invoice(3, "S-1"), None)) == 1 + 1 + 3
    assert line.writer.modes["tfapi.acpInvoice"] == "single"


@pytest.mark.parametrize("mode", ["deep", "batch"])
async def test_a_mode_the_service_turns_down_falls_back_to_single(
    infor: InforSandbox, mode: str
) -> None:
    """ln_write_mode deep/batch against a service offering neither: the 501/404 writes
    nothing, the document goes line by line, and later documents go straight that way."""
    line = await open_ln(infor, mode)
    assert await count(line, line.write_invoice(invoice(3, "F-1"), None)) == 1 + 1 + 3
    assert await count(line, line.write_invoice(invoice(3, "F-2"), None)) == 1 + 3
    assert len(await ln_rows(infor, "Invoices")) == 2
    assert len(await ln_rows(infor, "InvoiceLines")) == 6
    assert line.writer.modes["tfapi.acpInvoice"] == "single"


async def test_lost_reply_of_a_deep_insert_is_settled_by_lookup_without_a_second_invoice(
    infor: InforSandbox,
) -> None:
    """LN commits the deep insert and the reply is lost: the write is in doubt, the live
    lookup finds the invoice with all its lines, and there is exactly one invoice."""
    line = await open_ln(infor, deep_insert=True)
    cut = {"fault": "timeout_after_commit", "match": "write", "path_contains": "Invoices"}
    await infor.knobs(hang_s=0.05, script=[cut])
    with pytest.raises(InDoubtError):
        await line.write_invoice(invoice(3, "L-1"), None)
    found = await line.find_invoice("BP0000002", "L-1")
    assert found is not None and found.line_count == 3
    assert len(await ln_rows(infor, "Invoices")) == 1
    assert len(await ln_rows(infor, "InvoiceLines")) == 3


async def test_header_found_short_gets_only_its_missing_lines_in_one_batch(
    infor: InforSandbox,
) -> None:
    """A header cut after its first line (written line by line) is finished by a batch
    connection with one request holding just lines 2 and 3."""
    single = await open_ln(infor, "single", batch=True)
    cut = {"fault": "timeout_after_commit", "match": "write", "path_contains": "InvoiceLines"}
    await infor.knobs(hang_s=0.05, script=[cut])
    with pytest.raises(InDoubtError):
        await single.write_invoice(invoice(3, "R-1"), None)
    batch = infor.connect(product="ln", ln_write_mode="batch").line
    assert isinstance(batch, LnLine)
    partial = await batch.find_invoice("BP0000002", "R-1")
    assert partial is not None and partial.line_count == 1
    before = batch.requests
    done = await batch.write_invoice(invoice(3, "R-1"), partial)
    # One read of the lines present, one $batch with the two missing ones.
    assert batch.requests - before == 2 and done.line_count == 3
    numbers = sorted(r["LineNumber"] for r in await ln_rows(infor, "InvoiceLines"))
    assert numbers == [1, 2, 3] and len(await ln_rows(infor, "Invoices")) == 1


@pytest.mark.parametrize("mode", ["deep", "batch"])
async def test_a_refused_line_refuses_the_whole_document(infor: InforSandbox, mode: str) -> None:
    """A PO whose second line names an unknown item is rejected, naming the record, and
    neither the header nor the good line is left in LN (both modes are atomic)."""
    line = await open_ln(infor, mode, deep_insert=True, batch=True)
    with pytest.raises(RejectedError, match="purchase order ST9") as refused:
        await line.write_order(order("ST9", ("ITM000001", "NOPE")), None)
    assert "NOPE" in str(refused.value)
    assert await ln_rows(infor, "Orders") == [] and await ln_rows(infor, "Lines") == []


def test_mode_is_read_from_capability_terms_under_any_alias() -> None:
    """DeepInsertSupport wins over BatchSupport; an alias prefix is read like the full
    namespace; a batch limited to multipart, or no annotation at all, means single."""

    def doc(**terms: Any) -> dict[str, Any]:
        return {"$EntityContainer": "s.C", "s": {"C": {"$Kind": "EntityContainer", **terms}}}

    deep = {"@Capabilities.DeepInsertSupport": {"Supported": True}}
    batch = {"@Org.OData.Capabilities.V1.BatchSupport": {"Supported": True}}
    multipart = {"@Capabilities.BatchSupport": {"Supported": True, "SupportedFormats": [
        "multipart/mixed"]}}  # fmt: skip
    assert mode_from_metadata(doc(**deep, **batch)) == "deep"
    assert mode_from_metadata(doc(**batch)) == "batch"
    assert mode_from_metadata(doc(**multipart)) == "single"
    assert mode_from_metadata(doc()) == "single"
    assert mode_from_metadata("<edmx/>") == "single"
