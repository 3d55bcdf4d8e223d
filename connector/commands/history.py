"""``runs`` and ``audit``: what happened, per cycle and per record."""

from __future__ import annotations

import argparse
import time

import anyio

from connector.commands.common import (
    add_json_flag,
    config_from,
    open_store,
    print_json,
    print_table,
)
from connector.runtime.runner import describe_status


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    runs = sub.add_parser("runs", help="history of sync cycles with counts and status")
    runs.add_argument("--flow", help="only this flow")
    runs.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    add_json_flag(runs)
    runs.set_defaults(handler=_runs)

    audit = sub.add_parser("audit", help="every step one record took")
    audit.add_argument("flow", help="flow name, e.g. servicetitan-infor")
    audit.add_argument("source_id", help="the record's id in the source system")
    add_json_flag(audit)
    audit.set_defaults(handler=_audit)


def _when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _runs(args: argparse.Namespace) -> int:
    async def go() -> int:
        store = await open_store(config_from(args))
        try:
            runs = await store.runs(flow=args.flow, limit=args.limit)
        finally:
            await store.close()
        if args.json:
            print_json(
                [
                    {
                        "id": r.id,
                        "flow": r.flow,
                        "trigger": r.trigger,
                        "status": r.status,
                        "status_text": describe_status(r.status, r.counts),
                        "started_at": r.started_at,
                        "finished_at": r.finished_at,
                        "counts": r.counts,
                        "error": r.error,
                    }
                    for r in runs
                ]
            )
            return 0
        rows = []
        for r in runs:
            totals: dict[str, int] = {}
            for per_stream in r.counts.values():
                for outcome, n in per_stream.items():
                    totals[outcome] = totals.get(outcome, 0) + n
            took = "" if r.finished_at is None else f"{r.finished_at - r.started_at:.1f}s"
            rows.append(
                [
                    r.id,
                    r.flow,
                    r.trigger,
                    describe_status(r.status, r.counts),
                    _when(r.started_at),
                    took,
                    totals.get("read", 0),
                    totals.get("created", 0),
                    totals.get("updated", 0),
                    totals.get("unchanged", 0),
                    totals.get("failed", 0),
                    totals.get("review", 0),
                ]
            )
        print_table(
            [
                "run",
                "flow",
                "trigger",
                "status",
                "started",
                "took",
                "read",
                "created",
                "updated",
                "unchanged",
                "failed",
                "review",
            ],
            rows,
        )
        return 0

    return anyio.run(go)


def _audit(args: argparse.Namespace) -> int:
    async def go() -> int:
        store = await open_store(config_from(args))
        try:
            events = await store.audit_history(args.flow, args.source_id)
            entries = {
                e.key.stream: e
                for e in [await store.ledger_entry(ev.key) for ev in events]
                if e is not None
            }
        finally:
            await store.close()
        if args.json:
            print_json(
                {
                    "flow": args.flow,
                    "source_id": args.source_id,
                    "ledger": [
                        {
                            "stream": s,
                            "state": e.state.value,
                            "target_id": e.target_id,
                            "attempts": e.attempts,
                        }
                        for s, e in entries.items()
                    ],
                    "events": [
                        {
                            "at": ev.at,
                            "run_id": ev.run_id,
                            "stream": ev.key.stream,
                            "step": ev.step,
                            "detail": ev.detail,
                        }
                        for ev in events
                    ],
                }
            )
            return 0
        if not events:
            print(f"no audit events for {args.flow} record {args.source_id}")
            return 1
        for stream, e in entries.items():
            print(
                f"{stream}: {e.state.value}, target id {e.target_id or '-'}, "
                f"{e.attempts} attempt(s)"
            )
        print_table(
            ["when", "run", "stream", "step", "detail"],
            [
                [_when(ev.at), ev.run_id or "", ev.key.stream, ev.step, ev.detail or ""]
                for ev in events
            ],
        )
        return 0

    return anyio.run(go)
