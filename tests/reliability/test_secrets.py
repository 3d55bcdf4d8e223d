"""Secrets: no client secret, token, HMAC key, password or vault key shows up in what the
connector writes: its output and logs, its error messages, or its database outside the
encrypted vault table.

The secrets are the simulators' own (``/_sandbox/credentials``), the demo's webhook HMAC
key, the vault key, every token the identity servers issued during the run, and the forms
they travel in (URL-encoded, the Basic header of the Infor token request).

The normal run drives the real command line (``python -m connector``) against simulators in
this process and makes it talk: faults and a mid-run token revocation (retries, in-doubt
writes, 401s and refreshes), a refused ServiceTitan secret and a refused Infor password
(error output), debug-level logging through the product's own log pipeline, and the
``runs``, ``review list`` and ``creds list`` reports. The soak run scans ``python -m
connector demo`` as a customer would first run it (a minute of work, so not in
``make test``).
"""

from __future__ import annotations

import base64
import sqlite3
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import anyio
import msgspec
import pytest

from connector import demo
from connector.config import load_config
from connector.vault import KINDS, Vault, open_vault
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import (
    FLOW,
    Figures,
    contractor,
    infor,
    revoke_every_token,
    servicetitan,
    start_tenant,
    tune_systems,
)

FAULTS = {
    "rate_5xx": 0.05,
    "rate_timeout": 0.02,
    "rate_timeout_after_commit": 0.03,
    "rate_reset": 0.02,
    "hang_s": 1.5,
    "seed": 5,
}
#: ``python -m connector`` with the product's own logging at debug level, JSON lines.
DEBUG_LOGGING = (
    "import sys; from connector.logs import configure_logging; from connector.cli import main; "
    "configure_logging('debug', sys.stderr); sys.exit(main(sys.argv[1:]))"
)
#: The Infor simulator's access tokens all start with this header ({"kid":"sandbox",...}).
INFOR_TOKEN_HEADER = base64.urlsafe_b64encode(b'{"kid":"sandbox","alg":"RS256"}').decode()[:40]


def variants(name: str, value: str) -> dict[str, str]:
    """A secret and the encoded forms it would take in a form body, URL or header."""
    return {
        name: value,
        f"{name} (url-encoded)": quote_plus(value),
        f"{name} (%-quoted)": quote(value, safe=""),
    }


def vault_secrets(vault: Vault) -> dict[str, str]:
    """Every secret field of every credential in the vault (an ``.ionapi`` file: its client
    secret and service account key and secret), in all its forms."""
    found: dict[str, str] = {}
    for info in vault.list():
        credential = vault.get(info.name)
        for field in sorted(KINDS[credential.kind].secret & set(credential.fields)):
            value = credential.fields[field]
            if credential.kind == "ionapi":
                ionapi = msgspec.json.decode(value)
                for key in ("cs", "saak", "sask"):
                    found |= variants(f"{info.name} {key}", ionapi[key])
            else:
                found |= variants(f"{info.name} {field}", value)
    return found


def scan(secrets: dict[str, str], places: dict[str, bytes]) -> list[str]:
    """``secret in place`` for every secret found somewhere it must not be."""
    return [
        f"{name} in {where}"
        for where, data in places.items()
        for name, value in secrets.items()
        if len(value) >= 8 and value.encode() in data
    ]


def database_outside_vault(db: Path) -> bytes:
    """Every value of every table but the vault's, as bytes (the vault holds ciphertext)."""
    out: list[bytes] = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] not in ("vault", "vault_meta")
        ]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite
                out += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    conn.close()
    return b"\n".join(out)


class Cli:
    """Runs ``python -m connector`` against the demo config and keeps what it printed."""

    def __init__(self, env: demo.DemoEnvironment) -> None:
        self.env = env
        self.output: dict[str, bytes] = {}

    async def __call__(self, label: str, *args: str, debug: bool = False) -> int:
        prefix = ["-c", DEBUG_LOGGING] if debug else ["-m", "connector"]
        command = [sys.executable, *prefix, "--config", str(self.env.config_path), *args]
        result = await anyio.run_process(command, check=False)
        self.output[f"{label} stdout"] = result.stdout
        self.output[f"{label} stderr"] = result.stderr
        return result.returncode


