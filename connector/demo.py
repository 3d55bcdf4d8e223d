"""The demo environment: simulators on loopback, a seeded contractor, a fresh vault and config.

Used by ``ml-connector demo``, by the end-to-end tests and by the benchmark, so all three
exercise exactly what a customer's installation does: credentials go into the vault through
the same code as ``creds set`` / ``creds import-ionapi``, the config is an ordinary TOML file
(written next to the state database, so ``ml-connector --config <dir>/connector.toml runs``
works after the demo), and the implementer's one-time setup (mapping tables, the clearing
supplier for job invoices) is done through the clients, as a person would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from connector import demo_acumatica, demo_ifs, demo_lines, demo_servicenow, demo_syspro
from connector.config import Config, load_config
from connector.http.limiter import LimiterRegistry
from connector.sandbox import load_simulator
from connector.sandbox.base import Simulator
from connector.vault import Vault, generate_key, open_vault, write_key_file

#: The flows the demo runs, in order, and the systems each needs.
DEMO_FLOWS: dict[str, tuple[str, str]] = {
    "servicetitan-infor": ("servicetitan", "infor"),
    "servicetitan-acumatica": ("servicetitan", "acumatica"),
    "ifs-servicetitan": ("ifs", "servicetitan"),
    "infor-servicenow": ("infor", "servicenow"),
    "servicetitan-syspro": ("servicetitan", "syspro"),
}
CLEARING_SUPPLIER = "STCLEAR"
#: The HMAC key of the demo's ServiceTitan webhooks (a sandbox fixture, not a secret: the
#: bench signs its own deliveries with it to load the receiver beyond what the sandbox sends).
DEMO_WEBHOOK_SECRET = "demo-webhook-secret-0123456789abcdef"  # noqa: S105 - a fixture


@dataclass
class DemoEnvironment:
    state_dir: Path
    config_path: Path
    simulators: dict[str, Simulator] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    async def stop(self) -> None:
        for sim in self.simulators.values():
            await sim.stop()


async def admin(sim: Simulator, method: str, path: str, body: object = None) -> Any:
    """Call a simulator's ``/_sandbox/`` admin API."""
    async with aiohttp.ClientSession() as session:
        async with session.request(
            method, f"{sim.base_url}/_sandbox/{path}", json=body
        ) as response:
            response.raise_for_status()
            return await response.json()


async def start(
    state_dir: Path,
    *,
    seed: int = 7,
    counts: dict[str, dict[str, int]] | None = None,
    flows: Sequence[str] = tuple(DEMO_FLOWS),
    host: str = "127.0.0.1",
    infor_product: str = "m3",
) -> DemoEnvironment:
    """Start and seed the simulators the flows need, then write vault and config;
    ``infor_product`` other than m3 runs the Infor flows on that line (:mod:`.demo_lines`)."""
    if infor_product != "m3" and "infor-servicenow" in flows:
        raise ValueError(
            f"infor-servicenow reads M3 and cannot run with the Infor system on "
            f"{infor_product}: run servicetitan-infor alone (--flow servicetitan-infor)"
        )
    env = DemoEnvironment(state_dir, state_dir / "connector.toml")
    systems = sorted({s for name in flows for s in DEMO_FLOWS[name]})
    try:
        for name in systems:
            sim = load_simulator(name)()
            await sim.start(host, 0)
            env.simulators[name] = sim
            system_counts = (counts or {}).get(name)
            if system_counts is None and name == "syspro":
                system_counts = demo_syspro.COUNTS
            await admin(
                sim,
                "POST",
                "seed",
                {"seed": seed, **({"counts": system_counts} if system_counts else {})},
            )
        if "infor" in env.simulators:
            # The demo tenant runs an M3 version that takes AIT fields on APS450MI/AddLine.
            await admin(env.simulators["infor"], "POST", "faults", {"addline_ait": True})
        if "acumatica" in env.simulators:
            await admin(env.simulators["acumatica"], "POST", "faults", demo_acumatica.knobs())
        if "ifs" in env.simulators:
            await admin(env.simulators["ifs"], "POST", "faults", demo_ifs.knobs())
        if "syspro" in env.simulators:
            await admin(env.simulators["syspro"], "POST", "faults", demo_syspro.knobs())
        credentials = {
            name: await admin(sim, "GET", "credentials") for name, sim in env.simulators.items()
        }
        _write_vault(env, credentials)
        _write_config(env, flows, credentials)
        _append_mappings(env, await _implementer_setup(env))
        if infor_product != "m3" and "infor" in env.simulators:
            line_counts = (counts or {}).get(demo_lines.LINE_DEMOS[infor_product].segment)
            await demo_lines.use_line(env, infor_product, seed, line_counts)
    except BaseException:
        await env.stop()
        raise
    return env


