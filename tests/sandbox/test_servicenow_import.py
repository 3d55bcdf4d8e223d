"""ServiceNow simulator: the Import Set API and its transform maps (sheet §8, 9)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_servicenow_support import SN

IMPORT = "/api/now/import/sn_spend_intg_imp_invoice"
INVOICE = {"erp_source": "M3", "external_invoice_number": "M3-INV-1",
           "external_invoice_source": "M3", "invoice_date": "2025-03-01",
           "other_charges": "0.00", "subtotal": "120.00", "supplier": "Supplier 002 LLC"}


@pytest.fixture
async def sn(start_simulator: StartSimulator) -> AsyncIterator[SN]:
    sim = await start_simulator("servicenow")
    async with aiohttp.ClientSession() as http:
        handle = SN(sim, http)
        await handle.admin("POST", "seed", {"seed": 1})
        handle.creds = await handle.admin("GET", "credentials")
        yield handle


async def targets(sn: SN, number: str) -> list[dict[str, Any]]:
    return await sn.rows("/api/now/table/sn_shop_invoice", f"external_invoice_number={number}")


async def test_single_import_transforms_synchronously_into_the_target(sn: SN) -> None:
    """One row answers 201 with import_set, staging_table and the target's sys_id, inserted."""
    status, body, _ = await sn.call("POST", IMPORT, INVOICE)
    assert status == 201
    assert body["import_set"].startswith("ISET") and body["staging_table"] == IMPORT.split("/")[-1]
    (result,) = body["result"]
    assert result["status"] == "inserted" and result["table"] == "sn_shop_invoice"
    assert result["transform_map"] and result["display_value"].startswith("INV")
    (invoice,) = await targets(sn, "M3-INV-1")
    assert invoice["sys_id"] == result["sys_id"] and invoice["state"] == "draft"
    assert result["record_link"].endswith(f"/api/now/table/sn_shop_invoice/{invoice['sys_id']}")


async def test_import_values_must_be_strings(sn: SN) -> None:
    """A number in an import body is refused with 400; nothing is staged."""
    status, body, _ = await sn.call("POST", IMPORT, INVOICE | {"subtotal": 120.0})
    assert status == 400 and "must be a string" in body["error"]["detail"]
    assert await targets(sn, "M3-INV-1") == []


async def test_missing_mandatory_field_is_row_error_with_message(sn: SN) -> None:
    """A missing mandatory field gives result status error with error_message naming it."""
    row = {k: v for k, v in INVOICE.items() if k != "external_invoice_source"}
    status, body, _ = await sn.call("POST", IMPORT, row)
    assert status == 201
    (result,) = body["result"]
    assert result["status"] == "error"
    assert "External invoice source" in result["error_message"]


async def test_import_error_http_status_is_a_knob(sn: SN) -> None:
    """import_error_http_status sets the HTTP status of a failed single-row import."""
    await sn.knobs(import_error_http_status=200)
    status, body, _ = await sn.call("POST", IMPORT, INVOICE | {"supplier": "nobody"})
    assert status == 200 and body["result"][0]["status"] == "error"
    assert "nobody" in body["result"][0]["error_message"]


async def test_replay_without_coalesce_duplicates(sn: SN) -> None:
    """By default a replayed row inserts a second target record."""
    await sn.call("POST", IMPORT, INVOICE)
    status, body, _ = await sn.call("POST", IMPORT, INVOICE)
    assert body["result"][0]["status"] == "inserted"
    assert len(await targets(sn, "M3-INV-1")) == 2


async def test_coalesce_knob_updates_or_ignores_a_replay(sn: SN) -> None:
    """With coalesce columns a replay is ignored (no change) or updated (changed)."""
    await sn.knobs(coalesce={"sn_spend_intg_imp_invoice": ["external_invoice_number",
                                                           "erp_source"]})
    _, first, _ = await sn.call("POST", IMPORT, INVOICE)
    _, again, _ = await sn.call("POST", IMPORT, INVOICE)
    _, changed, _ = await sn.call("POST", IMPORT, INVOICE | {"subtotal": "130.00"})
    assert [b["result"][0]["status"] for b in (first, again, changed)] == [
        "inserted", "ignored", "updated"]
    (invoice,) = await targets(sn, "M3-INV-1")
    assert invoice["subtotal"] == "130.00"


