"""SYSPRO client, business objects over loopback HTTP: posts answer their journals, refusals
name record, field and error number, find_* asks SYSPRO live, and a post whose answer is lost
is in doubt until a query settles it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.errors import InDoubtError, RejectedError
from connector.systems.syspro.models import (
    ApInvoice,
    InventoryAdjustment,
    LedgerLine,
    PostOptions,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from tests.systems.syspro.conftest import SysproSandbox


def invoice(number: str = "ST-INV-1001", supplier: str = "0001", **changes: object) -> ApInvoice:
    values: dict[str, object] = {
        "supplier": supplier,
        "invoice": number,
        "invoice_date": dt.date(2024, 6, 12),
        "due_date": dt.date(2024, 7, 12),
        "value": Decimal("1100.00"),
        "tax_value": Decimal("100.00"),
        "tax_code": "A",
        "reference": "servicetitan bill 88812",
        "lines": (
            LedgerLine(ledger_code="60-3000", value=Decimal("600.00")),
            LedgerLine(ledger_code="60-3100", value=Decimal("400.00"), notation="Truck 4"),
        ),
    }
    values.update(changes)
    return ApInvoice(**values)  # type: ignore[arg-type]


def order(number: str = "ST-PO-77") -> PurchaseOrder:
    return PurchaseOrder(
        number=number,
        supplier="0002",
        order_date=dt.date(2024, 6, 12),
        warehouse="FG",
        lines=(
            PurchaseOrderLine(line=1, stock_code="A100", quantity=Decimal(2),
                              price=Decimal("899.5")),
            PurchaseOrderLine(line=2, stock_code="B200", quantity=Decimal(10),
                              price=Decimal("42")),
        ),
    )


async def test_post_ap_invoice_answers_its_journal_and_find_sees_it(
    syspro: SysproSandbox,
) -> None:
    """APSTIN answers Journal/TrnYear/TrnMonth; find_ap_invoice then returns the invoice."""
    await syspro.knobs(company_date="2024-06-20")
    async with syspro.connect().session() as client:
        assert await client.find_ap_invoice("0001", "ST-INV-1001") is None
        posted = await client.post_ap_invoice(invoice())
        found = await client.find_ap_invoice("0001", "ST-INV-1001")
    assert (posted.journal, posted.year, posted.month) == (1, 2024, 6)
    assert found is not None
    assert (found.orig_inv_value, found.invoice_date, found.journal) == (
        Decimal("1100.00"), dt.date(2024, 6, 12), 1
    )
    assert found.reference == "servicetitan bill 88812"


async def test_a_refused_invoice_names_record_field_and_error_number(
    syspro: SysproSandbox,
) -> None:
    """An unknown supplier (HTTP 200, per-field error) is RejectedError on field 'supplier'."""
    async with syspro.connect().session() as client:
        with pytest.raises(RejectedError) as caught:
            await client.post_ap_invoice(invoice(supplier="9999"))
    error = caught.value
    assert (error.field, error.code) == ("supplier", "240004")
    assert error.record == "AP invoice ST-INV-1001 of supplier 9999"
    assert "Supplier '9999' not found" in str(error) and "Nothing was posted" in str(error)
    assert await syspro.rows("ApInvoice") == []


async def test_a_second_post_of_the_same_invoice_is_refused(syspro: SysproSandbox) -> None:
    """SYSPRO refuses supplier + invoice twice; the error blames the 'invoice' field."""
    async with syspro.connect().session() as client:
        await client.post_ap_invoice(invoice())
        with pytest.raises(RejectedError) as caught:
            await client.post_ap_invoice(invoice())
    assert caught.value.field == "invoice"
    assert len(await syspro.rows("ApInvoice")) == 1


async def test_validate_only_checks_without_posting(syspro: SysproSandbox) -> None:
    """PostOptions(validate_only=True) raises on errors but writes nothing when valid."""
    async with syspro.connect().session() as client:
        posted = await client.post_ap_invoice(invoice(), PostOptions(validate_only=True))
        with pytest.raises(RejectedError, match="Ledger code '99-0000' not found"):
            await client.post_ap_invoice(
                invoice(lines=(LedgerLine(ledger_code="99-0000", value=Decimal(1000)),)),
                PostOptions(validate_only=True),
            )
    assert posted.journal == 0
    assert await syspro.rows("ApInvoice") == []


async def test_the_lost_answer_of_a_post_is_in_doubt_and_settled_by_query(
    syspro: SysproSandbox,
) -> None:
    """A committed post whose answer is lost is InDoubtError, and find_ap_invoice finds it."""
    await syspro.knobs(
        hang_s=0.1,
        script=[{"fault": "timeout_after_commit", "match": "write", "path_contains": "APSTIN"}],
    )
    async with syspro.connect().session() as client:
        with pytest.raises(InDoubtError, match="natural key"):
            await client.post_ap_invoice(invoice())
        settled = await client.find_ap_invoice("0001", "ST-INV-1001")
    assert settled is not None and settled.journal == 1
    assert len(await syspro.rows("ApInvoice")) == 1


async def test_a_post_refused_by_a_dropped_session_is_resent_once_after_logon(
    syspro: SysproSandbox,
) -> None:
    """A post answered 'UserID is invalid' ran nothing, so it is resent once on a new UserId."""
    async with syspro.connect().session() as client:
        await syspro.admin("POST", "reset")  # the server forgets every session
        await client.post_ap_invoice(invoice())
        assert client.session.logons == 2
    assert len(await syspro.rows("ApInvoice")) == 1


async def test_supplier_add_update_and_find_keep_special_characters(
    syspro: SysproSandbox,
) -> None:
    """APSSSP add and update, names with & < > ' survive the XML both ways; find reads them."""
    supplier = Supplier(code="ST1001", name="Smith & Sons <HVAC> 'North'", currency="USD",
                        address=("1 Main St", "Springfield"), on_hold=False)
    async with syspro.connect().session() as client:
        assert await client.find_supplier("ST1001") is None
        await client.add_supplier(supplier)
        await client.update_supplier(Supplier(code="ST1001", terms_code="60"))
        found = await client.find_supplier("ST1001")
        with pytest.raises(RejectedError, match="Supplier 'ST1001' already exists"):
            await client.add_supplier(supplier)
    assert found is not None
    assert (found.supplier_name, found.currency, found.terms_code) == (
        "Smith & Sons <HVAC> 'North'", "USD", "60"
    )


