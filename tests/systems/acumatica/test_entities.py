"""Acumatica entities through the client: round trips, upserts, refusals, incremental reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.errors import AuthError, ConflictError, InDoubtError, RejectedError
from connector.systems.acumatica import AcumaticaConnection
from connector.systems.acumatica import models as m
from connector.systems.acumatica.client import odata_string
from tests.systems.acumatica.conftest import Sandbox


def new_bill(vendor: str = "V10001", vendor_ref: str = "INV-1001", **changes: object) -> m.Bill:
    """A two-line bill on seeded vendor, accounts and subaccounts."""
    fields: dict[str, object] = {
        "type": "Bill",
        "vendor": vendor,
        "vendor_ref": vendor_ref,
        "branch_id": "NORTH",
        "date": dt.date(2026, 1, 15),
        "due_date": dt.date(2026, 2, 14),
        "description": "Materials for job 4410",
        "hold": False,
        "details": [
            m.BillDetail(
                inventory_id="COIL-3T",
                transaction_description="Evaporator coil",
                qty=Decimal("2"),
                unit_cost=Decimal("412.50"),
                account="50000",
                subaccount="HVAC-NORTH",
                branch="NORTH",
                po_order_nbr="PO000123",
            ),
            m.BillDetail(
                transaction_description="Freight",
                qty=Decimal("1"),
                unit_cost=Decimal("35.10"),
                account="50100",
                subaccount="HVAC-NORTH",
            ),
        ],
    }
    return m.Bill(**(fields | changes))  # type: ignore[arg-type]


def new_invoice(customer: str = "C20001", order: str = "ST-88812") -> m.Invoice:
    """A one-line AR invoice for a seeded customer."""
    return m.Invoice(
        type="Invoice",
        customer=customer,
        customer_order=order,
        date=dt.date(2026, 1, 20),
        description="Service call 88812",
        hold=False,
        details=[
            m.InvoiceDetail(
                transaction_description="Diagnostic",
                qty=Decimal("2"),
                unit_price=Decimal("129.99"),
                account="40000",
                subaccount="HVAC-SOUTH",
                branch="SOUTH",
            )
        ],
    )


# -- round trips ----------------------------------------------------------------------------
async def test_customer_round_trip(sandbox: Sandbox, acumatica: AcumaticaConnection) -> None:
    """Plain fields and the nested contact/address are stored plain and read back equal."""
    customer = m.Customer(
        customer_id="c30001",
        customer_name="O'Hara Dental Office",
        customer_class="DEFAULT",
        terms="30D",
        main_contact=m.Contact(
            email="ap@ohara.example.com",
            address=m.Address(
                address_line1="12 Main St",
                city="Denver",
                state="CO",
                postal_code="80202",
                country="US",
            ),
        ),
    )
    stored = await acumatica.client.put(m.Customer, customer)
    assert stored.customer_id == "C30001"  # keys are entered upper-case
    assert stored.status == "Active" and stored.last_modified_date_time is not None
    read = await acumatica.client.get(m.Customer, "C30001")
    assert read is not None and read.main_contact is not None
    assert read.customer_name == "O'Hara Dental Office"
    assert read.main_contact.email == "ap@ohara.example.com"
    assert read.main_contact.address is not None
    assert read.main_contact.address.city == "Denver"
    raw = next(r for r in await sandbox.records("Customer") if r["CustomerID"] == "C30001")
    assert raw["MainContact"]["Address"]["PostalCode"] == "80202"  # stored plain


async def test_vendor_round_trip(acumatica: AcumaticaConnection) -> None:
    """A vendor written plain is read back with the same values."""
    vendor = m.Vendor(
        vendor_id="V90001",
        vendor_name="Summit Supply",
        vendor_class="SUPPLIER",
        terms="30D",
        main_contact=m.Contact(email="ar@summit.example.com"),
    )
    await acumatica.client.put(m.Vendor, vendor)
    read = await acumatica.client.find_vendor("V90001")
    assert read is not None and read.main_contact is not None
    assert (read.vendor_name, read.vendor_class, read.terms) == ("Summit Supply", "SUPPLIER", "30D")
    assert read.main_contact.email == "ar@summit.example.com"


async def test_account_and_subaccount_round_trip(acumatica: AcumaticaConnection) -> None:
    """GL accounts and subaccounts keep their codes, types and flags."""
    client = acumatica.client
    await client.put(
        m.Account,
        m.Account(
            account_cd="70100", description="Warranty Expense", type="Expense", cash_account=False
        ),
    )
    await client.put(
        m.Subaccount, m.Subaccount(subaccount_cd="WARR-HQ", description="Warranty, HQ")
    )
    account = await client.get(m.Account, "70100")
    subaccount = await client.get(m.Subaccount, "WARR-HQ")
    assert account is not None and subaccount is not None
    assert (account.description, account.type, account.cash_account, account.active) == (
        "Warranty Expense",
        "Expense",
        False,
        True,
    )
    assert (subaccount.description, subaccount.active) == ("Warranty, HQ", True)


async def test_bill_round_trip_with_lines(sandbox: Sandbox, acumatica: AcumaticaConnection) -> None:
    """A bill gets its number and totals; lines, dates and decimals read back exactly."""
    stored = await acumatica.client.put(m.Bill, new_bill())
    assert stored.reference_nbr and stored.amount == Decimal("860.10")
    assert stored.status == "Balanced"
    read = await acumatica.client.get(m.Bill, "Bill", stored.reference_nbr)
    assert read is not None and read.details is not None
    assert (read.vendor, read.vendor_ref, read.branch_id) == ("V10001", "INV-1001", "NORTH")
    assert (read.date, read.due_date) == (dt.date(2026, 1, 15), dt.date(2026, 2, 14))
    first, second = read.details
    assert (first.qty, first.unit_cost, first.extended_cost) == (
        Decimal("2"),
        Decimal("412.50"),
        Decimal("825.0"),
    )
    assert (first.account, first.subaccount, first.po_order_nbr) == (
        "50000",
        "HVAC-NORTH",
        "PO000123",
    )
    assert second.branch == "NORTH"  # defaulted from the header
    (raw,) = await sandbox.records("Bill")
    assert raw["Details"][0]["UnitCost"] == 412.5  # the simulator stored plain numbers


async def test_invoice_round_trip(acumatica: AcumaticaConnection) -> None:
    """An AR invoice with a line reads back with computed amounts and its customer order."""
    stored = await acumatica.client.put(m.Invoice, new_invoice())
    assert stored.reference_nbr and stored.amount == Decimal("259.98")
    found = await acumatica.client.find_invoice("C20001", "ST-88812")
    assert found is not None and found.details is not None
    assert found.reference_nbr == stored.reference_nbr
    assert found.details[0].unit_price == Decimal("129.99")
    assert found.details[0].branch == "SOUTH"


async def test_payment_round_trip(sandbox: Sandbox, acumatica: AcumaticaConnection) -> None:
    """A payment applied to an invoice reads back with its application and reference."""
    await sandbox.knobs(applications_require_release=False)
    invoice = await acumatica.client.put(m.Invoice, new_invoice())
    payment = m.Payment(
        type="Payment",
        customer_id="C20001",
        payment_method="CHECK",
        cash_account="10100",
        payment_amount=Decimal("259.98"),
        payment_ref="CHK-5512",
        application_date=dt.date(2026, 1, 25),
        documents_to_apply=[
            m.PaymentDetail(
                doc_type="Invoice",
                reference_nbr=invoice.reference_nbr,
                amount_paid=Decimal("259.98"),
            )
        ],
    )
    await acumatica.client.put(m.Payment, payment)
    read = await acumatica.client.find_payment("C20001", "CHK-5512")
    assert read is not None and read.documents_to_apply is not None
    assert read.application_date == dt.date(2026, 1, 25)
    assert read.payment_amount == Decimal("259.98")
    assert read.applied_to_documents == Decimal("259.98")
    assert read.documents_to_apply[0].reference_nbr == invoice.reference_nbr


async def test_branches_come_from_the_companies_structure(
    acumatica: AcumaticaConnection,
) -> None:
    """Branch codes are read from the CompaniesStructure inquiry."""
    branches = await acumatica.client.branches()
    assert {b.branch_id for b in branches} == {"HQ", "NORTH", "SOUTH"}
    assert all(b.branch_name for b in branches)


# -- create or update -----------------------------------------------------------------------
async def test_put_with_the_same_key_twice_updates_one_record(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """PUT is an upsert by key: the second write changes the record, not adds one."""
    client = acumatica.client
    before = len(await sandbox.records("Vendor"))
    await client.put(m.Vendor, m.Vendor(vendor_id="V90002", vendor_name="Keystone Parts"))
    await client.put(m.Vendor, m.Vendor(vendor_id="V90002", vendor_name="Keystone Parts Co."))
    vendors = await sandbox.records("Vendor")
    assert len(vendors) == before + 1
    read = await client.get(m.Vendor, "V90002")
    assert read is not None and read.vendor_name == "Keystone Parts Co."


async def test_document_update_by_reference_number_keeps_one_bill(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """A bill PUT with its ReferenceNbr updates that bill."""
    stored = await acumatica.client.put(m.Bill, new_bill())
    update = m.Bill(type="Bill", reference_nbr=stored.reference_nbr, description="Revised")
    updated = await acumatica.client.put(m.Bill, update)
    assert updated.reference_nbr == stored.reference_nbr and updated.description == "Revised"
    assert len(await sandbox.records("Bill")) == 1


async def test_insert_only_put_on_an_existing_record_is_a_conflict(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """If-None-Match: * on an existing key raises ConflictError meaning "already exists"."""
    client = acumatica.client
    created = await client.put(
        m.Customer,
        m.Customer(customer_id="C30002", customer_name="Lee Residence"),
        insert_only=True,
    )
    assert created.customer_id == "C30002"
    with pytest.raises(ConflictError) as caught:
        await client.put(
            m.Customer, m.Customer(customer_id="C30002", customer_name="Other"), insert_only=True
        )
    assert "already exists" in str(caught.value)
    read = await client.get(m.Customer, "C30002")
    assert read is not None and read.customer_name == "Lee Residence"


# -- refusals -------------------------------------------------------------------------------
async def test_unknown_vendor_on_a_bill_names_the_field(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """A 422 about the header's vendor is a RejectedError with field "Vendor"."""
    with pytest.raises(RejectedError) as caught:
        await acumatica.client.put(m.Bill, new_bill(vendor="NOSUCHVENDOR"))
    error = caught.value
    assert error.field == "Vendor" and error.code == "http_422"
    assert "cannot be found" in error.message and "NOSUCHVENDOR" in error.message
    assert error.record == "bill ref INV-1001 of vendor NOSUCHVENDOR"
    assert await sandbox.records("Bill") == []


