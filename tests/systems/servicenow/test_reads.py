"""ServiceNow client: watermark reads, natural-key lookups, errors on reads."""

from __future__ import annotations

import pytest

from connector.errors import (
    ConfigurationError,
    RateLimitedError,
    RejectedError,
    SourceDataError,
    UnavailableError,
)
from connector.sandbox.servicenow.schema import TABLES
from connector.systems.servicenow import ServiceNowConnection, Watermark
from connector.systems.servicenow.models import Invoice, Supplier
from tests.systems.servicenow.conftest import Connect, Sandbox

START = Watermark()


async def read_all(connection: ServiceNowConnection, after: Watermark = START,
                   page_size: int = 7) -> list[Invoice]:
    rows: list[Invoice] = []
    async for page in connection.client.changed_since(Invoice, after, page_size=page_size):
        rows += page
    return rows


async def test_watermark_read_visits_every_row_once_despite_ties(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """Rows sharing one sys_updated_on second are each read exactly once, in cursor order."""
    rows = await read_all(servicenow)
    seeded = await sandbox.rows("sn_shop_invoice")
    assert sorted(r.sys_id for r in rows) == sorted(r["sys_id"] for r in seeded)
    keys = [(r.sys_updated_on, r.sys_id) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


async def test_watermark_read_resumes_after_the_cursor(servicenow: ServiceNowConnection) -> None:
    """Starting from a row's watermark returns only the rows after it."""
    everything = await read_all(servicenow)
    middle = everything[12]
    rest = await read_all(servicenow, Watermark.of(middle))
    assert [r.sys_id for r in rest] == [r.sys_id for r in everything[13:]]


async def test_watermark_read_survives_acl_short_and_empty_pages(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """With the ACL hiding rows after the limit, every visible row is still read."""
    await sandbox.knobs(acl_hide_every=2)
    visible = [r for r in await sandbox.rows("sn_shop_invoice") if int(r["sys_id"], 16) % 2]
    rows = await read_all(servicenow, page_size=2)
    assert sorted(r.sys_id for r in rows) == sorted(r["sys_id"] for r in visible)


async def test_watermark_read_asks_only_model_fields_as_plain_strings(
    servicenow: ServiceNowConnection
) -> None:
    """References come back as bare sys_ids (links excluded, display values off)."""
    rows = await read_all(servicenow)
    assert all(len(r.supplier) == 32 for r in rows)


async def test_find_invoice_po_supplier_gl_cost_center_by_natural_key(
    servicenow: ServiceNowConnection
) -> None:
    """Each find_* asks the target table live by its natural key and ERP source."""
    client = servicenow.client
    invoice = await client.find_invoice("SUP-88003")
    assert invoice is not None and invoice.external_invoice_number == "SUP-88003"
    supplier = await client.find_supplier("V10003")
    assert supplier is not None
    assert await client.find_invoice("SUP-88003", supplier_sys_id=supplier.sys_id) == invoice
    assert await client.find_invoice("SUP-88003", supplier_sys_id="0" * 32) is None
    po = await client.find_purchase_order("PO-70002")
    assert po is not None and po.erp_po_number == "PO-70002"
    gl = await client.find_gl_account("6010")
    assert gl is not None and gl.account_name == "Expense 2"
    center = await client.find_cost_center("CC101")
    assert center is not None and center.name == "Cost center 101"
    assert await client.find_invoice("SUP-99999") is None
    assert len(await client.invoice_lines(invoice.sys_id)) == 1


async def test_find_is_live_not_cached(sandbox: Sandbox, servicenow: ServiceNowConnection
                                       ) -> None:
    """A record deleted on the instance is absent on the next find."""
    supplier = await servicenow.client.find_supplier("V10004")
    assert supplier is not None
    sandbox.instance.delete("sn_fin_supplier", supplier.sys_id)
    assert await servicenow.client.find_supplier("V10004") is None


async def test_find_with_duplicates_raises_naming_them(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """Two targets with one natural key is a RejectedError listing both sys_ids."""
    rows = await sandbox.rows("sn_fin_supplier")
    copy = {k: v for k, v in rows[0].items() if not k.startswith("sys_")}
    sandbox.instance.insert(TABLES["sn_fin_supplier"], copy, user="someone")
    with pytest.raises(RejectedError, match="duplicated") as caught:
        await servicenow.client.find_supplier(rows[0]["erp_supplier_id"])
    assert caught.value.code == "duplicate_target"


async def test_query_value_with_caret_is_refused(servicenow: ServiceNowConnection) -> None:
    """A value holding '^' would change the encoded query, so it is refused before sending."""
    with pytest.raises(SourceDataError, match="'\\^'"):
        await servicenow.client.find_supplier("V1^ORerp_source!=M3")


async def test_unknown_query_field_is_caught_client_side(
    servicenow: ServiceNowConnection
) -> None:
    """A misspelt field raises before the instance could silently match every row."""
    with pytest.raises(ValueError, match="match every row"):
        await servicenow.client.query(Supplier, {"erp_suplier_id": "V10000"})


async def test_base_itsm_instance_is_plugin_not_active(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """Without S2P tables, check_plugin and reads raise ConfigurationError naming the plugin."""
    await sandbox.knobs(s2p_plugin_active=False)
    with pytest.raises(ConfigurationError, match="Source-to-Pay plugin"):
        await servicenow.client.check_plugin()
    with pytest.raises(ConfigurationError, match="Source-to-Pay plugin"):
        await servicenow.client.find_invoice("SUP-88000")


async def test_missing_read_role_is_configuration_error_naming_roles(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """A 403 on a read names the credential and the roles to grant."""
    creds = await sandbox.credentials()
    await sandbox.knobs(user_roles={creds["username"]: []})
    with pytest.raises(ConfigurationError) as caught:
        await servicenow.client.find_invoice("SUP-88000")
    assert "sn_ap_apm.reader" in str(caught.value) and "sn-oauth" in str(caught.value)


async def test_rate_limit_429_is_retried_after_retry_after(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """A 429 with Retry-After is waited out through the HTTP kit and the read succeeds."""
    await sandbox.knobs(script=[{"fault": "429"}], retry_after_s=1)
    assert await servicenow.client.find_supplier("V10000") is not None
    assert servicenow.client.http.status_429_total == 1


async def test_hibernating_instance_is_unavailable(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """An HTML answer (hibernating instance) is a retryable error saying to wake it up."""
    await sandbox.knobs(hibernating=True)
    with pytest.raises(UnavailableError, match="hibernates"):
        await servicenow.client.find_supplier("V10000")


async def test_connect_with_explicit_instance_url(sandbox: Sandbox, connect: Connect) -> None:
    """The config's instance_url wins over the credential's."""
    connection = connect(instance_url=sandbox.sim.base_url + "/")
    assert connection.client.instance_url == sandbox.sim.base_url


async def test_announced_hourly_rule_is_logged_once(
    sandbox: Sandbox, servicenow: ServiceNowConnection, caplog: pytest.LogCaptureFixture
) -> None:
    """X-RateLimit-Limit above the configured pace is reported once, naming the setting."""
    await sandbox.knobs(rate_limit_per_hour=500)
    await servicenow.client.find_supplier("V10000")
    await servicenow.client.find_supplier("V10001")
    warnings = [r for r in caplog.records if "requests_per_hour = 500" in r.getMessage()]
    assert len(warnings) == 1


async def test_hour_long_retry_after_gives_up_at_once(sandbox: Sandbox, connect: Connect
                                                     ) -> None:
    """A 429 asking to wait most of an hour raises RateLimitedError now instead of hanging."""
    await sandbox.knobs(rate_limit_per_hour=1)
    connection = connect()
    assert await connection.client.find_supplier("V10000") is not None
    with pytest.raises(RateLimitedError) as caught:
        await connection.client.find_supplier("V10001")
    assert caught.value.retry_after is not None and caught.value.retry_after > 3000