async def test_post_purchase_order_answers_its_number_and_find_sees_it(
    syspro: SysproSandbox,
) -> None:
    """PORTOI answers Order/Key/PurchaseOrder; find_purchase_order reads the header back."""
    async with syspro.connect().session() as client:
        number = await client.post_purchase_order(order())
        found = await client.find_purchase_order("ST-PO-77")
    assert number == "ST-PO-77"
    assert found is not None
    assert (found.supplier, found.order_date) == ("0002", dt.date(2024, 6, 12))
    assert len(await syspro.rows("PorMasterDetail")) == 2


async def test_post_inventory_adjustment_and_find_by_reference(syspro: SysproSandbox) -> None:
    """INVTMA answers its journals; find_inventory_adjustments finds it by reference."""
    adjustment = InventoryAdjustment(warehouse="FG", stock_code="A100", quantity=Decimal(-3),
                                     reference="ST-ADJ-55", ledger_code="10-3000")
    async with syspro.connect().session() as client:
        posted = await client.post_inventory_adjustment(adjustment)
        found = await client.find_inventory_adjustments("ST-ADJ-55", stock_code="A100")
    assert (posted.journal, posted.gl_journal) == (1, 1)
    assert [(m.warehouse, m.trn_qty) for m in found] == [("FG", Decimal(-3))]


async def test_a_document_too_long_for_one_get_is_refused_before_sending(
    syspro: SysproSandbox,
) -> None:
    """A post whose URL would pass max_url_bytes is RejectedError 'too_large', never sent."""
    lines = tuple(LedgerLine(ledger_code="60-3000", value=Decimal(1), notation="x" * 40)
                  for _ in range(60))
    connection = syspro.connect(max_url_bytes=4096)
    async with connection.session() as client:
        with pytest.raises(RejectedError) as caught:
            await client.post_ap_invoice(invoice(value=Decimal(60), tax_value=Decimal(0),
                                                 lines=lines))
    assert caught.value.code == "too_large"
    assert (await syspro.admin("GET", "state"))["counters"]["posts"] == 0


async def test_a_5xx_on_a_post_is_in_doubt_and_a_lookup_clears_the_resend(
    syspro: SysproSandbox,
) -> None:
    """A 503 on a post is InDoubtError; a lookup finding nothing clears one resend."""
    await syspro.knobs(script=[{"fault": "5xx", "match": "write"}], status_5xx=503)
    async with syspro.connect().session() as client:
        with pytest.raises(InDoubtError):
            await client.post_ap_invoice(invoice())
        assert await client.find_ap_invoice("0001", "ST-INV-1001") is None
        posted = await client.post_ap_invoice(invoice())
    assert posted.journal == 1 and len(await syspro.rows("ApInvoice")) == 1