async def test_staging_row_records_transform_state(sn: SN) -> None:
    """The staging row carries sys_import_state and sys_target_sys_id; the run counts it."""
    _, body, _ = await sn.call("POST", IMPORT, INVOICE)
    rows = await sn.rows("/api/now/table/sn_spend_intg_imp_invoice", "")
    assert rows[-1]["sys_import_state"] == "inserted"
    assert rows[-1]["sys_target_sys_id"] == body["result"][0]["sys_id"]
    runs = await sn.rows("/api/now/table/sys_import_set_run", f"set={rows[-1]['sys_import_set']}")
    assert runs[0]["inserts"] == "1" and runs[0]["total"] == "1"


async def test_line_import_links_to_its_header(sn: SN) -> None:
    """An invoice line resolves its header, GL account and cost center; unknown header errors."""
    await sn.call("POST", IMPORT, INVOICE)
    line = {"erp_source": "M3", "external_invoice_number": "M3-INV-1",
            "external_invoice_source": "M3", "erp_line_number": "1",
            "line_description": "Parts", "cost_center": "CC100", "gl_account": "6000",
            "line_quantity": "1", "line_unit_price": "120.00", "subtotal": "120.00"}
    path = "/api/now/import/sn_spend_intg_imp_invoice_line"
    _, body, _ = await sn.call("POST", path, line)
    assert body["result"][0]["status"] == "inserted"
    _, body, _ = await sn.call("POST", path, line | {"external_invoice_number": "M3-INV-404"})
    assert body["result"][0]["status"] == "error"


async def test_insert_multiple_is_asynchronous(sn: SN) -> None:
    """insertMultiple (keys = labels) answers only set ids; rows transform a moment later."""
    records = [{"ERP source": "M3", "External invoice number": f"M3-MULTI-{n}",
                "External invoice source": "M3", "Invoice date": "2025-03-01",
                "Other charges": "0.00", "Subtotal": "10.00", "Supplier": "Supplier 003 LLC"}
               for n in range(3)]
    status, body, _ = await sn.call("POST", f"{IMPORT}/insertMultiple", {"records": records})
    assert status == 201 and set(body) == {"import_set_id", "multi_import_set_id"}
    staged = await sn.rows("/api/now/table/sn_spend_intg_imp_invoice",
                           f"sys_import_set={body['import_set_id']}")
    assert {row["sys_import_state"] for row in staged} == {"pending"}
    await asyncio.sleep(0.2)
    staged = await sn.rows("/api/now/table/sn_spend_intg_imp_invoice",
                           f"sys_import_set={body['import_set_id']}")
    assert {row["sys_import_state"] for row in staged} == {"inserted"}


async def test_staging_row_get_and_purge_knob(sn: SN) -> None:
    """GET of a staging row shows its result; once purged it answers 404."""
    await sn.call("POST", IMPORT, INVOICE)
    (row,) = await sn.rows("/api/now/table/sn_spend_intg_imp_invoice", "")
    status, body, _ = await sn.call("GET", f"{IMPORT}/{row['sys_id']}")
    assert status == 200 and body["result"][0]["status"] == "inserted"
    await sn.knobs(purge_staging_rows=True)
    assert (await sn.call("GET", f"{IMPORT}/{row['sys_id']}"))[0] == 404


