"""Mappings have one source of truth: the config for its keys, `review resolve` for others."""

from __future__ import annotations

import re
import sqlite3

import msgspec

from connector import demo
from tests.commands.support import FLOW, cli

SYNC = ("sync", "--flow", FLOW, "--stream", "vendors_to_m3")


def stored(env: demo.DemoEnvironment, kind: str) -> dict[str, str]:
    with sqlite3.connect(env.config.store.path) as conn:
        rows = conn.execute(
            "SELECT source_key, target_value FROM mappings WHERE kind = ?", (kind,)
        ).fetchall()
    return {str(k): str(v) for k, v in rows}


def drop_config_key(env: demo.DemoEnvironment, kind: str) -> str:
    """Delete the first key of ``[mappings.KIND]`` from the config file; returns it."""
    text = env.config_path.read_text()
    table = text.index(f"[mappings.{kind}]\n")
    match = re.compile(r'^"([^"]+)" = "[^"]*"\n', re.M).search(text, table)
    assert match is not None
    env.config_path.write_text(text[: match.start()] + text[match.end() :])
    return match[1]


def add_config_key(env: demo.DemoEnvironment, kind: str, key: str, value: str) -> None:
    text = env.config_path.read_text()
    env.config_path.write_text(
        text.replace(f"[mappings.{kind}]\n", f'[mappings.{kind}]\n"{key}" = "{value}"\n')
    )


async def test_a_mapping_deleted_from_the_config_is_gone_after_the_next_load(
    env: demo.DemoEnvironment,
) -> None:
    """A key removed from [mappings.KIND] in the TOML leaves the state at the next sync."""
    code, _, err = await cli(env, *SYNC)
    assert code == 0, err
    removed = drop_config_key(env, "business_unit_cost_center")
    assert removed in stored(env, "business_unit_cost_center")
    code, _, err = await cli(env, *SYNC)
    assert code == 0, err
    assert removed not in stored(env, "business_unit_cost_center")
    assert stored(env, "business_unit_cost_center") == env.config.mappings[
        "business_unit_cost_center"
    ]


async def test_resolved_mappings_stay_and_the_config_wins_a_shared_key(
    env: demo.DemoEnvironment,
) -> None:
    """A resolve answer survives loads; a TOML key of the same name wins, with a warning."""
    code, _, err = await cli(env, "review", "resolve", "--mapping", "gl_account", "9999=5010")
    assert code == 0, err
    code, _, err = await cli(env, *SYNC)
    assert code == 0, err
    assert stored(env, "gl_account")["9999"] == "5010"
    add_config_key(env, "gl_account", "9999", "4010")
    code, _, err = await cli(env, *SYNC)
    assert code == 0, err
    assert stored(env, "gl_account")["9999"] == "4010"
    assert "mapping gl_account 9999: the config says '4010'" in err
    assert "'5010'" in err and "the config wins" in err


async def test_mappings_list_shows_origins_and_delete_removes_only_cli_ones(
    env: demo.DemoEnvironment,
) -> None:
    """`mappings list` shows origins; `mappings delete` removes answers, refuses config ones."""
    code, _, err = await cli(env, "review", "resolve", "--mapping", "gl_account", "9999=5010")
    assert code == 0, err
    code, out, err = await cli(env, "mappings", "list", "--json")
    assert code == 0, err
    rows = msgspec.json.decode(out)
    assert {"kind": "gl_account", "key": "9999", "value": "5010", "origin": "cli"} in rows
    config_key, config_value = next(iter(env.config.mappings["gl_account"].items()))
    assert {
        "kind": "gl_account",
        "key": config_key,
        "value": config_value,
        "origin": "config",
    } in rows
    code, _, err = await cli(env, "mappings", "delete", "gl_account", config_key)
    assert code == 1
    assert "comes from the config file" in err and "[mappings.gl_account]" in err
    code, out, err = await cli(env, "mappings", "delete", "gl_account", "9999")
    assert code == 0, err
    assert "9999" not in stored(env, "gl_account")
    assert config_key in stored(env, "gl_account")


async def test_resolve_refuses_a_key_the_config_declares(env: demo.DemoEnvironment) -> None:
    """`review resolve --mapping` for a key the TOML maps says to change the TOML instead."""
    config_key = next(iter(env.config.mappings["gl_account"]))
    code, _, err = await cli(
        env, "review", "resolve", "--mapping", "gl_account", f"{config_key}=0000"
    )
    assert code == 1
    assert f"the config already maps {config_key}" in err and "Traceback" not in err
