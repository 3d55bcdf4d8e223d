"""``ml-connector tenants add|list|remove|creds`` against a real PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from connector.cli import main
from connector.errors import ConfigurationError
from connector.scale.directory import TenantDirectory
from connector.scale.jobs import build_job_app, defer
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_store, open_tenant_vault
from connector.scale.work import run_job
from connector.store import RecordKey, Unit
from tests.scale.tenant_toml import tenant_toml
from tests.scale.toyledger.sim import ToyLedgerSim


@pytest.fixture
def node_args(settings: NodeSettings, tmp_path: Path) -> list[str]:
    config = tmp_path / "node.toml"
    config.write_text(f'[store]\npath = "{settings.state_dir}/connector.db"\n')
    return ["--config", str(config)]


def _tenant_file(tmp_path: Path, tenant: str, text: str | None = None) -> Path:
    path = tmp_path / f"{tenant}.toml"
    path.write_text(text or tenant_toml("http://127.0.0.1:9", tenant))
    return path


def _list(node_args: list[str], database_url: str, capsys: pytest.CaptureFixture[str]) -> list:
    capsys.readouterr()
    assert main([*node_args, "tenants", "list", "--json", "--database-url", database_url]) == 0
    return json.loads(capsys.readouterr().out)


def test_add_list_remove(
    node_args: list[str], database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tenant added from its TOML is listed with its flows and systems, then removed."""
    for tenant in ("acme", "bolt"):
        path = _tenant_file(tmp_path, tenant)
        assert main([*node_args, "tenants", "add", tenant, "--file", str(path),
                     "--database-url", database_url]) == 0
    listed = _list(node_args, database_url, capsys)
    assert [(t["tenant"], t["flows"], t["systems"]) for t in listed] == [
        ("acme", ["bills"], ["source", "target"]),
        ("bolt", ["bills"], ["source", "target"]),
    ]
    assert main([*node_args, "tenants", "remove", "acme", "--database-url", database_url]) == 0
    assert [t["tenant"] for t in _list(node_args, database_url, capsys)] == ["bolt"]


