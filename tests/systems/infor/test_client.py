"""M3Client against the Infor simulator: every operation the flows use, in company 100/AAA.

Each test opens a connection the way the supervisor does and checks the answer against
``/_sandbox/state``, which shows every record with its company, so a call that forgot
CONO (and landed in the service account's default company 200) is visible.
"""

from __future__ import annotations

import pytest

from connector.errors import ConfigurationError, InDoubtError, RejectedError
from connector.systems.infor import M3Client
from tests.systems.infor.conftest import InforSandbox

INVOICE_DATE = "20240612"


def first_active(suppliers: list[dict[str, str]]) -> str:
    """The first seeded supplier that can be invoiced (status 20), not the template."""
    return next(s["SUNO"] for s in suppliers if s["STAT"] == "20" and s["SUNO"] != "TEMPLATE")


def head_fields(suno: str, sino: str, amount: str = "125.50") -> dict[str, str]:
    """AddHead inputs as the AP flow sends them, CORI derived from the invoice number."""
    return {
        "SUNO": suno,
        "IVDT": INVOICE_DATE,
        "SINO": sino,
        "CUCD": "USD",
        "CUAM": amount,
        "CORI": f"st-{sino}",
    }


async def staged_batch(client: M3Client, suno: str, sino: str, amount: str = "125.50") -> str:
    """A batch with one cost line for the whole amount, ready for validation."""
    inbn = await client.add_head(head_fields(suno, sino, amount), record=f"invoice {sino}")
    await client.add_line(inbn, {"RDTP": "8", "NLAM": amount}, record=f"invoice {sino} line 1")
    return inbn


async def test_validate_company_accepts_the_configured_company(infor: InforSandbox) -> None:
    """Company 100 with division AAA exists and is authorized: validate_company is silent."""
    client = infor.connect().client
    await client.validate_company()
    assert (client.company, client.division) == ("100", "AAA")


async def test_get_supplier_reads_the_configured_company(infor: InforSandbox) -> None:
    """get_supplier returns company 100's record, trimmed, not company 200's look-alike."""
    suppliers = await infor.entities("suppliers")
    expected = suppliers[0]
    supplier = await infor.connect().client.get_supplier(expected["SUNO"])
    assert supplier is not None
    assert supplier.SUNO == expected["SUNO"]
    assert supplier.SUNM == expected["SUNM"]
    assert not supplier.SUNM.startswith("HOLDING")  # company 200's copy of the same SUNO
    assert supplier.SUTY == expected["SUTY"] and supplier.REGR == expected["REGR"]


async def test_get_supplier_not_found_is_none(infor: InforSandbox) -> None:
    """An unknown SUNO (M3 refuses it on field SUNO) is an empty answer, not an error."""
    assert await infor.connect().client.get_supplier("NOSUCH01") is None


async def test_suppliers_full_scan_returns_every_supplier_once(infor: InforSandbox) -> None:
    """suppliers() with default paging yields exactly company 100's suppliers, in key order."""
    expected = [s["SUNO"] for s in await infor.entities("suppliers")]
    got = [s.SUNO async for s in infor.connect().client.suppliers()]
    assert got == expected
    assert len(got) == 201  # 200 seeded + TEMPLATE


async def test_supplier_template_copies_the_addsupplier_fields(infor: InforSandbox) -> None:
    """supplier_template gives the template's AddSupplier fields, without key, name or status."""
    template = next(s for s in await infor.entities("suppliers") if s["SUNO"] == "TEMPLATE")
    fields = await infor.connect().client.supplier_template("TEMPLATE")
    assert {"SUNO", "SUNM", "STAT"}.isdisjoint(fields)
    assert fields["ACRF"] == template["ACRF"] and fields["CUCD"] == template["CUCD"]
    assert fields["REGR"] == template["REGR"]


