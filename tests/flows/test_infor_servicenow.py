"""Flow infor-servicenow end to end, against the M3 and ServiceNow simulators over loopback."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from connector import demo
from connector.app import App
from connector.errors import ConfigurationError
from connector.flows.infor_servicenow import NAME, mapping
from connector.runtime import processor
from connector.runtime.runner import CycleReport
from connector.sandbox.servicenow.knobs import READER, SERVICE_USER
from connector.store import RecordKey, State
from tests.flows.servicenow_support import (
    infor,
    m3_invoices,
    m3_orders,
    rows,
    servicenow,
    staged_rows,
    start,
    tally,
)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    environment = await start(tmp_path / "state")
    yield environment
    await environment.stop()


@pytest.fixture
async def app(env: demo.DemoEnvironment) -> AsyncIterator[App]:
    opened = await App.open(env.config)
    yield opened
    await opened.aclose()


async def cycle(app: App, **kwargs: Any) -> CycleReport:
    return await (await app.runner(NAME)).cycle(**kwargs)


def written(report: CycleReport) -> int:
    return report.total("created") + report.total("updated")


async def test_every_stream_stages_each_record_once_and_a_second_cycle_writes_nothing(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Every stream lands each record once, coded as M3's voucher; cycle two writes nothing."""
    m3, sn = infor(env), servicenow(env)
    first = await cycle(app)
    assert first.ok and first.total("failed") == first.total("review") == 0, first.counts()
    counts = first.counts()
    suppliers = len(m3.db.book("100").suppliers) - 1  # the template is never sent
    assert counts["suppliers"]["created"] == suppliers
    assert counts["purchase_orders"]["created"] == len(m3_orders(m3))
    assert counts["invoices"]["created"] == len(m3_invoices(m3)) == 12
    assert tally(env).lost == [] and tally(env).duplicated == []
    by_id = {r["sys_id"]: r for t in ("sn_fin_gl_account", "cmn_cost_center")
             for r in rows(sn, t)}
    invoices = {r["sys_id"]: r["external_invoice_number"] for r in rows(sn, "sn_shop_invoice")}
    coded = {(invoices.get(r["invoice"]), by_id[r["gl_account"]]["number"],
              by_id[r["cost_center"]]["code"], r["subtotal"])
             for r in rows(sn, "sn_shop_invoice_line") if r["invoice"] in invoices}
    expected = {(key, line["AIT1"], line["AIT2"], line["NLAM"])
                for key, lines in m3_invoices(m3).items() for line in lines}
    assert expected <= coded
    staged = staged_rows(env)
    second = await cycle(app)
    assert second.ok and written(second) == 0 and staged_rows(env) == staged


async def test_dimensions_align_by_code_both_ways(env: demo.DemoEnvironment, app: App) -> None:
    """Missing M3 codes are created, same-code SN records adopted, mapped codes redirected."""
    sn = servicenow(env)
    entered = next(r for r in rows(sn, "cmn_cost_center") if r["code"] == "CC100")
    await app.store.set_mappings(mapping.COST_CENTER, {"CC150": "CC101"})
    report = await cycle(app)
    assert report.ok and report.counts()["cost_centers"]["unchanged"] == 1
    assert [r["code"] for r in rows(sn, "cmn_cost_center")].count("CC100") == 1
    entry = await app.store.ledger_entry(RecordKey(NAME, "cost_centers", "CC100"))
    assert entry is not None and entry.target_id == entered["sys_id"]
    numbers = {r["number"] for r in rows(sn, "sn_fin_gl_account")}
    assert {a.AITM for a in await (await app.supervisor("infor")).connection.client
            .accounting_ids(1)} <= numbers
    centers = {r["sys_id"]: r["code"] for r in rows(sn, "cmn_cost_center")}
    used = {centers[r["cost_center"]] for r in rows(sn, "sn_shop_invoice_line")
            if r["erp_source"] == "M3" and r["sys_created_by"] == SERVICE_USER}
    assert "CC101" in used and "CC150" not in used


