"""``run`` (the service) and ``check`` ("add your credentials, ping your real systems")."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import anyio
import msgspec

from connector import registry
from connector.app import App
from connector.commands.checks import flow_checks, state_and_service_checks, unknown_key_rows
from connector.commands.common import (
    add_json_flag,
    config_from,
    config_path,
    print_json,
    print_table,
)
from connector.commands.tenants import add_database_flag
from connector.config.loader import load_config_reporting_unknown_keys
from connector.errors import ConfigurationError, ConnectorError, clause
from connector.scale.settings import NodeSettings
from connector.service import run_service


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="run the service: schedules, webhooks, /healthz, /metrics")
    run.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="run as one node of a cluster: N tenant jobs at a time, tenants and job queue "
        "in PostgreSQL (--database-url); without it, the single-VM service of the config",
    )
    add_database_flag(run)
    run.add_argument(
        "--webhook-port",
        type=int,
        default=None,
        help="with --workers: receive tenants' webhooks on this port, at "
        "/webhooks/TENANT/FLOW (default: no receiver on this node)",
    )
    run.add_argument(
        "--admin-port",
        type=int,
        default=None,
        help="with --workers: serve this node's /healthz and /metrics on this port "
        "(default: [service] admin_port), so several nodes can share a machine",
    )
    run.add_argument(
        "--heartbeat", type=float, default=5.0, help="seconds between a node's heartbeats"
    )
    run.add_argument(
        "--stalled-after",
        type=float,
        default=30.0,
        help="seconds of silence after which a node counts as dead and loses its jobs",
    )
    run.set_defaults(handler=_run)
    check = sub.add_parser(
        "check", help="for each system: get a token and make one cheap read; OK/FAIL with the fix"
    )
    add_json_flag(check)
    check.set_defaults(handler=_check)


def _run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.workers is not None:
        # Imported here: Procrastinate is needed by cluster nodes only.
        from connector.scale.node import run_node

        settings = NodeSettings.from_config(
            config,
            args.database_url,
            heartbeat_s=args.heartbeat,
            stalled_after_s=args.stalled_after,
        )
        if args.admin_port is not None:
            settings = dataclasses.replace(
                settings,
                service=msgspec.structs.replace(settings.service, admin_port=args.admin_port),
            )
        return anyio.run(run_node, settings, args.workers, args.webhook_port)
    if args.admin_port is not None:
        raise ConfigurationError(
            "--admin-port is for a cluster node (with --workers); the service takes its "
            "admin port from [service] admin_port in the config"
        )
    if args.database_url is not None:
        raise ConfigurationError(
            "--database-url runs a cluster node: give --workers N too (N tenant jobs at once)"
        )
    return anyio.run(run_service, getattr(args, "config", None), config)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


async def probe(app: App, name: str) -> tuple[str, str]:
    """One system's check: ("OK", what was read) or ("FAIL", what happened and the fix)."""
    try:
        supervisor = await app.supervisor(name)
        check = registry.system(supervisor.kind).check
        if check is None:
            return "FAIL", f"no check for systems of kind {supervisor.kind}"
        return "OK", await check(supervisor.connection)
    except ConnectorError as exc:
        return "FAIL", _advice(exc)
    except OSError as exc:
        return "FAIL", f"cannot reach the system ({exc}); check the URL and the network"


def _advice(exc: ConnectorError) -> str:
    text = exc.message
    if exc.kind in ("unavailable", "timeout"):
        return f"{clause(text)}. Check the URL in the config, DNS and firewall."
    return text


def _check(args: argparse.Namespace) -> int:
    async def go() -> int:
        path = config_path(args)
        config, unknown = (
            (config_from(args), []) if path is None else load_config_reporting_unknown_keys(path)
        )
        # Read-only: `check` pings the systems and may run beside the service.
        app = await App.open(config, writer=False)
        results: list[dict[str, Any]] = unknown_key_rows(unknown)
        try:
            for name, system in app.config.systems.items():
                status, detail = await probe(app, name)
                results.append(
                    {"system": name, "kind": system.kind, "status": status, "detail": detail}
                )
            failed = {r["system"] for r in results if r["status"] != "OK"}
            results += await flow_checks(app, failed)
            results += await state_and_service_checks(app)
        finally:
            await app.aclose()
        if args.json:
            print_json(results)
        else:
            print_table(
                ["system", "kind", "status", "detail / what to fix"],
                [[r["system"], r["kind"], r["status"], r["detail"]] for r in results],
            )
        return 0 if all(r["status"] == "OK" for r in results) else 1

    return anyio.run(go)
