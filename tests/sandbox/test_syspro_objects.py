"""SYSPRO simulator, business objects: XMLOUT layout, common parameters, per-field errors,
APSTIN / APSSSP / INVTMA / PORTOI rules and COMFND — over raw loopback HTTP (sheet rules 3, 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.syspro_company import (
    SysproCompany,
    ap_parameters,
    invoice_doc,
    open_company,
    xml,
)


@pytest.fixture
async def company(start_simulator: StartSimulator) -> AsyncIterator[SysproCompany]:
    """A SYSPRO simulator with reference data and a raw-HTTP handle on it."""
    async with aiohttp.ClientSession() as session:
        yield await open_company(start_simulator, session)


@pytest.fixture
async def user_id(company: SysproCompany) -> str:
    """A logged-on session of the test operator."""
    return await company.logon()


def supplier_doc(code: str, name: str = "Acme HVAC", **extra: str) -> str:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return (
        f"<SetupApSupplier><Item><Key><Supplier>{code}</Supplier></Key>"
        f"<SupplierName>{name}</SupplierName>{fields}</Item></SetupApSupplier>"
    )


def adjustment_doc(stock: str = "A100", warehouse: str = "FG", quantity: str = "-5") -> str:
    return (
        f"<PostInvAdjustments><Item><Warehouse>{warehouse}</Warehouse><StockCode>{stock}"
        f"</StockCode><Quantity>{quantity}</Quantity><Reference>ST-ADJ-1</Reference>"
        "<LedgerCode>10-3000</LedgerCode></Item></PostInvAdjustments>"
    )


def order_doc(number: str = "", supplier: str = "0001", stock: str = "A100") -> str:
    return (
        "<PostPurchaseOrders><Orders><OrderHeader><OrderActionType>A</OrderActionType>"
        f"<Supplier>{supplier}</Supplier><OrderDate>2024-06-12</OrderDate>"
        f"<Warehouse>FG</Warehouse><PurchaseOrder>{number}</PurchaseOrder></OrderHeader>"
        f"<OrderDetails><StockLine><PurchaseOrderLine>1</PurchaseOrderLine><StockCode>{stock}"
        "</StockCode><Warehouse>FG</Warehouse><OrderQty>4</OrderQty><Price>250.00</Price>"
        "</StockLine></OrderDetails></Orders></PostPurchaseOrders>"
    )


def field_error(body: str, element: str) -> tuple[str, str, str]:
    """(Value, ErrorNumber, ErrorDescription) of the error under ``element`` in the first item."""
    blamed = next(e for e in xml(body)[0].iter() if e.tag == element and len(e))
    return (
        blamed.findtext("Value") or "",
        blamed.findtext("ErrorNumber") or "",
        blamed.findtext("ErrorDescription") or "",
    )


# -- rule 3: XMLOUT layout and the common parameters ---------------------------------------
async def test_xmlout_root_is_the_input_root_lowercased_with_single_quoted_attributes(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 3: Windows-1252 prolog, root <postapinvoice Language='05' … Version='8.0.000'>."""
    body = await company.post(user_id, "APSTIN", invoice_doc(), ap_parameters())
    assert body.startswith('<?xml version="1.0" encoding="Windows-1252"?>\n<postapinvoice ')
    assert "Language='05'" in body and "Version='8.0.000'" in body
    assert xml(body).tag == "postapinvoice"


