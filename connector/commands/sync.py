"""``sync``, ``replay`` and ``review``: run a flow, re-run its dead letters, resolve mappings."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from connector.app import App
from connector.commands.common import add_json_flag, config_from, print_json, print_table
from connector.errors import ConfigurationError
from connector.runtime.pipeline import StreamCounts
from connector.runtime.runner import CycleReport, FlowRunner

COLUMNS = (
    "read",
    "created",
    "updated",
    "unchanged",
    "changed",
    "failed",
    "review",
    "in_doubt",
    "deferred",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser("sync", help="run one sync cycle of a flow")
    sync.add_argument("--flow", required=True, help="flow name from the config")
    sync.add_argument(
        "--stream",
        action="append",
        help="only this stream (repeatable; default: the flow's streams from the config)",
    )
    sync.add_argument("--full", action="store_true", help="read everything, ignoring cursors")
    _attention_flag(sync)
    add_json_flag(sync)
    sync.set_defaults(handler=_sync)

    replay = sub.add_parser("replay", help="re-run dead letters after the cause is fixed")
    replay.add_argument("--flow", help="only this flow (default: every configured flow)")
    replay.add_argument("--stream", help="only this stream")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", dest="ids", help="source id (repeatable)")
    which.add_argument("--all-failed", action="store_true", help="every open dead letter")
    add_json_flag(replay)
    replay.set_defaults(handler=_replay)

    review = sub.add_parser("review", help="records waiting for a mapping")
    review_sub = review.add_subparsers(dest="review_command", metavar="ACTION")
    review_sub.required = True
    listing = review_sub.add_parser("list", help="open review items")
    listing.add_argument("--flow", help="only this flow")
    add_json_flag(listing)
    listing.set_defaults(handler=_review_list)
    resolve = review_sub.add_parser(
        "resolve", help="add mappings, then let every waiting record whose mapping exists go on"
    )
    resolve.add_argument("--flow", help="only this flow (default: every configured flow)")
    resolve.add_argument(
        "--mapping",
        nargs=2,
        action="append",
        default=[],
        metavar=("KIND", "KEY=VALUE"),
        help="add a mapping first, e.g. --mapping business_unit_cost_center 12=CC100",
    )
    resolve.add_argument("--id", action="append", dest="ids", help="only this source id")
    add_json_flag(resolve)
    resolve.set_defaults(handler=_review_resolve)
    accept = review_sub.add_parser(
        "accept",
        help="a document changed after posting has been adjusted in the target by hand: "
        "record the change as handled",
    )
    accept.add_argument("--flow", required=True, help="the flow of the document")
    accept.add_argument(
        "--id", action="append", dest="ids", required=True, help="source id (repeatable)"
    )
    add_json_flag(accept)
    accept.set_defaults(handler=_review_accept)


def _attention_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attention-ok",
        action="store_true",
        help="exit 0 even when records need attention (dead letters, documents changed "
        "after posting); a stopped run still exits 1",
    )


def report_rows(report: CycleReport) -> list[list[object]]:
    rows: list[list[object]] = []
    for stream, counts in report.streams.items():
        values = counts.as_dict()
        rows.append([report.flow, stream, *(values.get(c, 0) for c in COLUMNS)])
    return rows


def print_reports(reports: list[CycleReport], as_json: bool) -> None:
    if as_json:
        print_json([report_json(r) for r in reports])
        return
    rows = [row for report in reports for row in report_rows(report)]
    print_table(["flow", "stream", *COLUMNS], rows)
    for report in reports:
        if report.error:
            print(f"\n{report.flow}: {report.status_text}: {report.error}", file=sys.stderr)
        elif report.attention:
            print(
                f"\n{report.flow}: {report.status_text}: "
                f"{report.total('failed')} dead letter(s), {report.total('changed')} document(s) "
                "changed after posting",
                file=sys.stderr,
            )
        print_causes(report)


def print_causes(report: CycleReport) -> None:
    """Errors by cause with counts, one line each, largest first: a thousand records
    refused for one missing mapping are one line, not a thousand."""
    counts: Counter[str] = Counter()
    streams: dict[str, list[str]] = {}
    examples: dict[str, str] = {}
    for stream, stream_counts in report.streams.items():
        for cause, n in stream_counts.causes.items():
            counts[cause] += n
            streams.setdefault(cause, []).append(stream)
            examples.setdefault(cause, stream_counts.examples[cause])
    for cause, n in counts.most_common():
        print(f"  {n} x {', '.join(streams[cause])}: {examples[cause]}", file=sys.stderr)
    if report.total("failed"):
        print(
            "  (`ml-connector errors list` groups the dead letters by cause; after the fix, "
            "`ml-connector errors retry GROUP`)",
            file=sys.stderr,
        )
    if report.total("review") or report.total("changed"):
        print("  (waiting for review: `ml-connector review list`)", file=sys.stderr)


def report_json(report: CycleReport) -> dict[str, object]:
    return {
        "flow": report.flow,
        "run_id": report.run_id,
        "trigger": report.trigger,
        "ok": report.ok,
        "status": report.status,
        "status_text": report.status_text,
        "error": report.error,
        "streams": report.counts(),
        "totals": {c: report.total(c) for c in COLUMNS},
    }


def report_from_json(body: dict[str, Any]) -> CycleReport:
    """A report the service sent (:func:`report_json`), to print as a local one is."""
    streams = {
        name: StreamCounts(
            read=counts.get("read", 0),
            outcomes=Counter({k: v for k, v in counts.items() if k != "read"}),
        )
        for name, counts in body["streams"].items()
    }
    return CycleReport(
        body["flow"], body["run_id"], body["trigger"], streams=streams, error=body["error"]
    )


class Progress:
    """One status line per stream on stderr, only when it is a terminal."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.current: str | None = None

    def __call__(self, stream: str, counts: StreamCounts) -> None:
        if not self.live:
            return
        done = sum(counts.outcomes.values())
        line = f"  {stream:<18} {done:>7} / {counts.read:<7} " + " ".join(
            f"{k} {v}" for k, v in sorted(counts.outcomes.items())
        )
        sys.stderr.write("\r" + line[:120].ljust(120))
        self.current = stream

    def finish(self) -> None:
        if self.live and self.current:
            sys.stderr.write("\n")


