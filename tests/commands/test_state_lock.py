"""Commands beside a running service: writers are refused naming its pid, readers work."""

from __future__ import annotations

import os
import signal
import sys

import anyio
import msgspec

from connector import demo
from tests.commands.support import FLOW, cli, cli_at_once, wait_until_serving


async def test_sync_is_refused_while_the_service_runs_and_reads_still_work(
    env: demo.DemoEnvironment,
) -> None:
    """Beside `run`, writers exit 1 naming its pid and readers answer; after it, sync runs."""
    db = env.config.store.path
    service = await anyio.open_process(
        [sys.executable, "-m", "connector", "run", "--config", str(env.config_path)],
        env={**os.environ},
    )
    try:
        await wait_until_serving(env)
        # Refused writers change nothing and readers only read: all of them at once.
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
        code, _, err = delete
        assert code == 1 and f"pid {service.pid}" in err
        code, _, err = audit
        assert "holds the state" not in err
    finally:
        service.send_signal(signal.SIGTERM)
        with anyio.fail_after(20):
            assert await service.wait() == 0
        await service.aclose()
    code, _, err = await cli(env, "sync", "--flow", FLOW, "--stream", "vendors_to_m3")
    assert code == 0, err
