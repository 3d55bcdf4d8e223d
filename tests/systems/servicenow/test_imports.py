"""ServiceNow client: Import Set API inserts, transform outcomes, in-doubt writes."""

from __future__ import annotations

import pytest

from connector.errors import ConfigurationError, InDoubtError, RejectedError
from connector.systems.servicenow import ServiceNowConnection
from connector.systems.servicenow.models import (
    CostCenterImport,
    GlAccountImport,
    InvoiceImport,
    InvoiceLineImport,
    PurchaseOrderImport,
    SupplierImport,
)
from tests.systems.servicenow.conftest import Connect, Sandbox

INVOICE = InvoiceImport(erp_source="M3", external_invoice_number="M3-4711",
                        external_invoice_source="M3", invoice_date="2025-03-01",
                        other_charges="0.00", subtotal="250.00",
                        supplier="Supplier 003 LLC")


async def test_import_row_returns_target_sys_id_and_status(
    servicenow: ServiceNowConnection
) -> None:
    """A synchronous import answers the target invoice's sys_id, findable by natural key."""
    imported = await servicenow.client.import_row(INVOICE)
    assert imported.status == "inserted" and imported.target_table == "sn_shop_invoice"
    assert imported.number.startswith("INV") and imported.import_set.startswith("ISET")
    found = await servicenow.client.find_invoice("M3-4711")
    assert found is not None and found.sys_id == imported.target_sys_id
    assert found.subtotal == "250.00" and found.state == "draft"


async def test_reference_data_and_lines_import(servicenow: ServiceNowConnection) -> None:
    """Supplier, GL account, cost center, PO and invoice line imports land on their targets."""
    client = servicenow.client
    await client.import_row(SupplierImport(company="New Supply Co", erp_source="M3",
                                           erp_supplier_id="V30000"))
    await client.import_row(GlAccountImport(number="7100", account_name="Freight",
                                            entity="US01", type="expense", erp_source="M3"))
    await client.import_row(CostCenterImport(code="CC900", name="Plant 9", legal_entity="US01",
                                             erp_source="M3"))
    await client.import_row(PurchaseOrderImport(erp_po_number="PO-1", erp_source="M3",
                                                supplier_company_name="New Supply Co"))
    await client.import_row(INVOICE)
    line = await client.import_row(InvoiceLineImport(
        erp_source="M3", external_invoice_number="M3-4711", external_invoice_source="M3",
        erp_line_number="1", line_description="Freight", cost_center="CC900",
        gl_account="7100", line_quantity="1", line_unit_price="250.00", subtotal="250.00"))
    supplier = await client.find_supplier("V30000")
    po = await client.find_purchase_order("PO-1")
    assert supplier is not None and po is not None and po.supplier == supplier.sys_id
    assert await client.find_supplier_named("New Supply Co") == supplier
    assert await client.find_gl_account("7100") is not None
    center = await client.find_cost_center("CC900")
    invoice = await client.find_invoice("M3-4711")
    assert center is not None and invoice is not None
    (only,) = await client.invoice_lines(invoice.sys_id)
    assert only.sys_id == line.target_sys_id and only.cost_center == center.sys_id


async def test_transform_error_is_rejected_with_the_instance_message(
    servicenow: ServiceNowConnection
) -> None:
    """A row the transform refuses (unknown supplier) raises RejectedError quoting why."""
    row = InvoiceImport(erp_source="M3", external_invoice_number="M3-1",
                        external_invoice_source="M3", invoice_date="2025-03-01",
                        other_charges="0.00", subtotal="1.00", supplier="V-NOPE")
    with pytest.raises(RejectedError, match="V-NOPE") as caught:
        await servicenow.client.import_row(row)
    assert caught.value.code == "import_error"
    assert "invoice M3-1" in str(caught.value)


async def test_transform_error_detected_even_with_http_200(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """The row status, not the HTTP status, decides: a 200 with status error still raises."""
    await sandbox.knobs(import_error_http_status=200)
    row = InvoiceImport(erp_source="M3", external_invoice_number="M3-2",
                        external_invoice_source="M3", invoice_date="2025-03-01",
                        other_charges="0.00", subtotal="", supplier="Supplier 001 LLC")
    with pytest.raises(RejectedError, match="Subtotal"):
        await servicenow.client.import_row(row)


async def test_timeout_after_commit_is_in_doubt_and_never_resent(
    sandbox: Sandbox, connect: Connect
) -> None:
    """A write whose answer is lost raises InDoubtError; find then sees the one invoice."""
    # 1 s, not less: every other call of this client must answer within it on a busy machine.
    await sandbox.knobs(script=[{"fault": "timeout_after_commit", "match": "write"}],
                        hang_s=1.5)
    connection = connect(timeout_s=1.0)
    with pytest.raises(InDoubtError):
        await connection.client.import_row(INVOICE)
    found = await connection.client.find_invoice("M3-4711")
    assert found is not None
    assert len([r for r in await sandbox.rows("sn_shop_invoice")
                if r["external_invoice_number"] == "M3-4711"]) == 1


async def test_import_without_integrator_role_names_it(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """A 403 on an import names the procurement integrator role to grant."""
    creds = await sandbox.credentials()
    await sandbox.knobs(user_roles={creds["username"]: ["sn_ap_apm.reader"]})
    with pytest.raises(ConfigurationError, match="sn_spend_intg.procurement_integrator"):
        await servicenow.client.import_row(INVOICE)


async def test_import_on_base_itsm_instance_is_plugin_not_active(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """Importing into a staging table that does not exist says the S2P plugin is missing."""
    await sandbox.knobs(s2p_plugin_active=False)
    with pytest.raises(ConfigurationError, match="Source-to-Pay plugin"):
        await servicenow.client.import_row(INVOICE)


async def test_insert_multiple_then_read_the_set_outcomes(
    servicenow: ServiceNowConnection
) -> None:
    """insertMultiple (labels as keys) answers a set id; its rows are read once transformed."""
    rows = [InvoiceImport(erp_source="M3", external_invoice_number=f"M3-B{n}",
                          external_invoice_source="M3", invoice_date="2025-03-01",
                          other_charges="0.00", subtotal="5.00",
                          supplier="Supplier 002 LLC")
            for n in range(3)]
    import_set = await servicenow.client.import_rows(rows)
    states = await servicenow.client.import_set_rows(InvoiceImport, import_set, poll_s=0.05)
    assert [s.sys_import_state for s in states] == ["inserted"] * 3
    for n, state in enumerate(states):
        found = await servicenow.client.find_invoice(f"M3-B{n}")
        assert found is not None and found.sys_id == state.sys_target_sys_id
