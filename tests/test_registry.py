"""The registry (issue 13): a pairing is a system package and a flow package, nothing else.

tests/toy/ holds a toy system (in-memory buckets) and a toy flow (bucket → bucket) that
register themselves when imported; no connector module names them. Through the real
command line they get credentials of their own kind, a config section of their own, a
``check`` line and a ``sync`` that lands every record exactly once.
"""

from __future__ import annotations

import importlib
import io
import json
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import aiohttp
import anyio
import pytest

from connector import registry
from connector.app import App
from connector.cli import main
from connector.config import ServiceTitanSystem, load_config
from connector.config.loader import system_config_union
from connector.errors import ConfigurationError
from connector.flows import stream_names
from connector.sandbox import SIMULATORS, register_simulator
from connector.service import FlowHealth, Service
from connector.vault import KINDS, Vault, generate_key, write_key_file

BUILTIN_KINDS = ["servicetitan", "infor", "acumatica", "servicenow", "ifs", "syspro"]
TOY = ("tests.toy.system", "tests.toy.flow")
FLOW = "toy-copy"


@pytest.fixture(autouse=True)
def toy() -> Iterator[ModuleType]:
    """Import the toy packages (they register themselves); forget them afterwards, so no
    other test sees a toy kind in its messages."""
    for name in TOY:
        sys.modules.pop(name, None)
    system = importlib.import_module(TOY[0])
    importlib.import_module(TOY[1])
    yield system
    registry.unregister_pairing("toy", "toy")
    registry.unregister_system("toy")
    for name in TOY:
        sys.modules.pop(name, None)


def _config(
    tmp_path: Path, *, flow_lines: str = "webhook = false", shop_lines: str = ""
) -> tuple[Path, str, str]:
    run = uuid.uuid4().hex[:8]
    shop, warehouse = f"shop-{run}", f"warehouse-{run}"
    path = tmp_path / "connector.toml"
    path.write_text(
        f"""
[store]
path = "state/connector.db"

[vault]
key_file = "vault.key"
key_env = "TOY_VAULT_KEY_UNSET"

[systems.shop]
kind = "toy"
credential = "shop"
bucket = "{shop}"
{shop_lines}

[systems.warehouse]
kind = "toy"
credential = "warehouse"
bucket = "{warehouse}"

[flows.toy-copy]
source = "shop"
target = "warehouse"
{flow_lines}

[mappings.toy_names]
Widget = "WIDGET-1"
"""
    )
    return path, shop, warehouse


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(args))


def _counts(output: str) -> dict[str, int]:
    """The non-zero counts of the only stream in ``sync --json`` output."""
    [report] = json.loads(output)
    assert report["status"] == "ok"
    return {k: v for k, v in report["streams"]["items"].items() if v}


def _vault(monkeypatch: pytest.MonkeyPatch, config: Path) -> None:
    key_file = config.parent / "vault.key"
    assert _cli(monkeypatch, "--config", str(config), "creds", "init", "--key-file",
                str(key_file)) == 0
    for name in ("shop", "warehouse"):
        assert _cli(monkeypatch, "--config", str(config), "creds", "set", name, "--kind",
                    "toy-token", stdin=json.dumps({"token": "let-me-in"})) == 0


def test_the_toy_packages_register_themselves(toy: ModuleType) -> None:
    assert registry.system("toy") is toy.SPEC
    pairing = registry.pairing("toy", "toy")
    assert pairing is not None and pairing.name == "toy-copy"
    assert stream_names("toy", "toy") == ("items",)
    assert "toy-token" in KINDS and "webhook-hmac" in KINDS
    # The built-ins keep their order (messages list them so), extras come after.
    assert list(registry.systems())[: len(BUILTIN_KINDS) + 1] == [*BUILTIN_KINDS, "toy"]
    assert [p.name for p in registry.pairings()] == [
        "servicetitan-infor", "servicetitan-acumatica", "servicetitan-syspro",
        "ifs-servicetitan", "infor-servicenow", "toy-copy"]
    assert toy.ToySystem in system_config_union().__args__
    # Still importable from where the config structs used to be.
    assert ServiceTitanSystem is registry.system("servicetitan").config


def test_registering_a_taken_kind_or_pairing_fails() -> None:
    spec = registry.system("toy")
    registry.register_system(spec)  # the same declaration again is harmless
    with pytest.raises(ValueError, match="already registered"):
        registry.register_system(
            registry.SystemSpec(kind="toy", config=spec.config, credential_kinds=(),
                                open_connection=spec.open_connection)
        )
    with pytest.raises(ValueError, match="its config struct is tagged 'toy'"):
        registry.register_system(
            registry.SystemSpec(kind="toy2", config=spec.config, credential_kinds=(),
                                open_connection=spec.open_connection)
        )
    assert "toy2" not in registry.systems()
    pairing = registry.pairing("toy", "toy")
    assert pairing is not None
    with pytest.raises(ValueError, match="is registered"):
        registry.register_pairing(registry.PairingSpec("other", "toy", "toy", (), pairing.build))
    with pytest.raises(ValueError, match="named 'toy-copy'"):
        registry.register_pairing(
            registry.PairingSpec("toy-copy", "toy", "infor", (), pairing.build)
        )