async def test_unmapped_account_waits_in_review_and_resumes_once_aligned(
    env: demo.DemoEnvironment, app: App
) -> None:
    """An invoice on an account SN lacks waits in review (kind, M3 code); resume stages it."""
    first = await cycle(app, streams=["suppliers", "purchase_orders", "invoices"])
    assert first.counts()["invoices"]["review"] == 12 and written(first) > 0
    items = await app.store.review_items(flow=NAME)
    assert {i.mapping_kind for i in items} == {mapping.GL_ACCOUNT}
    assert all(i.mapping_key in {"5010", "5020", "5030", "5040"} for i in items)
    assert "review resolve --mapping servicenow_gl_account" in items[0].reason
    assert rows(servicenow(env), "sn_spend_intg_imp_invoice") == []
    aligned = await cycle(app, streams=["gl_accounts", "cost_centers"])
    assert aligned.ok
    again = await cycle(app, streams=["invoices"])
    assert again.counts()["invoices"]["review"] == 12  # parked until resolved, not retried
    resumed = await (await app.runner(NAME)).resume_review()
    assert resumed.total("created") == 12 and await app.store.review_items(flow=NAME) == []
    assert tally(env).duplicated == []


async def test_invoices_wait_for_an_account_import_in_doubt_instead_of_going_to_review(
    env: demo.DemoEnvironment, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invoice whose GL account import lost its reply is deferred, never put in review;
    the next cycle settles the account by lookup and stages every invoice once."""
    monkeypatch.setattr(processor, "SETTLE_ATTEMPTS", 1)  # one settling lookup: a fast test
    sn = servicenow(env)
    lost = {"fault": "5xx", "match": "write", "path_contains": "sn_fcms_intg_gl_account_stage"}
    await demo.admin(sn, "POST", "faults", {"script": [lost] * 100})
    accounts = await cycle(app, streams=["gl_accounts"])
    assert accounts.counts()["gl_accounts"]["in_doubt"] > 0
    # M3's accounts are in doubt; the first one an invoice has settled is lost once more.
    await demo.admin(sn, "POST", "faults", {"script": [lost]})
    first = await cycle(app, streams=["suppliers", "cost_centers", "purchase_orders", "invoices"])
    assert first.counts()["invoices"]["deferred"] >= 1 and first.total("review") == 0
    assert await app.store.review_items(flow=NAME) == []
    assert await app.store.dead_letters(flow=NAME) == []
    second = await cycle(app)
    assert second.ok and second.total("review") == 0
    assert await app.store.ledger_by_state(NAME, [State.PENDING, State.IN_DOUBT]) == []
    final = tally(env)
    assert final.lost == [] and final.duplicated == [] and final.records == 18


async def test_dead_letters_replay_once_the_cause_is_fixed(
    env: demo.DemoEnvironment, tmp_path: Path
) -> None:
    """A transform refusal dead-letters with SN's reason; after the fix replay creates it."""
    original = env.config_path.read_text()
    env.config_path.write_text(original.replace('legal_entity = "US01"',
                                                'legal_entity = "ZZ99"'))
    app = await App.open(env.config)
    try:
        report = await cycle(app)
        letters = await app.store.dead_letters(flow=NAME)
    finally:
        await app.aclose()
    assert report.counts()["gl_accounts"]["failed"] > 0 and report.total("review") > 0
    assert "ZZ99" in letters[0].reason and "replay" in letters[0].reason
    env.config_path.write_text(original)
    app = await App.open(env.config)
    try:
        runner = await app.runner(NAME)
        replayed = await runner.replay()
        resumed = await runner.resume_review()
        assert replayed.total("failed") == 0 and resumed.total("review") == 0
        assert await app.store.dead_letters(flow=NAME) == []
    finally:
        await app.aclose()
    final = tally(env)
    assert final.lost == [] and final.duplicated == []


async def test_a_full_replay_stages_nothing_twice(env: demo.DemoEnvironment, app: App) -> None:
    """Re-reading everything from M3 (full) adopts what ServiceNow holds: no new rows."""
    assert (await cycle(app)).ok
    staged = staged_rows(env)
    replay = await cycle(app, full=True)
    assert replay.ok and written(replay) == 0 and staged_rows(env) == staged


async def test_lost_import_replies_are_settled_by_lookup_never_staged_twice(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Imports applied but unanswered are settled by lookup; nothing is staged twice."""
    sn = servicenow(env)
    script = [{"fault": "timeout_after_commit", "match": "write", "path_contains": path}
              for path in ("sn_spend_intg_imp_invoice", "sn_spend_intg_imp_invoice_line",
                           "sn_spend_intg_imp_invoice_line", "sn_fcms_intg_imp_order")]
    await demo.admin(sn, "POST", "faults", {"hang_s": 0.05, "script": script})
    await cycle(app)
    doubted = await app.store.db.fetchall(
        "SELECT DISTINCT source_id FROM audit WHERE flow = ? AND step = 'in_doubt'", (NAME,))
    assert len(doubted) >= 3 and sn.faults.script == []
    for _ in range(3):
        if not await app.store.ledger_by_state(NAME, [State.PENDING, State.IN_DOUBT]):
            break
        await cycle(app)
    assert await app.store.ledger_by_state(NAME, [State.PENDING, State.IN_DOUBT]) == []
    final = tally(env)
    assert final.lost == [] and final.duplicated == [] and final.records == 18


async def test_missing_import_role_stops_with_the_role_named_and_loses_nothing(
    env: demo.DemoEnvironment, app: App
) -> None:
    """A 403 on import names the roles and halts; once granted, the next cycle stages all."""
    sn = servicenow(env)
    await demo.admin(sn, "POST", "faults", {"user_roles": {SERVICE_USER: [READER]}})
    report = await cycle(app)
    assert not report.ok and report.error is not None
    assert "sn_spend_intg.procurement_integrator" in report.error and "403" in report.error
    assert rows(sn, "sn_fin_supplier") and rows(sn, "sn_fcms_intg_imp_supplier") == []
    await demo.admin(sn, "POST", "faults", {"user_roles": {}})
    assert (await cycle(app)).ok
    final = tally(env)
    assert final.lost == [] and final.duplicated == []


async def test_base_itsm_instance_is_a_configuration_error(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Without the Source-to-Pay plugin the flow is not built: the error says to activate it."""
    await demo.admin(servicenow(env), "POST", "faults", {"s2p_plugin_active": False})
    with pytest.raises(ConfigurationError, match="Source-to-Pay plugin"):
        await app.runner(NAME)


async def test_unknown_division_is_refused_at_build(env: demo.DemoEnvironment) -> None:
    """CONO/DIVI are validated when the flow is built, naming the setting to fix."""
    env.config_path.write_text(env.config_path.read_text().replace('division = "AAA"',
                                                                   'division = "ZZZ"'))
    app = await App.open(env.config)
    try:
        with pytest.raises(ConfigurationError, match="division"):
            await app.runner(NAME)
    finally:
        await app.aclose()


async def test_check_says_ok_then_fail_for_a_base_itsm_instance(
    env: demo.DemoEnvironment,
) -> None:
    """`check` reports OK for the S2P instance and FAIL, saying why, without the plugin."""

    async def check() -> dict[str, str]:
        result = await anyio.run_process(
            [sys.executable, "-m", "connector", "check", "--json", "--config",
             str(env.config_path)], check=False)
        found: list[dict[str, str]] = msgspec.json.decode(result.stdout)
        return next(r for r in found if r["system"] == "servicenow")

    assert (await check())["status"] == "OK"
    await demo.admin(servicenow(env), "POST", "faults", {"s2p_plugin_active": False})
    failed = await check()
    assert failed["status"] == "FAIL" and "Source-to-Pay" in failed["detail"]


async def test_the_service_schedules_the_flow(env: demo.DemoEnvironment) -> None:
    """`run` builds infor-servicenow, runs it on its schedule, and stops cleanly on SIGTERM."""
    port, webhook_port = _free_port(), _free_port()
    env.config_path.write_text(
        env.config_path.read_text() + f'[service]\nadmin_port = {port}\n'
        f'webhook_port = {webhook_port}\nshutdown_timeout_s = 10\n')
    process = await anyio.open_process(
        [sys.executable, "-m", "connector", "run", "--config", str(env.config_path)],
        env=dict(os.environ))
    try:
        with anyio.fail_after(60):
            while not await _succeeded(port):
                await anyio.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(20):
            code = await process.wait()
        await process.aclose()
    assert code == 0
    assert tally(env).lost == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _succeeded(port: int) -> bool:
    import aiohttp

    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                health = msgspec.json.decode(await response.read())
    except aiohttp.ClientError:
        return False
    return bool(health["flows"].get(NAME, {}).get("last_success"))


async def test_a_renamed_supplier_is_refused_without_coalesce_and_updated_with_it(
    env: demo.DemoEnvironment,
) -> None:
    """A renamed supplier is dead-lettered without coalesce; with it, replay updates it."""
    app = await App.open(env.config)
    try:
        assert (await cycle(app)).ok
        infor(env).db.book("100").suppliers["SUP00001"]["SUNM"] = "Renamed Heating Supply"
        report = await cycle(app, streams=["suppliers"])
        letters = await app.store.dead_letters(flow=NAME)
    finally:
        await app.aclose()
    assert report.counts()["suppliers"]["failed"] == 1 and "coalesce" in letters[0].reason
    sn = servicenow(env)
    await demo.admin(sn, "POST", "faults",
                     {"coalesce": {"sn_fcms_intg_imp_supplier": ["erp_supplier_id"]}})
    env.config_path.write_text(env.config_path.read_text().replace(
        'supplier_coalesce = "no"', 'supplier_coalesce = "yes"'))
    app = await App.open(env.config)
    try:
        replayed = await (await app.runner(NAME)).replay()
    finally:
        await app.aclose()
    assert replayed.total("updated") == 1
    named = [r["name"] for r in rows(sn, "sn_fin_supplier") if r["erp_supplier_id"] == "SUP00001"]
    assert named == ["Renamed Heating Supply"]


def test_invoice_mapper_applies_mapping_tables_and_puts_vat_in_other_charges() -> None:
    """The mapper keys on DIVI/SUNO/SINO, maps codes, and puts the tax in other charges."""
    from connector.runtime.flow import MapContext
    from connector.systems.infor.ledger import PostedInvoice, PostedInvoiceWithLines, VoucherLine

    invoice = PostedInvoiceWithLines(
        head=PostedInvoice(DIVI="AAA", INBN="1", SUNO="S1", SINO="88/1", IVDT="20250301",
                           CUAM="110.00", CUCD="USD"),
        lines=(VoucherLine(JSNO="2", TRCD="41", AIT1="5010", AIT2="CC150", NLAM="60.00"),
               VoucherLine(JSNO="3", TRCD="41", AIT1="5020", AIT2="CC110", NLAM="40.00")))
    ctx = MapContext(NAME, {mapping.GL_ACCOUNT: {"5010": "6000"}})
    command = mapping.map_invoice(invoice, ctx, mapping.Options(), "100")
    assert (command.key, command.source, command.invoice_date) == (
        "AAA/S1/88/1", "M3 100/AAA", "2025-03-01")
    assert (command.subtotal, command.other_charges) == ("100.00", "10.00")
    assert [(ln.gl_account, ln.m3_account, ln.cost_center) for ln in command.lines] == [
        ("6000", "5010", "CC150"), ("5020", "5020", "CC110")]


def test_the_streams_built_are_the_streams_a_config_may_name() -> None:
    """STREAMS (checked on config load) are exactly the streams build declares, in order."""
    from typing import cast

    from connector.config import load_config
    from connector.flows import infor_servicenow, stream_names

    example = Path(__file__).resolve().parents[2] / "connector.example.toml"
    flow = load_config(example).flows[NAME]
    built = infor_servicenow.build(NAME, flow, cast(Any, None), cast(Any, None))
    names = tuple(stream.name for stream in built.flow.streams)
    assert names == infor_servicenow.STREAMS == stream_names("infor", "servicenow")
