"""Writing commands beside a running service go through its admin API (bearer token)."""

from __future__ import annotations

import signal
from pathlib import Path

import anyio
import msgspec

from connector import demo
from connector.vault import open_vault
from tests.commands.support import FLOW, KIND, break_cost_centers, cli
from tests.web.conftest import running_service


async def test_errors_and_mappings_are_changed_through_the_running_service(
    env: demo.DemoEnvironment, tmp_path: Path
) -> None:
    """With the service holding the state, `errors dismiss`, `mappings set|delete` and
    `errors retry` are done by the service: the smaller group is dismissed, the cost
    centers fixed, the larger group retried to done, with the service's own messages."""
    good = await break_cost_centers(env)
    async with running_service(env, tmp_path / "service.log", good):
        code, out, err = await cli(env, "errors", "list", "--json")
        assert code == 0, err
        groups = sorted(msgspec.json.decode(out), key=lambda g: g["count"])
        assert [g["count"] for g in groups] == [1, 4]
        small, large = groups[0]["group"], groups[1]["group"]

        code, out, err = await cli(
            env, "errors", "dismiss", small, "--reason", "keyed in M3 by hand", "--json"
        )
        assert code == 0, err
        assert "asking it through http://127.0.0.1:" in err
        answer = msgspec.json.decode(out)
        assert answer["reason"] == "keyed in M3 by hand" and len(answer["dismissed"]) == 1

        for unit, center in good.items():
            code, out, err = await cli(env, "mappings", "set", KIND, unit, center, "--json")
            assert code == 0, err
            assert msgspec.json.decode(out)["previous"] == "NOPE99"
        code, _, err = await cli(env, "mappings", "delete", KIND, "no-such-unit")
        assert code == 1 and f"no mapping {KIND} 'no-such-unit' is stored" in err
        assert "another ml-connector (pid" not in err

        code, out, err = await cli(env, "errors", "retry", large, "--json")
        assert code == 0, err
        [report] = msgspec.json.decode(out)
        assert report["flow"] == FLOW and report["totals"]["failed"] == 0
        assert sum(report["totals"][c] for c in ("created", "updated", "unchanged")) == 4

        code, out, err = await cli(env, "errors", "list", "--json")
        assert code == 0 and msgspec.json.decode(out) == [], err


async def test_a_wrong_admin_token_is_refused_with_the_command_to_fix_it(
    env: demo.DemoEnvironment, tmp_path: Path
) -> None:
    """When the vault's admin token is not the one the service uses, the CLI exits 1
    saying the service refused it and how to store the right one; nothing changes."""
    good = await break_cost_centers(env)
    async with running_service(env, tmp_path / "service.log", good):
        open_vault(env.config).set("admin-token", "bearer", {"token": "not-the-token"})
        code, _, err = await cli(env, "mappings", "set", KIND, "1001", "CC100")
        assert code == 1
        assert "refused the admin token (HTTP 401)" in err
        assert "`ml-connector creds set admin-token --kind bearer`" in err


async def test_a_mapping_added_to_the_file_and_reloaded_is_left_to_the_file(
    env: demo.DemoEnvironment, tmp_path: Path
) -> None:
    """After SIGHUP, a mapping the config file now declares cannot be changed through the
    service: the answer says to change it in the file."""
    good = await break_cost_centers(env)
    async with running_service(env, tmp_path / "service.log", good) as service:
        text = env.config_path.read_text()
        text = text.replace(f"[mappings.{KIND}]\n", f'[mappings.{KIND}]\n"7777" = "CC100"\n')
        env.config_path.write_text(text)
        service.process.send_signal(signal.SIGHUP)
        with anyio.fail_after(30):
            while True:
                code, out, _ = await cli(env, "mappings", "list", "--kind", KIND, "--json")
                if any(r["key"] == "7777" for r in msgspec.json.decode(out)):
                    break
                await anyio.sleep(0.2)
        code, _, err = await cli(env, "mappings", "set", KIND, "7777", "CC110")
        assert code == 1, err
        assert f"mapping {KIND} '7777' comes from the config file" in err
        assert "asking it through" in err