def _write_vault(env: DemoEnvironment, credentials: dict[str, Any]) -> None:
    env.state_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    key_file = env.state_dir / "vault.key"
    if key_file.exists():
        key_file.unlink()
    write_key_file(key_file, key)
    db = env.state_dir / "connector.db"
    for stale in env.state_dir.glob("connector.db*"):
        stale.unlink()
    vault = Vault.init(db, key, key_source=str(key_file))
    if "servicetitan" in credentials:
        creds = credentials["servicetitan"]
        vault.set(
            "servicetitan",
            "servicetitan",
            {k: str(creds[k]) for k in ("client_id", "client_secret", "app_key")},
        )
        vault.set(
            "servicetitan-webhook",
            "webhook-hmac",
            {"secret": DEMO_WEBHOOK_SECRET},
        )
    if "acumatica" in credentials:
        fields = demo_acumatica.vault_fields(credentials["acumatica"])
        vault.set(demo_acumatica.CREDENTIAL, "acumatica", fields)
    if "ifs" in credentials:
        vault.set(demo_ifs.CREDENTIAL, "ifs", demo_ifs.vault_fields(credentials["ifs"]))
    if "servicenow" in credentials:
        fields = demo_servicenow.vault_fields(credentials["servicenow"])
        vault.set(demo_servicenow.CREDENTIAL, "servicenow-oauth", fields)
    if "syspro" in credentials:
        fields = demo_syspro.vault_fields(credentials["syspro"])
        vault.set(demo_syspro.CREDENTIAL, "syspro", fields)
    if "infor" in credentials:
        ionapi = credentials["infor"]
        vault.set("infor", "ionapi", {"ionapi": msgspec.json.encode(ionapi).decode()})


def _write_config(env: DemoEnvironment, flows: Sequence[str], credentials: dict[str, Any]) -> None:
    lines = [
        "# Written by `ml-connector demo` for its simulators; see connector.example.toml.",
        "[store]",
        'path = "connector.db"',
        "",
        "[vault]",
        'key_file = "vault.key"',
        'key_env = "ML_CONNECTOR_DEMO_VAULT_KEY"',
        "",
    ]
    if "servicetitan" in env.simulators:
        sim = env.simulators["servicetitan"]
        creds = credentials["servicetitan"]
        lines += [
            "[systems.servicetitan]",
            'kind = "servicetitan"',
            'credential = "servicetitan"',
            f"tenant = {creds['tenant']}",
            f'api_url = "{sim.base_url}"',
            f'auth_url = "{sim.base_url}"',
            'webhook_secret_credential = "servicetitan-webhook"',
            "",
        ]
    if "infor" in env.simulators:
        lines += [
            "[systems.infor]",
            'kind = "infor"',
            'credential = "infor"',
            'company = "100"',
            'division = "AAA"',
            "# The simulator does not throttle; a real tenant's budget is typically 100-500/min.",
            "requests_per_minute = 60000",
            "",
        ]
    if "acumatica" in env.simulators:
        base_url = env.simulators["acumatica"].base_url
        lines += demo_acumatica.config_lines(base_url, credentials["acumatica"])
    if "ifs-servicetitan" in flows:
        lines += demo_ifs.config_lines(credentials["ifs"])
    if "infor-servicenow" in flows:
        lines += demo_servicenow.config_lines(credentials["servicenow"])

    if "syspro" in env.simulators:
        lines += demo_syspro.config_lines(credentials["syspro"])
    for name in flows:
        if name in (
            "servicetitan-acumatica",
            "ifs-servicetitan",
            "infor-servicenow",
            "servicetitan-syspro",
        ):
            continue  # config_lines wrote its whole section, options included
        source, target = DEMO_FLOWS[name]
        lines += [
            f"[flows.{name}]",
            f'source = "{source}"',
            f'target = "{target}"',
            'schedule = "every 5m"',
            "",
        ]
        if name == "servicetitan-infor":
            lines += [f"[flows.{name}.options]", f'invoice_supplier = "{CLEARING_SUPPLIER}"', ""]
    env.config_path.write_text("\n".join(lines) + "\n")