async def test_po_staging_table_name_is_a_knob(sn: SN) -> None:
    """po_staging_table switches the PO header staging table to sn_fcms_intg_imp_po_response."""
    po = {"erp_po_number": "PO-1", "erp_source": "M3",
          "supplier_company_name": "Supplier 001 LLC"}
    assert (await sn.call("POST", "/api/now/import/sn_fcms_intg_imp_order", po))[0] == 201
    await sn.knobs(po_staging_table="sn_fcms_intg_imp_po_response")
    assert (await sn.call("POST", "/api/now/import/sn_fcms_intg_imp_order", po))[0] == 400
    status, body, _ = await sn.call("POST", "/api/now/import/sn_fcms_intg_imp_po_response", po)
    assert status == 201 and body["result"][0]["table"] == "sn_shop_purchase_order"


async def test_import_needs_an_integrator_role(sn: SN) -> None:
    """A reader-only user is refused an import with 403 naming the integrator role."""
    await sn.knobs(user_roles={sn.creds["username"]: ["sn_ap_apm.reader"]})
    status, body, _ = await sn.call("POST", IMPORT, INVOICE)
    assert status == 403
    assert "sn_spend_intg.procurement_integrator" in body["error"]["detail"]


async def test_supplier_import_creates_company_and_supplier(sn: SN) -> None:
    """A supplier row finds or creates its core_company and links the new supplier to it."""
    path = "/api/now/import/sn_fcms_intg_imp_supplier"
    _, body, _ = await sn.call("POST", path, {"company": "Fresh Pipes Inc.", "erp_source": "M3",
                                              "erp_supplier_id": "V20001"})
    assert body["result"][0]["status"] == "inserted"
    (supplier,) = await sn.rows("/api/now/table/sn_fin_supplier", "erp_supplier_id=V20001")
    (company,) = await sn.rows("/api/now/table/core_company", "name=Fresh Pipes Inc.")
    assert supplier["company"] == company["sys_id"]


async def test_non_string_values_stored_mangled_knob(sn: SN) -> None:
    """With import_non_strings=store, a nested object is stored with '=' for ':'."""
    await sn.knobs(import_non_strings="store")
    status, body, _ = await sn.call("POST", IMPORT, INVOICE | {"currency": {"code": "USD"}})
    assert status == 201 and body["result"][0]["status"] == "inserted"
    (invoice,) = await targets(sn, "M3-INV-1")
    assert invoice["currency"] == "{code=USD}"


async def test_invoice_line_mandatory_fields_follow_the_reference(sn: SN) -> None:
    """A line without Line description is a row error naming it (documented mandatory)."""
    await sn.call("POST", IMPORT, INVOICE)
    line = {"erp_source": "M3", "external_invoice_number": "M3-INV-1",
            "external_invoice_source": "M3", "line_quantity": "1",
            "line_unit_price": "1.00", "subtotal": "1.00"}
    _, body, _ = await sn.call("POST", "/api/now/import/sn_spend_intg_imp_invoice_line", line)
    assert body["result"][0]["status"] == "error"
    assert "Line description" in body["result"][0]["error_message"]


async def test_skipped_or_failed_row_answers_the_staging_row_sys_id(sn: SN) -> None:
    """A row that produced no target answers the staging row's sys_id, not a target's."""
    _, body, _ = await sn.call("POST", IMPORT, INVOICE | {"supplier": "nobody"})
    rows = await sn.rows("/api/now/table/sn_spend_intg_imp_invoice", "")
    assert body["result"][0]["sys_id"] == rows[-1]["sys_id"]


async def test_timeout_after_commit_fault_still_imports(sn: SN) -> None:
    """The timeout_after_commit fault drops the reply but the target row exists."""
    await sn.knobs(script=[{"fault": "timeout_after_commit", "match": "write"}], hang_s=0.1)
    with pytest.raises(aiohttp.ClientError):
        await sn.call("POST", IMPORT, INVOICE)
    assert len(await targets(sn, "M3-INV-1")) == 1


async def test_injected_5xx_fault(sn: SN) -> None:
    """The rate_5xx/status_5xx knobs answer the configured 5xx before the handler runs."""
    await sn.knobs(script=[{"fault": "5xx"}], status_5xx=502)
    status, _, _ = await sn.call("POST", IMPORT, INVOICE)
    assert status == 502 and await targets(sn, "M3-INV-1") == []