async def test_supplier_template_missing_is_a_configuration_error(infor: InforSandbox) -> None:
    """A template supplier that does not exist stops the flow with a message naming it."""
    with pytest.raises(ConfigurationError, match="NOTEMPL"):
        await infor.connect().client.supplier_template("NOTEMPL")


async def test_add_supplier_from_the_template(infor: InforSandbox) -> None:
    """AddSupplier with the template's fields creates the supplier in company 100, active."""
    client = infor.connect().client
    fields = await client.supplier_template("TEMPLATE")
    await client.add_supplier({**fields, "SUNO": "NEWSUP01", "SUNM": "Polar Ducts LLC"})
    created = await client.get_supplier("NEWSUP01")
    assert created is not None and created.SUNM == "Polar Ducts LLC"
    assert created.STAT == "20"
    rows = [s for s in (await infor.state())["entities"]["suppliers"] if s["SUNO"] == "NEWSUP01"]
    assert [row["CONO"] for row in rows] == ["100"]


async def test_add_supplier_on_an_existing_suno_is_rejected(infor: InforSandbox) -> None:
    """A second AddSupplier for the same SUNO raises RejectedError blaming field SUNO."""
    client = infor.connect().client
    fields = {**await client.supplier_template("TEMPLATE"), "SUNO": "NEWSUP02", "SUNM": "Dup"}
    await client.add_supplier(fields)
    with pytest.raises(RejectedError) as caught:
        await client.add_supplier(fields)
    assert caught.value.field == "SUNO"
    assert "SUNO" in str(caught.value) and "NEWSUP02" in str(caught.value)
    assert (await infor.state())["counts"]["master_data_duplicates"] == 0


async def test_get_item_found_and_not_found(infor: InforSandbox) -> None:
    """get_item returns company 100's item, and None for an unknown ITNO."""
    expected = (await infor.entities("items"))[0]
    client = infor.connect().client
    item = await client.get_item(expected["ITNO"])
    assert item is not None
    assert (item.ITNO, item.ITDS) == (expected["ITNO"], expected["ITDS"])
    assert item.LMDT == expected["LMDT"]
    assert await client.get_item("NO-SUCH-ITEM") is None


async def test_items_full_scan_returns_every_item_once(infor: InforSandbox) -> None:
    """items() yields exactly company 100's items, each once, in key order."""
    expected = [i["ITNO"] for i in await infor.entities("items")]
    got = [i.ITNO async for i in infor.connect(page_size=40).client.items()]
    assert got == expected and len(got) == 300


async def test_add_item_via_item_type(infor: InforSandbox) -> None:
    """add_item creates the item in company 100; a second add of the same ITNO is rejected."""
    client = infor.connect().client
    fields = {"ITTY": "PRT", "ITNO": "ST-PART-1", "ITDS": "Blower wheel 10x8"}
    await client.add_item(fields)
    item = await client.get_item("ST-PART-1")
    assert item is not None and item.ITDS == "Blower wheel 10x8" and item.ITTY == "PRT"
    with pytest.raises(RejectedError) as caught:
        await client.add_item(fields)
    assert caught.value.field == "ITNO"


async def test_items_changed_since_returns_changed_items_only(infor: InforSandbox) -> None:
    """items_changed_since(date) yields every item with LMDT >= date, each once."""
    since = "20241101"
    expected = {i["ITNO"] for i in await infor.entities("items") if i["LMDT"] >= since}
    assert 0 < len(expected) < 300
    got = [i.ITNO async for i in infor.connect(page_size=7).client.items_changed_since(since)]
    assert sorted(got) == sorted(expected)
    assert len(got) == len(set(got))