async def _implementer_setup(env: DemoEnvironment) -> dict[str, dict[str, str]]:
    """What an implementer does once: fill the mapping tables, create the clearing supplier."""
    config = env.config
    vault = open_vault(config)
    from connector.systems import open_connection

    limiters = LimiterRegistry()
    mappings: dict[str, dict[str, str]] = {}
    if {"servicetitan", "infor"} <= set(env.simulators):
        from connector.systems.servicetitan.resources import RESOURCES

        st = open_connection(config.systems["servicetitan"], vault.get("servicetitan"), limiters)
        m3 = open_connection(config.systems["infor"], vault.get("infor"), limiters)
        try:
            units = [u async for u in st.client.records(RESOURCES["business_units"])]
            accounts = [a async for a in st.client.records(RESOURCES["gl_accounts"])]
            centers = [c.AITM for c in await m3.client.accounting_ids(2)]
            m3_accounts = [a.AITM for a in await m3.client.accounting_ids(1)]
            mappings["business_unit_cost_center"] = {
                str(u.id): centers[i % len(centers)]
                for i, u in enumerate(sorted(units, key=lambda u: u.id))
            }
            mappings["gl_account"] = {
                a.number: _m3_account(a.type, m3_accounts) for a in accounts if a.number
            }
            if await m3.client.get_supplier(CLEARING_SUPPLIER) is None:
                fields = await m3.client.supplier_template("TEMPLATE")
                fields.update({"SUNO": CLEARING_SUPPLIER, "SUNM": "ServiceTitan job invoices"})
                await m3.client.add_supplier(fields)
        finally:
            await st.aclose()
            await m3.aclose()
    if {"servicetitan", "acumatica"} <= set(env.simulators):
        st = open_connection(config.systems["servicetitan"], vault.get("servicetitan"), limiters)
        acu = open_connection(config.systems["acumatica"], vault.get("acumatica"), limiters)
        try:
            mappings.update(await demo_acumatica.setup(st.client, acu.client))
        finally:
            await st.aclose()
            await acu.aclose()
    if {"servicetitan", "ifs"} <= set(env.simulators):
        st = open_connection(config.systems["servicetitan"], vault.get("servicetitan"), limiters)
        ifs = open_connection(config.systems["ifs"], vault.get(demo_ifs.CREDENTIAL), limiters)
        try:
            mappings.update(await demo_ifs.setup(st.client, ifs.client))
        finally:
            await st.aclose()
            await ifs.aclose()
    if {"infor", "servicenow"} <= set(env.simulators):
        m3 = open_connection(config.systems["infor"], vault.get("infor"), limiters)
        try:
            await demo_servicenow.post_invoices(m3.client)
        finally:
            await m3.aclose()
    if {"servicetitan", "syspro"} <= set(env.simulators):
        st = open_connection(config.systems["servicetitan"], vault.get("servicetitan"), limiters)
        syspro = open_connection(config.systems["syspro"], vault.get("syspro"), limiters)
        try:
            mappings.update(await demo_syspro.setup(st.client, syspro))
        finally:
            await st.aclose()
            await syspro.aclose()
    return mappings


def _append_mappings(env: DemoEnvironment, mappings: dict[str, dict[str, str]]) -> None:
    with env.config_path.open("a") as out:
        for kind, values in mappings.items():
            out.write(f"[mappings.{kind}]\n")
            for key, value in sorted(values.items()):
                out.write(f'"{key}" = "{value}"\n')
            out.write("\n")


def _m3_account(kind: str | None, accounts: list[str]) -> str:
    """An M3 account for a ServiceTitan GL account type, as a chart-of-accounts review would."""
    wanted = {
        "Revenue": "4010",
        "Income": "4010",
        "COGS": "5010",
        "Expense": "5010",
        "Asset": "5010",
    }
    preferred = wanted.get(kind or "", "5010")
    return preferred if preferred in accounts else accounts[0]
