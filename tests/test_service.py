"""The real service as a subprocess against the simulators: systemd notify, webhooks,
/metrics, graceful SIGTERM with restart, and `check`."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest
from anyio.abc import Process

from connector import demo
from connector.vault import open_vault

FLOW = "servicetitan-infor"
SMALL = {
    "servicetitan": {
        "vendors": 8,
        "materials": 6,
        "equipment": 4,
        "services": 2,
        "customers": 10,
        "jobs": 20,
        "invoices": 20,
        "payments": 2,
        "purchase_orders": 8,
        "received_purchase_orders": 5,
    },
    "infor": {"suppliers": 5, "items": 6, "purchase_orders": 2},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """Simulators + vault + a config with loopback service ports and a slow schedule."""
    environment = await demo.start(tmp_path / "state", counts=SMALL, flows=[FLOW])
    text = environment.config_path.read_text().replace(
        'schedule = "every 5m"', 'schedule = "every 1h"'
    )
    environment.ports = {"webhook": free_port(), "admin": free_port()}  # type: ignore[attr-defined]
    text += (
        '[service]\nwebhook_host = "127.0.0.1"\n'
        f"webhook_port = {environment.ports['webhook']}\n"  # type: ignore[attr-defined]
        f"admin_port = {environment.ports['admin']}\n"  # type: ignore[attr-defined]
        "shutdown_timeout_s = 10\n"
    )
    environment.config_path.write_text(text)
    yield environment
    await environment.stop()


async def start_service(
    env: demo.DemoEnvironment, extra_env: dict[str, str] | None = None
) -> Process:
    return await anyio.open_process(
        [sys.executable, "-m", "connector", "run", "--config", str(env.config_path)],
        env={**os.environ, **(extra_env or {})},
    )


async def admin_get(env: demo.DemoEnvironment, path: str) -> tuple[int, bytes]:
    port = env.ports["admin"]  # type: ignore[attr-defined]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, await response.read()


async def wait_for_success(env: demo.DemoEnvironment, timeout: float = 60) -> dict[str, Any]:
    with anyio.fail_after(timeout):
        while True:
            try:
                status, body = await admin_get(env, "/healthz")
            except aiohttp.ClientError:
                await anyio.sleep(0.1)
                continue
            health = msgspec.json.decode(body)
            if health["flows"].get(FLOW, {}).get("last_success"):
                # A flow that succeeded used both its systems: each reports its success.
                assert all(system["last_success"] for system in health["systems"])
                return dict(health)
            await anyio.sleep(0.1)


async def stop(process: Process, timeout: float = 15) -> int:
    process.send_signal(signal.SIGTERM)
    with anyio.fail_after(timeout):
        code = await process.wait()
    await process.aclose()
    return code


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A strict reader of the Prometheus text format: fails on any malformed line."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        name_labels, value = line.rsplit(" ", 1)
        labels: frozenset[tuple[str, str]] = frozenset()
        if "{" in name_labels:
            name, rest = name_labels.split("{", 1)
            assert rest.endswith("}"), line
            pairs = [p for p in rest[:-1].split(",") if p]
            labels = frozenset((k, v.strip('"')) for k, v in (p.split("=", 1) for p in pairs))
        else:
            name = name_labels
        samples[(name, labels)] = float(value)
    return samples


async def test_service_notifies_systemd_serves_metrics_and_lands_webhooks(
    env: demo.DemoEnvironment, tmp_path: Path
) -> None:
    """READY then WATCHDOG on NOTIFY_SOCKET; /metrics matches the ledger; webhook events land
    in M3; SIGTERM exits 0."""
    notify_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    listener.settimeout(30)
    process = await start_service(
        env, {"NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "400000"}
    )
    try:
        messages: list[str] = []
        while not any(m.startswith("WATCHDOG=1") for m in messages):
            messages.append((await anyio.to_thread.run_sync(listener.recv, 4096)).decode())
        ready = next(i for i, m in enumerate(messages) if "READY=1" in m)
        assert ready < next(i for i, m in enumerate(messages) if m.startswith("WATCHDOG=1"))
        await wait_for_success(env)
        status, body = await admin_get(env, "/metrics")
        assert status == 200
        samples = parse_metrics(body.decode())
        conn = sqlite3.connect(env.config.store.path)
        done = conn.execute(
            "SELECT COUNT(*) FROM ledger WHERE flow = ? AND stream = ? AND state = 'done'",
            (FLOW, "invoices_to_m3"),
        ).fetchone()[0]
        conn.close()
        key = (
            "ml_connector_records",
            frozenset({("flow", FLOW), ("stream", "invoices_to_m3"), ("state", "done")}),
        )
        assert samples[key] == done > 0
        st = env.simulators["servicetitan"]
        secret = open_vault(env.config).get("servicetitan-webhook").secret("secret")
        port = env.ports["webhook"]  # type: ignore[attr-defined]
        await demo.admin(
            st,
            "POST",
            "webhooks",
            {
                "event": "invoice",
                "url": f"http://127.0.0.1:{port}/webhooks/{FLOW}",
                "secret": secret,
            },
        )
        before = {r["id"] for r in st.store.table("invoices").all()}  # type: ignore[attr-defined]
        await demo.admin(st, "POST", "generate", {"entity": "invoices", "count": 3})
        new = {r["id"] for r in st.store.table("invoices").all()} - before  # type: ignore[attr-defined]
        with anyio.fail_after(30):
            while True:
                m3 = await demo.admin(env.simulators["infor"], "GET", "state")
                coris = Counter(b["CORI"] for b in m3["entities"]["invoice_batches"])
                if all(coris[f"st:invoice:{i}"] == 1 for i in new):
                    break
                await anyio.sleep(0.1)
    finally:
        code = await stop(process)
        listener.close()
    assert code == 0


async def test_sigterm_mid_load_exits_cleanly_and_restart_finishes_exactly_once(
    env: demo.DemoEnvironment,
) -> None:
    """SIGTERM while documents are being posted exits 0 in time; a restart posts the rest,
    none twice."""
    st = env.simulators["servicetitan"]
    await demo.admin(st, "POST", "generate", {"entity": "invoices", "count": 300})
    await demo.admin(env.simulators["infor"], "POST", "faults", {"latency_ms": 3})
    process = await start_service(env)
    try:
        with anyio.fail_after(60):
            while True:
                m3 = await demo.admin(env.simulators["infor"], "GET", "state")
                if len(m3["entities"]["invoice_batches"]) > 30:
                    break
                await anyio.sleep(0.05)
    finally:
        code = await stop(process)
    assert code == 0
    partial = len(
        (await demo.admin(env.simulators["infor"], "GET", "state"))["entities"]["invoice_batches"]
    )
    await demo.admin(env.simulators["infor"], "POST", "faults", {"latency_ms": 0})
    restarted = await start_service(env)
    try:
        await wait_for_success(env, timeout=120)
    finally:
        assert await stop(restarted) == 0
    m3 = await demo.admin(env.simulators["infor"], "GET", "state")
    coris = Counter(b["CORI"] for b in m3["entities"]["invoice_batches"] if b["kind"] == "invoice")
    expected = len(st.store.table("invoices").all()) + len(st.store.table("ap_bills").all())  # type: ignore[attr-defined]
    assert len(coris) == expected > partial
    assert max(coris.values()) == 1


async def run_check(config_path: Path) -> tuple[int, list[dict[str, str]]]:
    result = await anyio.run_process(
        [sys.executable, "-m", "connector", "check", "--json", "--config", str(config_path)],
        check=False,
    )
    return result.returncode, msgspec.json.decode(result.stdout)


async def test_check_reports_ok_and_a_precise_fail_for_each_mistake(
    env: demo.DemoEnvironment,
) -> None:
    """`check` says OK for the sandbox, and FAIL naming the cause for a wrong secret, a
    wrong CONO and an unreachable host."""
    original = env.config_path.read_text()
    st_url = env.simulators["servicetitan"].base_url
    # The broken configs are copies beside the good one (its paths are relative to it), so
    # the three checks, which only read, run at once.
    wrong_company = env.config_path.with_name("wrong-company.toml")
    wrong_company.write_text(original.replace('company = "100"', 'company = "300"'))
    unreachable = env.config_path.with_name("unreachable.toml")
    unreachable.write_text(
        original.replace(f'api_url = "{st_url}"', 'api_url = "http://127.0.0.1:1"')
    )
    checks: dict[Path, tuple[int, list[dict[str, str]]]] = {}

    async def check(path: Path) -> None:
        checks[path] = await run_check(path)

    async with anyio.create_task_group() as tg:
        for path in (env.config_path, wrong_company, unreachable):
            tg.start_soon(check, path)
    code, rows = checks[env.config_path]
    assert code == 0 and {r["status"] for r in rows} == {"OK"}
    code, rows = checks[wrong_company]
    infor = next(r for r in rows if r["system"] == "infor")
    assert code == 1 and infor["status"] == "FAIL" and "company 300" in infor["detail"]
    code, rows = checks[unreachable]
    st = next(r for r in rows if r["system"] == "servicetitan")
    assert code == 1 and st["status"] == "FAIL" and "connect" in st["detail"]
    vault = open_vault(env.config)
    good = vault.get("servicetitan")
    vault.set("servicetitan", "servicetitan", {**good.fields, "client_secret": "wrong-secret"})
    code, rows = await run_check(env.config_path)
    st = next(r for r in rows if r["system"] == "servicetitan")
    assert code == 1 and st["status"] == "FAIL" and "wrong-secret" not in st["detail"]
    assert "credential" in st["detail"] or "secret" in st["detail"]


async def test_run_and_check_serve_the_syspro_flow(tmp_path: Path) -> None:
    """`run` syncs servicetitan-syspro on its schedule with /healthz (SYSPRO has no token)
    and /metrics answering, stops cleanly on SIGTERM; `check` logs on to SYSPRO and says OK."""
    flow = "servicetitan-syspro"
    environment = await demo.start(
        tmp_path / "state", counts={"servicetitan": SMALL["servicetitan"]}, flows=[flow]
    )
    try:
        environment.ports = {"admin": free_port()}  # type: ignore[attr-defined]
        text = environment.config_path.read_text() + (
            f'[service]\nadmin_port = {environment.ports["admin"]}\n'  # type: ignore[attr-defined]
            f'webhook_host = "127.0.0.1"\nwebhook_port = {free_port()}\n'
            "shutdown_timeout_s = 10\n"
        )
        environment.config_path.write_text(text)
        code, rows = await run_check(environment.config_path)
        assert code == 0 and {r["system"]: r["status"] for r in rows}["syspro"] == "OK"
        process = await start_service(environment)
        try:
            with anyio.fail_after(60):
                while True:
                    try:
                        status, body = await admin_get(environment, "/healthz")
                    except aiohttp.ClientError:
                        await anyio.sleep(0.1)
                        continue
                    health = msgspec.json.decode(body)
                    if health["flows"].get(flow, {}).get("last_success"):
                        break
                    await anyio.sleep(0.1)
            systems = {s["system"]: s for s in health["systems"]}
            assert systems["syspro"]["token"]["state"] == "none"
            status, _ = await admin_get(environment, "/metrics")
            assert status == 200
        finally:
            assert await stop(process) == 0
        syspro = await demo.admin(environment.simulators["syspro"], "GET", "state")
        assert syspro["sessions"] == 0, "the service left an e.net session logged on"
    finally:
        await environment.stop()