def with_app(
    args: argparse.Namespace, body: Callable[[App], Awaitable[int]], *, writer: bool = True
) -> int:
    """Run ``body`` with the app open; a writer takes the state's process lock (and is
    refused, naming the holder's pid, while the service or another sync runs)."""

    # One log line per refused record is the service's journal; at a terminal the run's
    # summary counts them by cause instead (print_causes).
    logging.getLogger("connector.records").setLevel(logging.ERROR)

    async def go() -> int:
        app = await App.open(config_from(args), writer=writer)
        try:
            return await body(app)
        finally:
            await app.aclose()

    return anyio.run(go)


def run_exit_code(reports: list[CycleReport], attention_ok: bool = False) -> int:
    """1 when a run stopped, or records need attention (unless ``--attention-ok``)."""
    if not all(r.ok for r in reports):
        return 1
    return 0 if attention_ok or not any(r.attention for r in reports) else 1


def _sync(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        runner = await app.runner(args.flow)
        streams = await app.streams_to_run(args.flow, args.stream)
        progress = Progress()
        report = await runner.cycle(
            streams=streams, full=args.full, trigger="manual", progress=progress
        )
        progress.finish()
        print_reports([report], args.json)
        return run_exit_code([report], args.attention_ok)

    return with_app(args, body)


async def _runners(app: App, flow: str | None) -> list[FlowRunner]:
    """The named flow (refused if disabled), else every enabled one."""
    names = [flow] if flow else app.enabled_flows()
    return [await app.runner(name) for name in names]


def _replay(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        reports = [
            await runner.replay(
                stream=args.stream, source_ids=None if args.all_failed else args.ids
            )
            for runner in await _runners(app, args.flow)
        ]
        print_reports(reports, args.json)
        return run_exit_code(reports)

    return with_app(args, body)


def _review_list(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        items = await app.store.review_items(flow=args.flow)
        if args.json:
            print_json(
                [
                    {
                        "flow": i.key.flow,
                        "stream": i.key.stream,
                        "source_id": i.key.source_id,
                        "mapping_kind": i.mapping_kind,
                        "mapping_key": i.mapping_key,
                        "reason": i.reason,
                    }
                    for i in items
                ]
            )
            return 0
        if not items:
            print("nothing is waiting for review")
            return 0
        print_table(
            ["flow", "stream", "source id", "mapping", "key", "reason"],
            [
                [
                    i.key.flow,
                    i.key.stream,
                    i.key.source_id,
                    i.mapping_kind,
                    i.mapping_key,
                    i.reason[:80],
                ]
                for i in items
            ],
        )
        return 0

    return with_app(args, body, writer=False)


def _review_resolve(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        for kind, pair in args.mapping:
            key, sep, value = pair.partition("=")
            if not sep or not key or not value:
                print(
                    f"--mapping {kind} {pair}: expected KEY=VALUE, e.g. 12=CC100", file=sys.stderr
                )
                return 2
            declared = app.config.mappings.get(kind, {})
            if key in declared:
                # The config is authoritative for its keys: an answer here would be replaced
                # at the next load, so the record would fail again.
                raise ConfigurationError(
                    f"--mapping {kind} {pair}: the config already maps {key} to "
                    f"{declared[key]!r} under [mappings.{kind}]; change it there, and the "
                    "service takes it at its next start or reload (SIGHUP)"
                )
            await app.store.set_mappings(kind, {key: value}, origin="cli")
        reports = [
            await runner.resume_review(source_ids=args.ids)
            for runner in await _runners(app, args.flow)
        ]
        print_reports(reports, args.json)
        return run_exit_code(reports)

    return with_app(args, body)


def _review_accept(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        runner = await app.runner(args.flow)
        report = await runner.resume_review(source_ids=args.ids, accept_changes=True)
        print_reports([report], args.json)
        return run_exit_code([report])

    return with_app(args, body)