async def test_items_changed_since_pages_through_one_busy_day(infor: InforSandbox) -> None:
    """Items changed on one day span several pages: the restart keeps LMTS, so none is lost."""
    client = infor.connect(page_size=2).client
    for n in range(7):
        await client.add_item({"ITTY": "CON", "ITNO": f"ST-BUSY-{n}", "ITDS": f"Busy {n}"})
    items = await infor.entities("items")
    today = next(i["LMDT"] for i in items if i["ITNO"] == "ST-BUSY-0")
    expected = {i["ITNO"] for i in items if i["LMDT"] >= today}
    got = [i.ITNO async for i in client.items_changed_since(today)]
    assert sorted(got) == sorted(expected)
    assert {f"ST-BUSY-{n}" for n in range(7)} <= set(got)
    assert len(got) == len(set(got))


async def test_find_invoice_sees_a_staged_batch(infor: InforSandbox) -> None:
    """find_invoice finds nothing before AddHead and the staged batch (with CORI) after it."""
    client = infor.connect().client
    suno = first_active(await infor.entities("suppliers"))
    assert await client.find_invoice(suno, "ST-5001") == []
    inbn = await client.add_head(head_fields(suno, "ST-5001"), record="invoice ST-5001")
    found = await client.find_invoice(suno, "ST-5001")
    assert [(h.INBN, h.SINO, h.CORI) for h in found] == [(inbn, "ST-5001", "st-ST-5001")]
    assert [(h.VONO, h.validated) for h in found] == [("", False)]
    assert await client.find_invoice(suno, "ST-5002") == []


async def test_add_head_twice_opens_two_batches(infor: InforSandbox) -> None:
    """AddHead is not idempotent and the client does not dedupe: two calls, two INBNs."""
    client = infor.connect().client
    suno = first_active(await infor.entities("suppliers"))
    first = await client.add_head(head_fields(suno, "ST-6001"), record="invoice ST-6001")
    second = await client.add_head(head_fields(suno, "ST-6001"), record="invoice ST-6001")
    assert first != second
    batches = (await infor.state())["entities"]["invoice_batches"]
    assert sorted(b["INBN"] for b in batches if b["SINO"] == "ST-6001") == sorted([first, second])
    assert {(b["CONO"], b["DIVI"]) for b in batches} == {("100", "AAA")}
    # This is why the flows look first (find_invoice by SINO, reuse by CORI) before AddHead.
    assert len(await client.find_invoice(suno, "ST-6001")) == 2


async def test_add_line_and_lines(infor: InforSandbox) -> None:
    """add_line stages lines on the batch; lines() lists them back with their amounts."""
    client = infor.connect().client
    suno = first_active(await infor.entities("suppliers"))
    inbn = await client.add_head(head_fields(suno, "ST-7001", "30.00"), record="invoice ST-7001")
    for amount in ("10.00", "20.00"):
        await client.add_line(inbn, {"RDTP": "8", "NLAM": amount}, record="invoice ST-7001")
    lines = await client.lines(inbn)
    assert [(line["TRNO"], line["NLAM"]) for line in lines] == [("1", "10.00"), ("2", "20.00")]


async def test_add_line_on_an_unknown_batch_is_rejected(infor: InforSandbox) -> None:
    """AddLine on an INBN that AddHead never returned raises RejectedError blaming INBN."""
    with pytest.raises(RejectedError) as caught:
        await infor.connect().client.add_line("999999", {"RDTP": "8", "NLAM": "1"}, record="x")
    assert caught.value.field == "INBN"


async def test_validate_batch_posts_and_get_head_shows_the_voucher(infor: InforSandbox) -> None:
    """validate_batch posts a balanced batch; get_head then shows status 90 and a voucher."""
    client = infor.connect().client
    suno = first_active(await infor.entities("suppliers"))
    inbn = await staged_batch(client, suno, "ST-8001")
    staged = await client.get_head(inbn)
    # M3 answers VONO "0" for a staged batch; the client reads that as "no voucher yet".
    assert staged is not None and staged.SINO == "ST-8001"
    assert (staged.VONO, staged.YEA4, staged.validated) == ("", "", False)
    await client.validate_batch(inbn, record="invoice ST-8001")
    posted = await client.get_head(inbn)
    assert posted is not None
    assert posted.SUPA == "90" and posted.VONO and posted.YEA4 == INVOICE_DATE[:4]
    assert posted.validated
    vouchers = (await infor.state())["entities"]["vouchers"]
    assert [(v["INBN"], v["CONO"], v["VONO"]) for v in vouchers] == [(inbn, "100", posted.VONO)]


