"""A flow's ``streams`` and ``enabled`` keys hold for every command that runs it."""

from __future__ import annotations

import sys

import anyio
import msgspec

from connector import demo
from tests.commands.support import FLOW, cli, set_flow_keys


async def test_sync_runs_only_the_streams_the_config_names(env: demo.DemoEnvironment) -> None:
    """`sync` without --stream runs the flow's configured streams and no other."""
    set_flow_keys(env, 'streams = ["vendors_to_m3", "materials_to_m3"]')
    code, out, err = await cli(env, "sync", "--flow", FLOW, "--json")
    assert code == 0, err
    [report] = msgspec.json.decode(out)
    assert sorted(report["streams"]) == ["materials_to_m3", "vendors_to_m3"]


async def test_a_disabled_flow_is_refused_by_sync_and_replay(env: demo.DemoEnvironment) -> None:
    """`sync`/`replay` of an enabled = false flow exit 1 saying so and how to enable it."""
    set_flow_keys(env, "enabled = false")
    for command in (["sync", "--flow", FLOW], ["replay", "--flow", FLOW, "--all-failed"]):
        code, _, err = await cli(env, *command)
        assert code == 1, err
        assert f"flow {FLOW} is disabled in the config" in err and "enabled = true" in err
    code, out, err = await cli(env, "runs", "--json")
    assert code == 0 and msgspec.json.decode(out) == [], err


async def test_sync_of_a_stream_the_flow_lacks_names_the_valid_ones(
    env: demo.DemoEnvironment,
) -> None:
    """`sync --stream` with a wrong name is one message naming the flow's streams, exit 1."""
    code, _, err = await cli(env, "sync", "--flow", FLOW, "--stream", "vendors")
    assert code == 1
    assert "Traceback" not in err
    assert f"flow {FLOW} has no stream 'vendors'; its streams are: vendors_to_m3," in err


async def test_run_with_an_unknown_stream_stops_at_once_with_the_names(
    env: demo.DemoEnvironment,
) -> None:
    """`run` with a stream the flow lacks exits 1 naming flow, name and valid ones."""
    set_flow_keys(env, 'streams = ["vendors", "items", "ap_bills"]')
    service = await anyio.open_process(
        [sys.executable, "-m", "connector", "run", "--config", str(env.config_path)]
    )
    try:
        with anyio.fail_after(30):
            code = await service.wait()
        assert service.stderr is not None
        err = (await service.stderr.receive(65536)).decode()
    finally:
        if service.returncode is None:
            service.kill()
            await service.wait()
        await service.aclose()
    assert code == 1
    assert "Traceback" not in err and "KeyError" not in err
    assert f"flow {FLOW} has no stream 'vendors'" in err and "vendors_to_m3" in err