async def test_unknown_account_on_a_line_names_the_detail_field(
    acumatica: AcumaticaConnection,
) -> None:
    """A 422 about a detail line's account names Details[i].Account."""
    bill = new_bill()
    assert bill.details is not None
    lines = [bill.details[0], m.BillDetail(qty=Decimal(1), unit_cost=Decimal(5), account="99999")]
    with pytest.raises(RejectedError) as caught:
        await acumatica.client.put(m.Bill, new_bill(details=lines))
    assert caught.value.field == "Details[1].Account"
    assert "99999" in caught.value.message


async def test_a_refused_login_quotes_acumatica_and_holds_no_session(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """A 500 with exceptionMessage (login to a missing branch) surfaces that message."""
    with pytest.raises(AuthError) as caught:
        async with acumatica.cookie_session(branch="NOWHERE"):
            pytest.fail("the block must not run without a session")
    assert "The branch 'NOWHERE' does not exist" in str(caught.value)
    assert (await sandbox.state())["sessions"]["open"] == 0


async def test_a_bare_500_after_a_document_put_is_in_doubt(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """A 500 without Acumatica's explanation may follow a save: InDoubtError, never a resend."""
    await sandbox.knobs(status_5xx=500, script=[{"fault": "5xx", "match": "write"}])
    with pytest.raises(InDoubtError):
        await acumatica.client.put(m.Bill, new_bill())
    assert await acumatica.client.find_bill("V10001", "INV-1001") is None


async def test_a_lost_answer_is_settled_by_the_natural_key(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """Timeout after commit: InDoubtError, and find_bill adopts the bill that did land."""
    await sandbox.knobs(hang_s=0, script=[{"fault": "timeout_after_commit", "match": "write"}])
    with pytest.raises(InDoubtError):
        await acumatica.client.put(m.Bill, new_bill())
    found = await acumatica.client.find_bill("V10001", "INV-1001")
    assert found is not None and found.reference_nbr
    assert len(await sandbox.records("Bill")) == 1


# -- reads ----------------------------------------------------------------------------------
async def test_get_of_a_missing_record_is_none(acumatica: AcumaticaConnection) -> None:
    """No record with these keys is None, not an error."""
    assert await acumatica.client.get(m.Bill, "Bill", "999999") is None
    assert await acumatica.client.find_bill("V10001", "NOT-THERE") is None


async def test_list_pages_until_a_short_page(acumatica: AcumaticaConnection) -> None:
    """$top/$skip paging returns every record exactly once."""
    before = acumatica.client.http.requests_total
    vendors = await acumatica.client.list(m.Vendor, page_size=7)
    ids = [v.vendor_id for v in vendors]
    assert len(ids) == 50 and len(set(ids)) == 50
    assert acumatica.client.http.requests_total - before == 8  # 7 full pages, 1 short


async def test_list_modified_since_returns_only_newer_records(
    acumatica: AcumaticaConnection,
) -> None:
    """Records changed after the watermark are returned; older ones are not."""
    client = acumatica.client
    first = await client.put(m.Vendor, m.Vendor(vendor_id="V90003", vendor_name="Apex Supply"))
    assert first.last_modified_date_time is not None
    second = await client.put(m.Vendor, m.Vendor(vendor_id="V90004", vendor_name="Metro Supply"))
    await client.put(m.Vendor, m.Vendor(vendor_id="V10005", vendor_name="Renamed Wholesale"))
    newer = await client.list(m.Vendor, modified_since=first.last_modified_date_time)
    assert [v.vendor_id for v in newer] == ["V10005", second.vendor_id]
    assert (
        await client.list(m.Vendor, modified_since=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        == []
    )


async def test_incremental_read_is_refused_for_an_entity_without_timestamps(
    acumatica: AcumaticaConnection,
) -> None:
    """Subaccount has no LastModifiedDateTime in the contract; asking is a clear error."""
    with pytest.raises(ValueError, match="LastModifiedDateTime"):
        await acumatica.client.list(m.Subaccount, modified_since=dt.datetime.now(dt.UTC))


async def test_filter_values_with_quotes_find_their_record(
    acumatica: AcumaticaConnection,
) -> None:
    """A natural key holding an apostrophe is quoted, not broken or injected."""
    client = acumatica.client
    await client.put(m.Bill, new_bill(vendor_ref="O'NEIL-7"))
    found = await client.find_bill("V10001", "O'NEIL-7")
    assert found is not None and found.vendor_ref == "O'NEIL-7"
    injected = f"X' or VendorRef ne {odata_string('')} or VendorRef eq 'Y"
    assert await client.find_bill("V10001", injected) is None


async def test_find_customer_and_vendor_by_id(acumatica: AcumaticaConnection) -> None:
    """Reference-data look-ups by natural key, case-insensitive like the instance."""
    customer = await acumatica.client.find_customer("c20001")
    vendor = await acumatica.client.find_vendor("V10002")
    assert customer is not None and customer.customer_id == "C20001"
    assert vendor is not None and vendor.vendor_id == "V10002"
    assert await acumatica.client.find_customer("C99999") is None
