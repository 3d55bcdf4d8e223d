"""``ml-connector tenants add|list|remove|creds``: the tenants of a cluster (see
:mod:`connector.scale`).

A tenant is a row in the cluster's PostgreSQL holding its configuration (the TOML of its
systems, flows and mappings); its credentials go into its own vault, encrypted with the
nodes' vault key, never into the row. Every node runs every tenant.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import anyio

from connector.commands.common import add_json_flag, config_from, print_json, print_table
from connector.commands.creds import _prompt_fields, _read_fields
from connector.errors import ConfigurationError
from connector.scale.directory import TenantDirectory, check_tenant_id, schedules_of
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_vault
from connector.scale.tenant_config import tenant_config
from connector.vault import KINDS


def add_database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="the cluster's postgresql:// URL (default: $ML_CONNECTOR_DATABASE_URL)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tenants = sub.add_parser(
        "tenants",
        help="add, list and remove the tenants of a cluster (PostgreSQL)",
        description="The tenants every node of a cluster runs. Each is a row in the "
        "cluster's PostgreSQL: its config (systems, flows, mappings) as TOML; its "
        "credentials go into its own vault (`tenants creds`).",
    )
    actions = tenants.add_subparsers(dest="tenants_command", required=True, metavar="COMMAND")

    add = actions.add_parser("add", help="add a tenant (or --replace its config)")
    add.add_argument("tenant", help="tenant id: lower-case letters, digits, underscores")
    add.add_argument(
        "--file", type=Path, required=True, help="the tenant's TOML: [systems.*], [flows.*]…"
    )
    add.add_argument("--replace", action="store_true", help="replace an existing tenant's config")
    add_database_flag(add)
    add.set_defaults(handler=_add)

    list_ = actions.add_parser("list", help="list the tenants and their flows")
    add_json_flag(list_)
    add_database_flag(list_)
    list_.set_defaults(handler=_list)

    remove = actions.add_parser("remove", help="stop running a tenant (its state is kept)")
    remove.add_argument("tenant")
    add_database_flag(remove)
    remove.set_defaults(handler=_remove)

    creds = actions.add_parser(
        "creds", help="store a credential in a tenant's vault (fields from stdin, as creds set)"
    )
    creds.add_argument("tenant")
    creds.add_argument("name", help="credential name, as the tenant's config refers to it")
    creds.add_argument("--kind", required=True, choices=sorted(KINDS), help="credential kind")
    add_database_flag(creds)
    creds.set_defaults(handler=_creds)


def _settings(args: argparse.Namespace) -> NodeSettings:
    return NodeSettings.from_config(config_from(args), args.database_url)


def _add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    tenant = check_tenant_id(args.tenant)
    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot read the tenant's config ({exc})") from None
    config = tenant_config(settings, tenant, text)
    directory = TenantDirectory(settings.database_url)

    async def go() -> bool:
        await directory.create_schema()
        return await directory.add(tenant, text, config, replace=args.replace)

    if not anyio.run(go):
        raise ConfigurationError(
            f"tenant {tenant} exists already; pass --replace to replace its config"
        )
    open_tenant_vault(settings, tenant, create=True)
    flows = ", ".join(f"{flow} ({kind} {when})" for flow, kind, when in schedules_of(config))
    print(f"tenant {tenant}: {flows}; first cycles are due now")
    missing = sorted({system.credential for system in config.systems.values()})
    print(
        "credentials it names: "
        + ", ".join(missing)
        + f" — store each with `ml-connector tenants creds {tenant} NAME --kind KIND`"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    directory = TenantDirectory(settings.database_url)

    async def go() -> list[dict[str, Any]]:
        await directory.create_schema()
        rows: list[dict[str, Any]] = []
        for row in await directory.tenants():
            config = tenant_config(settings, row.id, row.config_toml)
            rows.append(
                {
                    "tenant": row.id,
                    "flows": [name for name, flow in config.flows.items() if flow.enabled],
                    "systems": sorted(config.systems),
                    "added_at": row.added_at.isoformat(timespec="seconds"),
                    "updated_at": row.updated_at.isoformat(timespec="seconds"),
                }
            )
        pairs = [(r["tenant"], flow) for r in rows for flow in r["flows"]]
        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for item in await directory.overview(pairs):
            by_tenant.setdefault(item.tenant, []).append(
                {
                    "flow": item.flow,
                    "next_due": item.next_due,
                    "last_run": None if item.last_run is None else asdict(item.last_run),
                    "open_errors": item.open_errors,
                    "open_review": item.open_review,
                    "job": item.job,
                }
            )
        for r in rows:
            r["flow_status"] = by_tenant.get(r["tenant"], [])
        return rows

    rows = anyio.run(go)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no tenants; add one with `ml-connector tenants add ID --file tenant.toml`")
        return 0
    table = []
    for r in rows:
        for flow in r["flow_status"] or [{"flow": "(none enabled)"}]:
            last = flow.get("last_run")
            table.append(
                [
                    r["tenant"],
                    flow["flow"],
                    flow.get("next_due"),
                    None if last is None else f"#{last['id']} {last['status']}",
                    None if last is None else last["finished_at"] or "running",
                    flow.get("open_errors"),
                    flow.get("job") or "-",
                ]
            )
    print_table(
        ["TENANT", "FLOW", "NEXT DUE", "LAST RUN", "FINISHED", "OPEN ERRORS", "JOB"], table
    )
    failed = [
        (r["tenant"], f["flow"], f["last_run"]["error"])
        for r in rows
        for f in r["flow_status"]
        if f["last_run"] is not None and f["last_run"]["status"] == "failed"
        and f["last_run"]["error"]
    ]
    for tenant, flow, error in failed:
        print(f"{tenant}/{flow} last run failed: {error}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not anyio.run(TenantDirectory(settings.database_url).remove, args.tenant):
        raise ConfigurationError(
            f"no tenant {args.tenant}; `ml-connector tenants list` shows the ids"
        )
    print(
        f"tenant {args.tenant} removed: no node starts a job for it any more; its state "
        "and vault are kept on disk"
    )
    return 0


def _creds(args: argparse.Namespace) -> int:
    settings = _settings(args)
    tenant = check_tenant_id(args.tenant)
    if anyio.run(TenantDirectory(settings.database_url).get, tenant) is None:
        raise ConfigurationError(f"no tenant {tenant}; add it first with `tenants add`")
    kind = KINDS[args.kind]
    fields = _read_fields(kind) if not sys.stdin.isatty() else _prompt_fields(args.name, kind)
    if kind.validate is not None:
        kind.validate(fields, f"credential {args.name!r} of tenant {tenant}")
    info = open_tenant_vault(settings, tenant, create=True).set(args.name, kind.name, fields)
    print(
        f"tenant {tenant}: stored credential {info.name} (kind {info.kind}, "
        f"fingerprint {info.fingerprint})"
    )
    return 0
