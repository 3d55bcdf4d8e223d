"""`check` verifies what `run` needs: config keys, each flow's needs in its systems, the
state database and the service's own credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from connector import demo
from tests.commands.support import FLOW, KIND, TINY, break_cost_centers, cli, set_flow_keys


async def test_check_reports_the_state_and_a_missing_admin_token_with_its_fix(
    env: demo.DemoEnvironment,
) -> None:
    """The state passes PRAGMA integrity_check; an admin token named in the config but
    absent from the vault is a FAIL that gives the exact `creds set` command."""
    code, out, err = await cli(env, "check", "--json")
    assert code == 0, err
    rows = {r["system"]: r for r in msgspec.json.decode(out)}
    assert rows["state"]["status"] == "OK" and "integrity ok" in rows["state"]["detail"]

    with env.config_path.open("a") as config:
        config.write('admin_token_credential = "admin-token"\n')
    code, out, err = await cli(env, "check", "--json")
    assert code == 1, err
    rows = {r["system"]: r for r in msgspec.json.decode(out)}
    admin = rows["admin token"]
    assert admin["status"] == "FAIL"
    assert "`ml-connector creds set admin-token --kind bearer`" in admin["detail"]


async def test_check_names_a_misspelt_option_and_system_key_with_the_closest_valid_one(
    env: demo.DemoEnvironment,
) -> None:
    """A typo in [flows.X.options] or [systems.X] is a FAIL naming the file, the table, the
    key and the closest valid key; the rest of the config is still checked."""
    text = env.config_path.read_text()
    text = text.replace('invoice_supplier = "STCLEAR"', 'invoice_suplier = "STCLEAR"')
    text = text.replace('[systems.infor]\n', '[systems.infor]\ntimeout = 30\n')
    env.config_path.write_text(text)
    code, out, err = await cli(env, "check", "--json")
    assert code == 1, err
    rows = [r for r in msgspec.json.decode(out) if r["system"] == "config"]
    details = {r["kind"]: r["detail"] for r in rows}
    option = details["[flows.servicetitan-infor.options]"]
    assert str(env.config_path) in option
    assert "'invoice_suplier'" in option and "did you mean 'invoice_supplier'?" in option
    assert "did you mean 'timeout_s'?" in details["[systems.infor]"]
    others = {r["system"]: r["status"] for r in msgspec.json.decode(out)}
    assert others["infor"] == "OK" and others["state"] == "OK"

    code, _, err = await cli(env, "sync", "--flow", "servicetitan-infor")
    assert code == 1
    assert "did you mean" in err and str(env.config_path) in err


def _rows(out: str, flow: str = FLOW) -> dict[str, dict[str, str]]:
    return {r["kind"]: r for r in msgspec.json.decode(out) if r["system"] == f"flow {flow}"}


async def test_check_fails_on_a_missing_or_blocked_clearing_supplier(
    env: demo.DemoEnvironment,
) -> None:
    """The clearing supplier job invoices are booked against must exist in M3 and be in
    status 20; each failure names the supplier and the fix."""
    code, out, err = await cli(env, "check", "--json")
    assert code == 0, err
    assert _rows(out)["clearing supplier"]["status"] == "OK"

    m3: Any = env.simulators["infor"]
    supplier = m3.db.books["100"].suppliers[demo.CLEARING_SUPPLIER]
    supplier["STAT"] = "90"
    code, out, _ = await cli(env, "check", "--json")
    row = _rows(out)["clearing supplier"]
    assert code == 1 and row["status"] == "FAIL"
    assert "status 90" in row["detail"] and "set its status to 20 in CRS620" in row["detail"]

    set_flow_keys(env, "")
    text = env.config_path.read_text().replace(
        f'invoice_supplier = "{demo.CLEARING_SUPPLIER}"', 'invoice_supplier = "NOSUCH"'
    )
    env.config_path.write_text(text)
    code, out, _ = await cli(env, "check", "--json")
    row = _rows(out)["clearing supplier"]
    assert code == 1 and row["status"] == "FAIL"
    assert "supplier NOSUCH" in row["detail"] and "does not exist in M3 company 100" in row[
        "detail"
    ]
    assert "set invoice_supplier in [flows.servicetitan-infor.options]" in row["detail"]


async def test_check_reports_m3_ait_support_and_mapped_values_missing_from_a_dimension(
    env: demo.DemoEnvironment,
) -> None:
    """AddLine without the cost-center AIT advises ap_coding = "recode"; a cost_center_ait
    dimension with no values, and a mapped cost center M3 lacks, are FAILs with the fix."""
    await demo.admin(env.simulators["infor"], "POST", "faults", {"addline_ait": False})
    await break_cost_centers(env)
    code, out, err = await cli(env, "check", "--json")
    assert code == 1, err
    rows = _rows(out)
    assert rows["AIT on AddLine"]["status"] == "FAIL"
    assert 'set ap_coding = "recode" in [flows.servicetitan-infor.options]' in rows[
        "AIT on AddLine"
    ]["detail"]
    centers = rows["cost centers"]
    assert centers["status"] == "FAIL" and "'NOPE99'" in centers["detail"]
    assert f"`ml-connector mappings set {KIND} " in centers["detail"]
    assert rows["accounts"]["status"] == "OK"

    text = env.config_path.read_text().replace(
        f'invoice_supplier = "{demo.CLEARING_SUPPLIER}"',
        f'invoice_supplier = "{demo.CLEARING_SUPPLIER}"\ncost_center_ait = "5"',
    )
    env.config_path.write_text(text)
    code, out, _ = await cli(env, "check", "--json")
    dimension = _rows(out)["cost center dimension"]
    assert code == 1 and dimension["status"] == "FAIL"
    assert "AIT5" in dimension["detail"] and "set cost_center_ait in" in dimension["detail"]


async def test_check_fails_when_a_document_type_the_acumatica_flow_creates_is_numbered_by_hand(
    tmp_path: Path,
) -> None:
    """Acumatica's numbering sequences (read through the DAC-based OData interface) must be
    automatic for the documents the flow creates; a manual one names the sequence and the
    box to clear in CS201010."""
    flow = "servicetitan-acumatica"
    counts = {"servicetitan": TINY["servicetitan"], "acumatica": {"vendors": 2, "customers": 2}}
    env = await demo.start(tmp_path / "state", counts=counts, flows=[flow])
    try:
        code, out, err = await cli(env, "check", "--json")
        assert code == 0, out
        rows = [r for r in msgspec.json.decode(out) if r["system"] == f"flow {flow}"]
        assert [r["status"] for r in rows] == ["OK", "OK", "OK"]

        acumatica = env.simulators["acumatica"]
        await demo.admin(acumatica, "POST", "faults", {"manual_sequences": ["APBILL"]})
        code, out, _ = await cli(env, "check", "--json")
        failed = [r for r in msgspec.json.decode(out) if r["status"] == "FAIL"]
        assert code == 1 and len(failed) == 1
        assert "sequence APBILL (APSetup.InvoiceNumberingID), which is manual" in failed[0][
            "detail"
        ]
        assert 'clear "Manual Numbering" on sequence APBILL' in failed[0]["detail"]
    finally:
        await env.stop()


async def test_check_reports_email_alerts_without_recipients_or_without_their_login(
    env: demo.DemoEnvironment,
) -> None:
    """[service.alerts] with a relay but no recipients, or naming an SMTP login absent from
    the vault, is a FAIL with the fix (the `creds set … --kind smtp` command)."""
    with env.config_path.open("a") as config:
        config.write('alerts.smtp_host = "smtp.example.com"\n')
    code, out, _ = await cli(env, "check", "--json")
    row = {r["system"]: r for r in msgspec.json.decode(out)}["alert email"]
    assert code == 1 and "no recipients" in row["detail"]

    with env.config_path.open("a") as config:
        config.write('alerts.to = ["ops@example.com"]\nalerts.smtp_credential = "relay"\n')
    code, out, _ = await cli(env, "check", "--json")
    row = {r["system"]: r for r in msgspec.json.decode(out)}["alert email"]
    assert code == 1 and row["status"] == "FAIL"
    fix = '`ml-connector creds set relay --kind smtp` with {"username": "…", "password": "…"}'
    assert fix in row["detail"]


async def test_check_fails_when_the_cost_center_dimension_sent_to_servicenow_is_empty(
    tmp_path: Path,
) -> None:
    """infor-servicenow: the M3 dimension named by cost_center_ait must hold values, or
    no cost center would reach ServiceNow; the FAIL names the dimension and the fix."""
    flow = "infor-servicenow"
    env = await demo.start(tmp_path / "state", counts={"infor": TINY["infor"]}, flows=[flow])
    try:
        code, out, err = await cli(env, "check", "--json")
        assert code == 0, out
        assert _rows(out, flow)["cost center dimension"]["detail"].endswith("values in AIT2")

        text = env.config_path.read_text()
        env.config_path.write_text(text.replace('cost_center_ait = "2"', 'cost_center_ait = "6"'))
        code, out, _ = await cli(env, "check", "--json")
        row = _rows(out, flow)["cost center dimension"]
        assert code == 1 and row["status"] == "FAIL"
        assert "AIT6" in row["detail"] and "set cost_center_ait in [flows.infor-servicenow" in row[
            "detail"
        ]
    finally:
        await env.stop()