async def test_cli_runs_with_faults_and_refused_credentials_leak_no_secret(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """Syncs under faults, revoked tokens and refused credentials, debug logs and reports
    print no secret, and the database holds none outside the vault."""
    env = await start_tenant(tmp_path / "state", contractor(6, 2, lean=True))
    st, m3 = servicetitan(env), infor(env)
    cli = Cli(env)
    tokens: set[str] = set()
    revoked: list[int] = []
    try:
        timeouts = {"timeout_s": 1.0}
        tune_systems(env.config_path, {"servicetitan": timeouts, "infor": timeouts})
        st_creds = await demo.admin(st, "GET", "credentials")
        ionapi = await demo.admin(m3, "GET", "credentials")
        for sim in (st, m3):
            await demo.admin(sim, "POST", "faults", FAULTS)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_revoke_mid_run, env, tokens, revoked)
            assert await cli("sync under faults", "sync", "--flow", FLOW) in (0, 1)
            tg.cancel_scope.cancel()
        await cli("debug sync", "sync", "--flow", FLOW, "--full", debug=True)
        tokens |= set(st._tokens) | set(m3.tokens._tokens)
        vault = open_vault(load_config(env.config_path))
        good = vault.get("servicetitan")
        wrong_secret = "cs1.wrong-secret-typed-by-an-operator-4711"
        vault.set("servicetitan", "servicetitan", {**good.fields, "client_secret": wrong_secret})
        refused = await cli("wrong servicetitan secret", "sync", "--flow", FLOW, debug=True)
        vault.set("servicetitan", "servicetitan", dict(good.fields))
        wrong_sask = "wrong-sask-typed-by-an-operator-0815"
        good_ionapi = vault.get("infor")
        damaged = good_ionapi.secret("ionapi").replace(ionapi["sask"], wrong_sask)
        vault.set("infor", "ionapi", {"ionapi": damaged})
        refused_m3 = await cli("wrong infor password", "sync", "--flow", FLOW)
        vault.set("infor", "ionapi", dict(good_ionapi.fields))
        async with anyio.create_task_group() as reports:  # they only read: all at once
            reports.start_soon(cli, "runs", "runs", "--json")
            reports.start_soon(cli, "review list", "review", "list")
            reports.start_soon(cli, "creds list", "creds", "list")
        tokens |= set(st._tokens) | set(m3.tokens._tokens)
        hmac_key = vault.get("servicetitan-webhook").secret("secret")
    finally:
        await env.stop()
    secrets = {
        **variants("servicetitan client_secret", st_creds["client_secret"]),
        **variants("servicetitan app_key", st_creds["app_key"]),
        **variants("infor client secret (cs)", ionapi["cs"]),
        **variants("infor service account key (saak)", ionapi["saak"]),
        **variants("infor service account secret (sask)", ionapi["sask"]),
        "infor Basic header": base64.b64encode(f"{ionapi['ci']}:{ionapi['cs']}".encode()).decode(),
        **variants("webhook HMAC key", hmac_key),
        "vault key": (env.state_dir / "vault.key").read_text().strip(),
        **variants("a wrong secret an operator typed", wrong_secret),
        **variants("a wrong password an operator typed", wrong_sask),
        **{f"token #{n}": t for n, t in enumerate(sorted(tokens))},
    }
    db = env.state_dir / "connector.db"
    places = {**cli.output, "the database outside the vault": database_outside_vault(db)}
    leaks = scan(secrets, places)
    show_figures(
        Figures(
            "secrets",
            len(cli.output) // 2,
            len(secrets),
            0,
            0,
            refused + refused_m3,
            f"leaks={len(leaks)}; {len(tokens)} tokens issued, "
            f"{sum(map(len, places.values()))} bytes scanned",
        )
    )
    assert refused == 1 and refused_m3 == 1, "a refused credential did not fail the sync"
    assert b"client credentials" in cli.output["wrong servicetitan secret stderr"]
    assert revoked, "the sync ended before the tokens could be revoked"
    assert len(tokens) >= 5, "the run issued fewer tokens than the revocation should cause"
    assert b'"logger": "connector.' in cli.output["debug sync stderr"], "no log lines to scan"
    assert leaks == []


async def _revoke_mid_run(env: demo.DemoEnvironment, tokens: set[str], revoked: list[int]) -> None:
    """Once the sync is under way (its reference data alone takes ~60 M3 requests), keep the
    tokens issued so far and revoke them all."""
    st, m3 = servicetitan(env), infor(env)
    start = m3.counters["requests"]
    while m3.counters["requests"] < start + 40:
        await anyio.sleep(0.01)
    tokens |= set(st._tokens) | set(m3.tokens._tokens)
    revoked.append(revoke_every_token(st, m3))


@pytest.mark.soak
@pytest.mark.timeout(900)
async def test_demo_leaks_no_secret(tmp_path: Path, show_figures: ShowFigures) -> None:
    """``python -m connector demo`` prints no secret and stores none outside the vault."""
    state = tmp_path / "demo"
    result = await anyio.run_process(
        [sys.executable, "-m", "connector", "demo", "--state-dir", str(state)], check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    secrets = vault_secrets(open_vault(load_config(state / "connector.toml")))
    secrets["vault key"] = (state / "vault.key").read_text().strip()
    secrets["an Infor access token"] = INFOR_TOKEN_HEADER
    places = {
        "demo stdout": result.stdout,
        "demo stderr": result.stderr,
        "the database outside the vault": database_outside_vault(state / "connector.db"),
    }
    leaks = scan(secrets, places)
    show_figures(Figures("secrets (demo)", 1, len(secrets), 0, 0, 0, f"leaks={len(leaks)}"))
    assert leaks == []