def test_add_twice_needs_replace(
    node_args: list[str], database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Adding an existing tenant is refused unless --replace, which swaps its config."""
    path = _tenant_file(tmp_path, "acme")
    args = [*node_args, "tenants", "add", "acme", "--file", str(path), "--database-url",
            database_url]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 1
    assert "pass --replace" in capsys.readouterr().err
    path.write_text(tenant_toml("http://127.0.0.1:9", "acme").replace('"bills"', '"bills"')
                    .replace("[flows.bills]", "[flows.payables]"))
    assert main([*args, "--replace"]) == 0
    assert _list(node_args, database_url, capsys)[0]["flows"] == ["payables"]


def test_tenant_config_may_not_choose_the_store(
    node_args: list[str], database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tenant's TOML with a [store] section is refused, naming the section."""
    text = '[store]\npath = "elsewhere.db"\n' + tenant_toml("http://127.0.0.1:9", "acme")
    path = _tenant_file(tmp_path, "acme", text)
    code = main([*node_args, "tenants", "add", "acme", "--file", str(path),
                 "--database-url", database_url])
    assert code == 1
    assert "[store] belong to the node's own connector.toml" in capsys.readouterr().err
    assert _list(node_args, database_url, capsys) == []


def test_bad_tenant_id_is_refused(
    node_args: list[str], database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An id that cannot name a schema (capitals, dashes) is refused with the rule."""
    path = _tenant_file(tmp_path, "acme")
    assert main([*node_args, "tenants", "add", "Acme-1", "--file", str(path),
                 "--database-url", database_url]) == 1
    assert "lower-case letters, digits and underscores" in capsys.readouterr().err


def test_creds_go_into_the_tenants_own_vault(
    node_args: list[str],
    database_url: str,
    settings: NodeSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`tenants creds` stores a credential (from stdin) that only that tenant's vault holds."""
    for tenant in ("acme", "bolt"):
        path = _tenant_file(tmp_path, tenant)
        assert main([*node_args, "tenants", "add", tenant, "--file", str(path),
                     "--database-url", database_url]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO('{"key": "acme-secret"}'))
    assert main([*node_args, "tenants", "creds", "acme", "ledger-key", "--kind", "toyledger-key",
                 "--database-url", database_url]) == 0
    assert open_tenant_vault(settings, "acme").get("ledger-key").secret("key") == "acme-secret"
    assert [c.name for c in open_tenant_vault(settings, "bolt").list()] == []


def test_no_database_url_says_how_to_give_one(
    node_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --database-url or $ML_CONNECTOR_DATABASE_URL the command says how to set it."""
    monkeypatch.delenv("ML_CONNECTOR_DATABASE_URL", raising=False)
    assert main([*node_args, "tenants", "list"]) == 1
    assert "pass --database-url" in capsys.readouterr().err


def test_reserved_schema_names_are_refused(
    node_args: list[str], database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`public` or `pg_…` would put a tenant's state among PostgreSQL's own: refused."""
    path = _tenant_file(tmp_path, "public")
    for tenant in ("public", "pg_acme"):
        assert main([*node_args, "tenants", "add", tenant, "--file", str(path),
                     "--database-url", database_url]) == 1
        assert "reserved by PostgreSQL" in capsys.readouterr().err


async def test_list_shows_each_flows_schedule_last_run_errors_and_job(
    node_args: list[str],
    database_url: str,
    settings: NodeSettings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`tenants list` tells, per flow: when its next cycle is due, its last run's status and
    end (a missing credential's failure with its fix), its open errors, and whether a job
    of it is queued now."""
    sim = ToyLedgerSim()
    base_url = await sim.start()
    try:
        sim.seed("acme", "key-acme", 2, limit=20)
        for tenant in ("acme", "bolt", "cato"):
            path = tmp_path / f"{tenant}.toml"
            path.write_text(tenant_toml(base_url, tenant, schedule="every 1h"))
            assert await anyio.to_thread.run_sync(
                main, [*node_args, "tenants", "add", tenant, "--file", str(path),
                       "--database-url", database_url]
            ) == 0
        open_tenant_vault(settings, "acme").set("ledger-key", "toyledger-key", {"key": "key-acme"})
        directory = TenantDirectory(database_url)
        async with directory.claim_due():
            pass  # the tick: every cycle's next one is an hour away
        assert (await run_job(settings, directory, "acme", "bills", "cycle")).status == "ok"
        with pytest.raises(ConfigurationError):
            await run_job(settings, directory, "bolt", "bills", "cycle")
        store = await open_tenant_store(settings, "acme")
        try:
            await store.commit(Unit().dead_letter(
                RecordKey("bills", "bills", "INV-X"), b"{}", "permanent", "refused"))
        finally:
            await store.close()
        app = build_job_app(settings)
        async with app.open_async():
            await defer(app, "cato", "bills", "cycle")
    finally:
        await sim.stop()
    listed = await anyio.to_thread.run_sync(_list, node_args, database_url, capsys)
    status = {t["tenant"]: t["flow_status"][0] for t in listed}
    assert [s["flow"] for s in status.values()] == ["bills"] * 3
    acme, bolt, cato = status["acme"], status["bolt"], status["cato"]
    assert acme["last_run"]["status"] == "ok" and acme["last_run"]["finished_at"]
    assert (acme["open_errors"], acme["job"]) == (1, None)
    assert bolt["last_run"]["status"] == "failed"
    assert "ml-connector tenants creds bolt ledger-key --kind toyledger-key" in (
        bolt["last_run"]["error"])
    assert (bolt["open_errors"], cato["last_run"], cato["job"]) == (0, None, "queued")
    due = {datetime.fromisoformat(s["next_due"]) - datetime.now(UTC) for s in status.values()}
    assert all(timedelta(minutes=59) < d <= timedelta(hours=1) for d in due)
    assert await anyio.to_thread.run_sync(
        main, [*node_args, "tenants", "list", "--database-url", database_url]) == 0
    text = capsys.readouterr().out
    assert "OPEN ERRORS" in text and "#1 failed" in text and "queued" in text
    assert "bolt/bills last run failed: tenant bolt, flow bills: no credential" in text
