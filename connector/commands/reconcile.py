"""``ml-connector reconcile --flow F --from DATE --to DATE``: do source and target agree?

Source totals (count, amount) of the period's documents against the target's copies read
back by natural key, and every document that differs — missing in the target, another
amount, or extra in the target (then it has no source amount: ``null`` in the JSON, empty
in the CSV) — see :mod:`connector.runtime.reconcile`. It only reads, so it runs beside the
service. Exit 0 when the books agree, 1 when a difference is listed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from connector.app import App
from connector.commands.common import add_json_flag, print_json, print_table
from connector.commands.sync import with_app
from connector.errors import ConfigurationError
from connector.runtime.reconcile import ReconcileReport, differences_csv, reconcile


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "reconcile", help="source totals vs the target's, with the documents that differ"
    )
    parser.add_argument("--flow", required=True, help="flow name from the config")
    parser.add_argument(
        "--from", dest="start", required=True, type=_date, help="first day, YYYY-MM-DD"
    )
    parser.add_argument("--to", dest="end", required=True, type=_date, help="last day, YYYY-MM-DD")
    parser.add_argument(
        "--csv", type=Path, metavar="FILE", help="also write the differences as CSV ('-': stdout)"
    )
    add_json_flag(parser)
    parser.set_defaults(handler=_reconcile)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


def _reconcile(args: argparse.Namespace) -> int:
    if args.end < args.start:
        raise ConfigurationError(f"--to {args.end} is before --from {args.start}")

    async def body(app: App) -> int:
        built = await app.built_flow(args.flow)
        report = await reconcile(built.flow, await app.store.all_mappings(), args.start, args.end)
        if args.csv is not None:
            text = differences_csv(report)
            if str(args.csv) == "-":
                sys.stdout.write(text)
            else:
                args.csv.write_text(text)
        if args.json:
            print_json(report.as_json())
        elif args.csv is None or str(args.csv) != "-":
            print_report(report)
        return 0 if report.agrees else 1

    return with_app(args, body, writer=False)


def print_report(report: ReconcileReport) -> None:
    print(f"{report.flow}, {report.start} to {report.end}")
    print_table(
        ["stream", "source docs", "source amount", "target docs", "target amount", "unmapped"],
        [
            [t.stream, t.source_count, t.source_amount, t.target_count, t.target_amount, t.unmapped]
            for t in report.streams
        ],
    )
    if report.agrees:
        print("\nsource and target agree")
        return
    print(f"\n{len(report.differences)} document(s) differ:")
    print_table(
        ["stream", "source id", "number", "date", "source", "target id", "target", "issue"],
        [
            [
                d.stream,
                d.source_id,
                d.number,
                d.date,
                "-" if d.source_amount is None else d.source_amount,
                d.target_id or "-",
                "-" if d.target_amount is None else d.target_amount,
                d.issue,
            ]
            for d in report.differences
        ],
    )