async def test_validate_batch_refuses_a_duplicate_supplier_invoice(infor: InforSandbox) -> None:
    """A second batch with the same supplier + SINO fails validation naming field SINO."""
    client = infor.connect().client
    suno = first_active(await infor.entities("suppliers"))
    await client.validate_batch(await staged_batch(client, suno, "ST-9001"), record="first")
    duplicate = await staged_batch(client, suno, "ST-9001")  # staging a duplicate is allowed
    with pytest.raises(RejectedError) as caught:
        await client.validate_batch(duplicate, record="invoice ST-9001")
    assert caught.value.field == "SINO" and caught.value.code
    assert "SINO" in str(caught.value) and "ST-9001" in str(caught.value)
    assert len((await infor.state())["entities"]["vouchers"]) == 1


async def test_get_head_of_an_unknown_batch_is_none(infor: InforSandbox) -> None:
    """get_head of an INBN that does not exist is None."""
    assert await infor.connect().client.get_head("424242") is None


@pytest.mark.parametrize("dimension", [1, 2])
async def test_accounting_ids_lists_one_dimension(infor: InforSandbox, dimension: int) -> None:
    """accounting_ids(1) lists the accounts, accounting_ids(2) the cost centers, all of them."""
    rows = (await infor.state())["entities"]["accounting_identities"]
    expected = sorted(r["AITM"] for r in rows if r["CONO"] == "100" and r["AITP"] == str(dimension))
    ids = await infor.connect(page_size=7).client.accounting_ids(dimension)
    assert [i.AITM for i in ids] == expected
    assert {i.AITP for i in ids} == {str(dimension)}
    assert len(expected) == (30 if dimension == 1 else 12)


async def test_get_purchase_order_found_and_not_found(infor: InforSandbox) -> None:
    """get_purchase_order returns the head of a seeded PO, and None for an unknown PUNO."""
    order = (await infor.entities("purchase_orders"))[0]
    client = infor.connect().client
    head = await client.get_purchase_order(order["PUNO"])
    assert head is not None
    assert (head.PUNO, head.SUNO, head.CUCD) == (order["PUNO"], order["SUNO"], order["CUCD"])
    assert await client.get_purchase_order("9999999") is None
    lines = await client.purchase_order_lines(order["PUNO"])
    assert [line.PNLI for line in lines] == [line["PNLI"] for line in order["lines"]]


async def test_lost_addhead_reply_is_in_doubt_and_leaves_one_batch(infor: InforSandbox) -> None:
    """AddHead committed but its reply lost: InDoubtError, never a resend, exactly one batch."""
    # 1 s, not less: every other call of this client must answer within it on a busy machine.
    await infor.knobs(
        hang_s=1.5,
        script=[{"fault": "timeout_after_commit", "match": "write", "path_contains": "AddHead"}],
    )
    client = infor.connect(timeout_s=1.0).client
    suno = first_active(await infor.entities("suppliers"))
    with pytest.raises(InDoubtError) as caught:
        await client.add_head(head_fields(suno, "ST-4001"), record="invoice ST-4001")
    assert "invoice ST-4001" in str(caught.value)
    batches = (await infor.state())["entities"]["invoice_batches"]
    assert [b["SINO"] for b in batches] == ["ST-4001"]
    # Settling the doubt is a look-up by the natural key: the batch is there, with our CORI.
    found = await client.find_invoice(suno, "ST-4001")
    assert [h.CORI for h in found] == ["st-ST-4001"]
