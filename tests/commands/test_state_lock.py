"""Commands beside a running service: writers are refused naming its pid, readers work."""

from __future__ import annotations

import os
import signal
import sys

import anyio
import msgspec

from connector import demo
from connector.store import open_store
from tests.commands.support import FLOW, cli, cli_at_once, wait_until_serving
from tests.reliability.support import use_store_url


async def test_sync_is_refused_while_the_service_runs_and_reads_still_work(
    env: demo.DemoEnvironment,
) -> None:
    """Beside `run`, sync and replay exit 1 naming its pid, readers answer, mapping
    changes are asked of the service; after it, sync runs."""
    db = env.config.store.path
    service = await anyio.open_process(
        [sys.executable, "-m", "connector", "run", "--config", str(env.config_path)],
        env={**os.environ},
    )
    try:
        await wait_until_serving(env)
        # Refused writers and a delete of nothing change nothing, readers only read: all at
        # once.
        sync, replay, runs, review, mappings, delete, audit = await cli_at_once(
            env,
            ("sync", "--flow", FLOW, "--stream", "vendors_to_m3"),
            ("replay", "--flow", FLOW, "--all-failed"),
            ("runs", "--json"),
            ("review", "list", "--json"),
            ("mappings", "list", "--json"),
            ("mappings", "delete", "gl_account", "none"),
            ("audit", FLOW, "1"),
        )
        code, _, err = sync
        assert code == 1, err
        assert f"another ml-connector (pid {service.pid}) holds the state {db}" in err
        assert "Traceback" not in err
        code, _, err = replay
        assert code == 1 and f"pid {service.pid}" in err
        code, out, err = runs
        assert code == 0, err
        assert isinstance(msgspec.json.decode(out), list)
        code, _, err = review
        assert code == 0, err
        code, out, err = mappings
        assert code == 0 and msgspec.json.decode(out), err
        # Writers an operator needs day to day go through the service instead.
        code, _, err = delete
        assert code == 1 and "no mapping gl_account 'none' is stored" in err
        assert "asking it through" in err and "Traceback" not in err
        code, _, err = audit
        assert "holds the state" not in err
    finally:
        service.send_signal(signal.SIGTERM)
        with anyio.fail_after(20):
            assert await service.wait() == 0
        await service.aclose()
    code, _, err = await cli(env, "sync", "--flow", FLOW, "--stream", "vendors_to_m3")
    assert code == 0, err


async def test_writing_commands_are_refused_while_a_postgresql_state_is_held(
    env: demo.DemoEnvironment, pg_url: str
) -> None:
    """With store.url set, a writing command is refused naming the process that holds the
    state's advisory lock, a reading one answers, and once the holder closes the write runs."""
    use_store_url(env.config_path, pg_url)
    holder = await open_store(pg_url)
    try:
        code, _, err = await cli(env, "mappings", "set", "gl_account", "7777", "6000")
        assert code == 1, err
        assert f"another ml-connector (pid {os.getpid()} on " in err
        assert "holds the state postgresql://" in err and "(schema public)" in err
        code, out, err = await cli(env, "mappings", "list", "--json")
        assert code == 0 and isinstance(msgspec.json.decode(out), list), err
    finally:
        await holder.close()
    code, _, err = await cli(env, "mappings", "set", "gl_account", "7777", "6000")
    assert code == 0, err
    reader = await open_store(pg_url, writer=False)
    try:
        assert (await reader.all_mappings())["gl_account"]["7777"] == "6000"
    finally:
        await reader.close()