async def test_item_elements_are_lowercased_unless_the_case_knob_keeps_them(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 3 (knob): item elements come lower-cased; element_case=as_sent keeps their casing."""
    first = xml(await company.post(user_id, "APSTIN", invoice_doc("INV-1"), ap_parameters()))
    assert first[0].tag == "item" and first[0].findtext("journal") == "1"
    await company.knobs(element_case="as_sent")
    second = xml(await company.post(user_id, "APSTIN", invoice_doc("INV-2"), ap_parameters()))
    assert second[0].tag == "Item" and second[0].findtext("Journal") == "2"


async def test_transaction_counts_are_zero_padded(company: SysproCompany, user_id: str) -> None:
    """Rule 3: transactions report <ItemsProcessed>000001</ItemsProcessed>, ItemsInvalid too."""
    status = xml(await company.post(user_id, "APSTIN", invoice_doc(), ap_parameters())).find(
        "StatusOfItems"
    )
    assert status is not None
    assert (status.findtext("ItemsProcessed"), status.findtext("ItemsInvalid")) == (
        "000001",
        "000000",
    )


async def test_setup_counts_are_records_read_and_records_invalid(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 3: setup objects report StatusOfItems/RecordsRead and RecordsInvalid."""
    body = xml(await company.setup("Add", user_id, supplier_doc("0001")))
    assert body.findtext("StatusOfItems/RecordsRead") == "1"
    assert body.findtext("StatusOfItems/RecordsInvalid") == "1"


async def test_a_validation_error_sits_under_the_offending_field(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 3: <field><Value/><ErrorNumber/><ErrorDescription/></field> inside the item."""
    body = await company.post(user_id, "APSTIN", invoice_doc(supplier="9999"), ap_parameters())
    assert field_error(body, "supplier") == ("9999", "240004", "Supplier '9999' not found")


async def test_a_missing_mandatory_element_is_error_100030(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 3: a blank mandatory element answers ErrorNumber 100030 '… cannot be spaces'."""
    body = await company.post(user_id, "APSTIN", invoice_doc(invoice=""), ap_parameters())
    assert field_error(body, "invoice") == (
        "", "100030", "XML element 'Invoice' cannot be spaces"
    )


async def test_a_bad_date_is_error_100028(company: SysproCompany, user_id: str) -> None:
    """Rule 3: a date not in CCYY-MM-DD answers ErrorNumber 100028."""
    body = await company.post(user_id, "APSTIN", invoice_doc(DueDate="12/07/2024"), ap_parameters())
    assert field_error(body, "duedate") == (
        "12/07/2024", "100028", "XML element 'DueDate' must be CCYY-MM-DD format"
    )


async def test_validate_only_checks_and_posts_nothing(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 3: ValidateOnly=Y answers a clean XMLOUT and writes no invoice."""
    body = xml(await company.post(user_id, "APSTIN", invoice_doc(),
                                  ap_parameters(ValidateOnly="Y")))
    assert body.findtext("StatusOfItems/ItemsInvalid") == "000000"
    assert await company.rows("ApInvoice") == []


async def test_apply_if_entire_document_valid_posts_nothing_when_one_item_fails(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 3: ApplyIfEntireDocumentValid=Y and one bad item: no item is written."""
    good = invoice_doc("INV-OK").removesuffix("</PostApInvoice>")
    bad = invoice_doc("INV-BAD", supplier="9999").removeprefix("<PostApInvoice>")
    await company.post(user_id, "APSTIN", good + bad, ap_parameters(ApplyIfEntireDocumentValid="Y"))
    assert await company.rows("ApInvoice") == []


async def test_without_the_entire_document_flag_valid_items_post_alone(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 3: ApplyIfEntireDocumentValid=N writes the valid items and reports the bad one."""
    good = invoice_doc("INV-OK").removesuffix("</PostApInvoice>")
    bad = invoice_doc("INV-BAD", supplier="9999").removeprefix("<PostApInvoice>")
    body = xml(await company.post(user_id, "APSTIN", good + bad,
                                  ap_parameters(ApplyIfEntireDocumentValid="N")))
    assert body.findtext("StatusOfItems/ItemsProcessed") == "000001"
    assert [row["Invoice"] for row in await company.rows("ApInvoice")] == ["INV-OK"]


async def test_malformed_xmlin_answers_error_text(company: SysproCompany, user_id: str) -> None:
    """Malformed XMLIN is refused with HTTP 200 'ERROR: … not well-formed', nothing posted."""
    status, _, body = await company.enet(
        "Transaction/Post", UserId=user_id, BusinessObject="APSTIN",
        XmlIn="<PostApInvoice><Item></PostApInvoice>",
    )
    assert status == 200 and body.startswith("ERROR: XmlIn is not well-formed XML")


async def test_xmlin_declaring_a_dtd_is_refused(company: SysproCompany, user_id: str) -> None:
    """An XMLIN with a DTD (entity expansion) is refused before anything is read."""
    doc = '<!DOCTYPE PostApInvoice [<!ENTITY x "INV">]>' + invoice_doc("&x;")
    body = await company.post(user_id, "APSTIN", doc, ap_parameters())
    assert body.startswith("ERROR: XmlIn is refused: the document declares a DTD")


async def test_an_xmlin_with_the_wrong_root_answers_error(
    company: SysproCompany, user_id: str
) -> None:
    """An XMLIN whose root is not the business object's answers ERROR text."""
    body = await company.post(user_id, "APSTIN", adjustment_doc(), ap_parameters())
    assert body == "ERROR: XmlIn root element <PostInvAdjustments> is not <PostApInvoice>"


# -- rule 4: APSTIN and APSSSP ---------------------------------------------------------------
async def test_apstin_refuses_an_invoice_whose_supplier_and_number_exist(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 4: a second I invoice with the same supplier + invoice number is a per-field error."""
    await company.post(user_id, "APSTIN", invoice_doc("INV-7"), ap_parameters())
    body = await company.post(user_id, "APSTIN", invoice_doc("INV-7"), ap_parameters())
    assert field_error(body, "invoice") == (
        "INV-7", "240010", "Invoice 'INV-7' already exists for supplier '0001'"
    )
    assert len(await company.rows("ApInvoice")) == 1


async def test_the_same_invoice_number_is_fine_for_another_supplier(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 4: the natural key is supplier + invoice: another supplier may reuse the number."""
    await company.post(user_id, "APSTIN", invoice_doc("INV-7"), ap_parameters())
    await company.post(user_id, "APSTIN", invoice_doc("INV-7", supplier="0002"), ap_parameters())
    assert len(await company.rows("ApInvoice")) == 2


async def test_duplicate_invoice_knob_allow_posts_a_second_invoice(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 4 (knob): duplicate_invoice=allow posts the same supplier + number twice."""
    await company.knobs(duplicate_invoice="allow")
    for _ in range(2):
        await company.post(user_id, "APSTIN", invoice_doc("INV-7"), ap_parameters())
    assert len(await company.rows("ApInvoice")) == 2


async def test_apstin_unknown_supplier_is_a_per_field_error(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 4: an unknown supplier is an error under <supplier>, nothing posted."""
    body = await company.post(user_id, "APSTIN", invoice_doc(supplier="NOPE"), ap_parameters())
    assert field_error(body, "supplier")[2] == "Supplier 'NOPE' not found"
    assert await company.rows("ApInvoice") == []


async def test_apstin_unknown_ledger_code_is_a_per_field_error(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 4: a distribution line with an unknown GL code is an error under <ledgercode>."""
    body = await company.post(user_id, "APSTIN", invoice_doc(ledger="99-9999"), ap_parameters())
    assert field_error(body, "ledgercode") == (
        "99-9999", "240004", "Ledger code '99-9999' not found"
    )


async def test_apstin_refuses_a_post_into_a_closed_period(
    company: SysproCompany, user_id: str
) -> None:
    """Knob closed_periods: the period PostingPeriod picks must be open."""
    await company.knobs(company_date="2024-06-20", closed_periods=["2024-05"])
    body = await company.post(user_id, "APSTIN", invoice_doc(), ap_parameters(PostingPeriod="P"))
    assert field_error(body, "invoicedate")[2] == "AP period 2024/05 is closed"
    current = await company.post(user_id, "APSTIN", invoice_doc(), ap_parameters())
    assert xml(current)[0].findtext("trnmonth") == "6"


async def test_apstin_distribution_must_balance_to_the_value_less_tax(
    company: SysproCompany, user_id: str
) -> None:
    """Knob require_balanced_distribution: GL lines must add up to value less tax."""
    body = await company.post(user_id, "APSTIN", invoice_doc(tax="0.00"), ap_parameters())
    assert "Distribution total 100.00" in field_error(body, "transactionvalue")[2]


async def test_apsssp_add_on_an_existing_supplier_is_an_error(
    company: SysproCompany, user_id: str
) -> None:
    """Rule 4: Setup/Add of a supplier on file errs under <supplier>, beside the echoed <key>."""
    body = await company.setup("Add", user_id, supplier_doc("0001"))
    item = xml(body)[0]
    assert item.findtext("key/supplier") == "0001"
    assert item.findtext("supplier/ErrorDescription") == "Supplier '0001' already exists"


async def test_apsssp_add_then_update_then_query(company: SysproCompany, user_id: str) -> None:
    """APSSSP adds a supplier and updates it; ApSupplier shows the new values."""
    await company.setup("Add", user_id, supplier_doc("ST100", Currency="USD"))
    await company.setup("Update", user_id, supplier_doc("ST100", "Acme HVAC &amp; Sons"))
    row = next(r for r in await company.rows("ApSupplier") if r["Supplier"] == "ST100")
    assert (row["SupplierName"], row["Currency"]) == ("Acme HVAC & Sons", "USD")


async def test_apsssp_update_of_an_unknown_supplier_is_an_error(
    company: SysproCompany, user_id: str
) -> None:
    """Setup/Update of a supplier not on file is refused."""
    body = await company.setup("Update", user_id, supplier_doc("NOPE"))
    assert xml(body)[0].findtext("supplier/ErrorDescription") == "Supplier 'NOPE' not found"


# -- INVTMA, PORTOI ------------------------------------------------------------------------
async def test_invtma_posts_an_adjustment_with_journals(
    company: SysproCompany, user_id: str
) -> None:
    """INVTMA moves stock and answers Journal and GlJournal; the movement keeps its Reference."""
    body = xml(await company.post(user_id, "INVTMA", adjustment_doc(quantity="-5")))
    assert (body[0].findtext("journal"), body[0].findtext("gljournal")) == ("1", "1")
    (movement,) = await company.rows("InvMovements")
    assert (movement["Reference"], movement["TrnQty"]) == ("ST-ADJ-1", "-5")


async def test_invtma_unknown_stock_code_and_negative_stock_are_refused(
    company: SysproCompany, user_id: str
) -> None:
    """INVTMA refuses an unknown stock code and a quantity taking stock below zero."""
    unknown = await company.post(user_id, "INVTMA", adjustment_doc(stock="ZZZ"))
    assert field_error(unknown, "stockcode")[2] == "Stock code 'ZZZ' not found"
    short = await company.post(user_id, "INVTMA", adjustment_doc(quantity="-500"))
    assert field_error(short, "quantity")[2].startswith("Insufficient quantity on hand")


async def test_portoi_adds_a_po_and_refuses_the_same_number_again(
    company: SysproCompany, user_id: str
) -> None:
    """PORTOI answers Order/Key/PurchaseOrder; adding that number again is refused."""
    body = xml(await company.post(user_id, "PORTOI", order_doc("ST-PO-1")))
    assert body[0].tag == "order" and body[0].findtext("key/purchaseorder") == "ST-PO-1"
    again = await company.post(user_id, "PORTOI", order_doc("ST-PO-1"))
    assert field_error(again, "purchaseorder")[2] == "Purchase order 'ST-PO-1' already exists"
    assert len(await company.rows("PorMasterDetail")) == 1


async def test_portoi_numbers_a_po_sent_without_a_number(
    company: SysproCompany, user_id: str
) -> None:
    """PORTOI with a blank PurchaseOrder assigns the next number and answers it in the key."""
    body = xml(await company.post(user_id, "PORTOI", order_doc("")))
    assert body[0].findtext("key/purchaseorder") == "000001"


# -- COMFND ----------------------------------------------------------------------------------
def find_doc(table: str, where: str, columns: str = "") -> str:
    listed = "".join(f"<Column>{c}</Column>" for c in columns.split(",") if c)
    return (
        f"<Query><TableName>{table}</TableName><ReturnRows>10</ReturnRows>"
        f"<Columns>{listed}</Columns><Where>{where}</Where></Query>"
    )


def expression(column: str, value: str, and_or: str = "", condition: str = "EQ") -> str:
    joiner = f"<AndOr>{and_or}</AndOr>" if and_or else ""
    return (
        f"<Expression>{joiner}<Column>{column}</Column><Condition>{condition}</Condition>"
        f"<Value>{value}</Value></Expression>"
    )


async def test_comfnd_finds_an_invoice_by_supplier_and_number(
    company: SysproCompany, user_id: str
) -> None:
    """COMFND answers rows of ApInvoice under a root named after the table, rows space-padded."""
    await company.post(user_id, "APSTIN", invoice_doc("INV-9"), ap_parameters())
    where = expression("Supplier", "0001") + expression("Invoice", "INV-9", "And")
    body = await company.query(user_id, find_doc("ApInvoice", where, "Invoice,Journal"))
    root = xml(body)
    assert root.tag == "ApInvoice"
    assert root.findtext("Row/Journal") == "1"
    assert root.findtext("RowsReturned") == "       1"


async def test_comfnd_refuses_an_sql_where_string(company: SysproCompany, user_id: str) -> None:
    """COMFND accepts Expression blocks only: SQL text in <Where> answers ERROR."""
    body = await company.query(user_id, find_doc("ApSupplier", "Supplier = '0001'"))
    assert body == "ERROR: Where may hold only Expression blocks; SQL text is not accepted"


async def test_apsssp_delete_refuses_a_supplier_with_invoices(
    company: SysproCompany, user_id: str
) -> None:
    """Setup/Delete removes a supplier without invoices and refuses one that has some."""
    await company.post(user_id, "APSTIN", invoice_doc(), ap_parameters())
    refused = await company.setup("Delete", user_id, supplier_doc("0001"))
    assert xml(refused)[0].findtext("supplier/ErrorDescription") == (
        "Supplier '0001' has invoices and cannot be deleted"
    )
    await company.setup("Delete", user_id, supplier_doc("0002"))
    assert [row["Supplier"] for row in await company.rows("ApSupplier")] == ["0001"]
