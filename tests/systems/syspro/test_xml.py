"""SYSPRO client, XML in and out: documents built from the models round-trip through a real
parser with the sheet's element names, and recorded XMLOUT shapes yield their errors and
counts (no network)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.errors import InDoubtError, RejectedError
from connector.safexml import parse_xml
from connector.systems.syspro import documents, xmlout
from connector.systems.syspro.documents import Condition
from connector.systems.syspro.models import (
    ApInvoice,
    InventoryAdjustment,
    LedgerLine,
    PostOptions,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)

#: The shape of a recorded SYSPRO 7 setup answer (INVSWS, stock code unknown): lower-cased
#: root and items, the key echoed, the error under the blamed field, a trailing "\n ".
RECORDED_SETUP_ERROR = (
    b'<?xml version="1.0" encoding="Windows-1252"?>\n<setupinvwarehouse Language=\'05\' '
    b"Language2='EN' CssStyle='' DecFormat='1' DateFormat='01' Role='01' Version='7.0.026' "
    b"OperatorPrimaryRole='   '>\n<item>\n<key>\n<stockcode>1004</stockcode>\n<warehouse>P0"
    b"</warehouse>\n</key>\n<stockcode>\n<Value>1004</Value>\n<ErrorNumber>240004</ErrorNumber>"
    b"\n<ErrorDescription>Stock code '1004' not found</ErrorDescription>\n</stockcode>\n"
    b"</item>\n<StatusOfItems>\n<RecordsRead>1</RecordsRead>\n<RecordsInvalid>1</RecordsInvalid>"
    b"\n</StatusOfItems>\n</setupinvwarehouse>\n "
)
#: The shape of a recorded COMFND answer: the table as root, a space-padded row count.
RECORDED_COMFND = (
    b'<?xml version="1.0" encoding="Windows-1252"?>\n<InvMaster Language=\'05\' Version='
    b"'7.0.048'>\n<HeaderDetails>\n<TableName>InvMaster</TableName>\n</HeaderDetails>\n<Row>\n"
    b"<StockCode>02</StockCode>\n</Row>\n<RowsReturned>       1</RowsReturned>\n</InvMaster>\n "
)


def test_ap_invoice_document_round_trips_with_the_sheet_element_names() -> None:
    """APSTIN XMLIN: PostApInvoice/Item with Supplier, Invoice, values and LedgerDistribution."""
    document = documents.ap_invoice(ApInvoice(
        supplier="0001", invoice="INV-1", invoice_date=dt.date(2024, 6, 12),
        value=Decimal("1E+2"), tax_value=Decimal("0"), reference="bill <88812> & co",
        lines=(LedgerLine(ledger_code="60-3000", value=Decimal("100"), tax_code="A"),),
    ))
    item = parse_xml(document).find("Item")
    assert item is not None
    assert [child.tag for child in item] == [
        "Supplier", "TransactionCode", "Invoice", "TransactionValue", "InvoiceDate",
        "TaxValue", "TransactionReference", "LedgerDistribution",
    ]
    assert item.findtext("TransactionValue") == "100"
    assert item.findtext("InvoiceDate") == "2024-06-12"
    assert item.findtext("TransactionReference") == "bill <88812> & co"
    assert item.findtext("LedgerDistribution/LedgerTaxCode") == "A"


def test_parameters_carry_the_common_flags() -> None:
    """XmlParameters: <Root><Parameters> with the common flags as Y/N (and PostingPeriod)."""
    root = parse_xml(documents.parameters("PostApInvoice", PostOptions(validate_only=True),
                                          posting_period=True))
    flags = {child.tag: child.text for child in root.find("Parameters") or []}
    assert flags == {"PostingPeriod": "C", "IgnoreWarnings": "N",
                     "ApplyIfEntireDocumentValid": "Y", "ValidateOnly": "Y"}


def test_supplier_document_keys_the_code_and_skips_unset_fields() -> None:
    """APSSSP XMLIN: Item/Key/Supplier; None fields are left out so Update leaves them."""
    root = parse_xml(documents.supplier(Supplier(code="ST1", name="A & B", address=("1 Main",),
                                                 on_hold=True)))
    item = root.find("Item")
    assert item is not None and item.findtext("Key/Supplier") == "ST1"
    assert [c.tag for c in item] == ["Key", "SupplierName", "SupAddr1", "OnHold"]
    assert item.findtext("OnHold") == "Y"


def test_a_supplier_with_six_address_lines_is_refused() -> None:
    """SYSPRO has SupAddr1..5: a sixth line is an error before any XML is sent."""
    with pytest.raises(ValueError, match="SupAddr1..SupAddr5"):
        documents.supplier(Supplier(code="X", address=("a",) * 6))


def test_purchase_order_document_layout() -> None:
    """PORTOI XMLIN: Orders/OrderHeader (action A, PO number) and OrderDetails/StockLine."""
    root = parse_xml(documents.purchase_order(PurchaseOrder(
        number="PO-1", supplier="0002", order_date=dt.date(2024, 6, 1), warehouse="FG",
        lines=(PurchaseOrderLine(line=1, stock_code="A100", quantity=Decimal(2),
                                 price=Decimal("9.5")),),
    )))
    assert root.tag == "PostPurchaseOrders"
    assert root.findtext("Orders/OrderHeader/OrderActionType") == "A"
    assert root.findtext("Orders/OrderHeader/PurchaseOrder") == "PO-1"
    assert root.findtext("Orders/OrderDetails/StockLine/Warehouse") == "FG"


def test_inventory_adjustment_document_layout() -> None:
    """INVTMA XMLIN: PostInvAdjustments/Item with a signed Quantity and the Reference."""
    root = parse_xml(documents.inventory_adjustment(InventoryAdjustment(
        warehouse="FG", stock_code="A100", quantity=Decimal("-2.5"), reference="R1")))
    assert root.findtext("Item/Quantity") == "-2.5" and root.findtext("Item/Reference") == "R1"


def test_comfnd_document_uses_expression_blocks_only() -> None:
    """COMFND XMLIN: TableName, Columns and ANDed Expression blocks; a value is data, not SQL."""
    root = parse_xml(documents.comfnd(
        "ApInvoice", [Condition("Supplier", "0001"), Condition("Invoice", "x' OR '1'='1")],
        ["Invoice"],
    ))
    expressions = root.findall("Where/Expression")
    assert [e.findtext("AndOr") for e in expressions] == [None, "And"]
    assert expressions[1].findtext("Value") == "x' OR '1'='1"


def test_recorded_setup_error_yields_field_number_and_description() -> None:
    """The recorded setup XMLOUT gives field 'stockcode', value, number 240004 and the text."""
    root = xmlout.parse(RECORDED_SETUP_ERROR, what="INVSWS Setup/Add", record="x", write=True)
    assert xmlout.field_errors(root) == [
        xmlout.FieldError("stockcode", "1004", "240004", "Stock code '1004' not found")
    ]
    assert xmlout.count(root, "RecordsInvalid") == 1
    with pytest.raises(RejectedError) as caught:
        xmlout.raise_for_field_errors(root, what="INVSWS Setup/Add", record="stock 1004")
    assert (caught.value.field, caught.value.code, caught.value.record) == (
        "stockcode", "240004", "stock 1004"
    )


def test_recorded_comfnd_answer_reads_case_insensitively_with_padded_counts() -> None:
    """Tags are lower-cased once; '       1' counts as 1."""
    root = xmlout.parse(RECORDED_COMFND, what="COMFND query", record=None, write=False)
    assert root.tag == "invmaster" and root.findtext("row/stockcode") == "02"
    assert xmlout.count(root, "RowsReturned") == 1


def test_error_text_is_recognised_whatever_its_case() -> None:
    """'ERROR: …' bodies are refusals; UserId bodies and XML are not."""
    assert xmlout.error_text(b"ERROR: Invalid operator password") == "Invalid operator password"
    assert xmlout.is_invalid_session(xmlout.error_text(
        b"ERROR: The supplied UserID is invalid.") or "")
    assert xmlout.error_text(b"BE36CA1559EBC34985FC2D5EF166D75B00  ") is None


def test_an_answer_that_is_not_xml_is_in_doubt_for_a_write() -> None:
    """A garbled answer to a post may hide a posted document: InDoubtError, not a retry."""
    with pytest.raises(InDoubtError):
        xmlout.parse(b"<postapinvoice><item>", what="APSTIN post", record="r", write=True)
    with pytest.raises(RejectedError):
        xmlout.parse(b"<Query><Row>", what="COMFND query", record="r", write=False)