def test_the_config_knows_the_toy_kind_and_its_streams(tmp_path: Path) -> None:
    path, _, _ = _config(tmp_path)
    config = load_config(path)
    assert config.systems["shop"].kind == "toy"
    bad, _, _ = _config(tmp_path, flow_lines='streams = ["itmes"]')
    with pytest.raises(ConfigurationError, match="did you mean items"):
        load_config(bad)
    path.write_text(path.read_text().replace('kind = "toy"', 'kind = "tyo"', 1))
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    assert f"(expected one of {', '.join(BUILTIN_KINDS)}, toy" in str(caught.value)


def test_sync_moves_the_toy_records_exactly_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    toy: ModuleType,
) -> None:
    Item = toy.Item
    config, shop, warehouse = _config(tmp_path)
    _vault(monkeypatch, config)
    toy.BUCKETS[shop] = {
        "1": Item("1", "Widget", 2.5),
        "2": Item("2", "Gadget", 10.0),
        "3": Item("3", "Sprocket", 0.75),
    }
    capsys.readouterr()

    assert _cli(monkeypatch, "--config", str(config), "check", "--json") == 0
    checks = json.loads(capsys.readouterr().out)
    assert [(c["system"], c["kind"], c["status"]) for c in checks] == [
        ("shop", "toy", "OK"), ("warehouse", "toy", "OK"), ("state", "sqlite", "OK")]
    assert checks[0]["detail"] == f"bucket {shop}: 3 item(s)"

    assert _cli(monkeypatch, "--config", str(config), "sync", "--flow", "toy-copy",
                "--json") == 0
    assert toy.BUCKETS[warehouse] == {
        "1": Item("1", "WIDGET-1", 2.5),  # through the config's mapping table
        "2": Item("2", "Gadget", 10.0),
        "3": Item("3", "Sprocket", 0.75),
    }
    assert _counts(capsys.readouterr().out) == {"read": 3, "created": 3}

    # Again: the ledger says done, nothing is written twice; a change is carried over.
    toy.BUCKETS[shop]["2"] = Item("2", "Gadget", 12.0)
    assert _cli(monkeypatch, "--config", str(config), "sync", "--flow", "toy-copy",
                "--json") == 0
    assert toy.BUCKETS[warehouse]["2"] == Item("2", "Gadget", 12.0)
    assert len(toy.BUCKETS[warehouse]) == 3
    assert _counts(capsys.readouterr().out) == {"read": 3, "updated": 1, "unchanged": 2}


def test_a_wrong_credential_kind_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    config, _, _ = _config(tmp_path)
    key_file = config.parent / "vault.key"
    assert _cli(monkeypatch, "--config", str(config), "creds", "init", "--key-file",
                str(key_file)) == 0
    for name in ("shop", "warehouse"):
        assert _cli(monkeypatch, "--config", str(config), "creds", "set", name, "--kind",
                    "bearer", stdin=json.dumps({"token": "let-me-in"})) == 0
    capsys.readouterr()
    assert _cli(monkeypatch, "--config", str(config), "sync", "--flow", "toy-copy") == 1
    assert "needs one of kind 'toy-token'" in capsys.readouterr().err


def test_simulators_register_in_the_sandbox_package() -> None:
    assert SIMULATORS["servicetitan"][2] == 1 and SIMULATORS["acumatica"][2] == 6
    with pytest.raises(ValueError, match="port offset 1 is already used"):
        register_simulator("toy", "tests.toy.sandbox", "ToySimulator", 1)
    assert "toy" not in SIMULATORS


async def test_the_service_serves_the_toy_systems_webhook_receiver(
    tmp_path: Path, toy: ModuleType
) -> None:
    """service.py asks the registry which system of a flow receives webhooks and how."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path, shop, warehouse = _config(tmp_path, flow_lines="webhook = true",
                                    shop_lines='webhook_token = "hook"')
    path.write_text(path.read_text() + f'[service]\nwebhook_host = "127.0.0.1"\n'
                    f"webhook_port = {port}\n")
    config = load_config(path)
    key = generate_key()
    assert config.vault.key_file is not None
    write_key_file(config.vault.key_file, key)
    vault = Vault.init(config.store.path, key)
    for name in ("shop", "warehouse"):
        vault.set(name, "toy-token", {"token": "let-me-in"})
    toy.BUCKETS[shop] = {"7": toy.Item("7", "Gadget", 3.0)}

    app = await App.open(config)
    site = None
    try:
        service = Service(None, config, app)
        service.flows[FLOW] = await app.runner(FLOW)
        service.health[FLOW] = FlowHealth()
        service.wake[FLOW] = anyio.Event()
        site = await service._start_webhooks()
        assert site is not None
        event = {"id": "evt-1", "item": {"id": "7", "name": "Gadget", "price": 3.0}}
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/webhooks/{FLOW}"
            async with session.post(url, json=event) as refused:
                assert refused.status == 401
            async with session.post(url, json=event, headers={"X-Toy-Token": "hook"}) as ok:
                assert ok.status == 200
        assert service.wake[FLOW].is_set()
        report = await service.flows[FLOW].drain_inbox()
        assert report.ok
        assert toy.BUCKETS[warehouse] == {"7": toy.Item("7", "Gadget", 3.0)}
    finally:
        if site is not None:
            await site.cleanup()
        await app.aclose()
