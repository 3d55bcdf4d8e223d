"""``ml-connector errors list|show|retry|dismiss``: open dead letters, grouped by cause.

A group is the flow, the error class and the message with its ids and numbers taken out
(:mod:`connector.runtime.causes`); its id is a short hash that stays the same while the
cause does, so ``errors list`` then ``errors retry 3f9a`` works as a person expects.
"""

from __future__ import annotations

import argparse
import getpass
import time

import anyio

from connector.app import App
from connector.commands.common import (
    add_json_flag,
    config_from,
    open_store,
    open_writer,
    print_json,
    print_table,
)
from connector.commands.sync import print_reports, run_exit_code, with_app
from connector.errors import ConfigurationError
from connector.runtime.causes import ErrorGroup, find_group, group_dead_letters
from connector.store import DeadLetter, Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    errors = sub.add_parser("errors", help="dead letters grouped by cause: list, retry, dismiss")
    actions = errors.add_subparsers(dest="errors_command", metavar="ACTION")
    actions.required = True

    listing = actions.add_parser("list", help="open error groups with counts")
    listing.add_argument("--flow", help="only this flow")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)

    show = actions.add_parser("show", help="one group: its cause and the records behind it")
    show.add_argument("group", help="group id from `errors list` (a unique prefix will do)")
    add_json_flag(show)
    show.set_defaults(handler=_show)

    retry = actions.add_parser("retry", help="re-run a group, or records by id, after the fix")
    _target_args(retry)
    add_json_flag(retry)
    retry.set_defaults(handler=_retry)

    dismiss = actions.add_parser(
        "dismiss", help="close a group, or records by id, as dismissed (audited, not retried)"
    )
    _target_args(dismiss)
    dismiss.add_argument("--reason", required=True, help="why nobody will retry these")
    add_json_flag(dismiss)
    dismiss.set_defaults(handler=_dismiss)


def _target_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("group", nargs="?", help="group id from `errors list`")
    parser.add_argument("--flow", help="the flow of the records given with --id")
    parser.add_argument("--id", action="append", dest="ids", help="source id (repeatable)")


def group_json(group: ErrorGroup, *, records: bool = False) -> dict[str, object]:
    body: dict[str, object] = {
        "group": group.cause.group_id,
        "flow": group.cause.flow,
        "error_kind": group.cause.error_kind,
        "cause": group.cause.template,
        "count": group.count,
        "streams": group.streams,
        "example": group.example,
        "last_failed_at": group.last_failed_at,
    }
    if records:
        body["records"] = [letter_json(dl) for dl in group.letters]
    return body


def letter_json(letter: DeadLetter) -> dict[str, object]:
    return {
        "flow": letter.key.flow,
        "stream": letter.key.stream,
        "source_id": letter.key.source_id,
        "attempts": letter.attempts,
        "first_failed_at": letter.first_failed_at,
        "last_failed_at": letter.last_failed_at,
        "reason": letter.reason,
    }


async def _groups(store: Store, flow: str | None = None) -> list[ErrorGroup]:
    return group_dead_letters(await store.dead_letters(flow=flow))


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _list(args: argparse.Namespace) -> int:
    async def go() -> int:
        store = await open_store(config_from(args))
        try:
            groups = await _groups(store, args.flow)
        finally:
            await store.close()
        if args.json:
            print_json([group_json(g) for g in groups])
            return 0
        if not groups:
            print("no open errors")
            return 0
        print_table(
            ["group", "flow", "kind", "count", "streams", "last failed", "cause"],
            [
                [
                    g.cause.group_id,
                    g.cause.flow,
                    g.cause.error_kind,
                    g.count,
                    ",".join(g.streams),
                    _when(g.last_failed_at),
                    g.cause.template[:90],
                ]
                for g in groups
            ],
        )
        return 0

    return anyio.run(go)


def _show(args: argparse.Namespace) -> int:
    async def go() -> int:
        store = await open_store(config_from(args))
        try:
            group = _one_group(await _groups(store), args.group)
        finally:
            await store.close()
        if args.json:
            print_json(group_json(group, records=True))
            return 0
        print(f"group {group.cause.group_id}: {group.count} record(s) of {group.cause.flow}")
        print(f"kind:    {group.cause.error_kind}")
        print(f"cause:   {group.cause.template}")
        print(f"example: {group.example}\n")
        print_table(
            ["stream", "source id", "attempts", "last failed", "reason"],
            [
                [dl.key.stream, dl.key.source_id, dl.attempts, _when(dl.last_failed_at),
                 dl.reason[:100]]
                for dl in group.letters
            ],
        )
        print(
            f"\nafter the fix: ml-connector errors retry {group.cause.group_id}; to give "
            f"up on them: ml-connector errors dismiss {group.cause.group_id} --reason TEXT"
        )
        return 0

    return anyio.run(go)


def _one_group(groups: list[ErrorGroup], group_id: str) -> ErrorGroup:
    group = find_group(groups, group_id)
    if group is None:
        known = ", ".join(g.cause.group_id for g in groups) or "none are open"
        raise ConfigurationError(
            f"no single open error group matches {group_id!r} (open groups: {known}); "
            "`ml-connector errors list` shows them"
        )
    return group


async def chosen_letters(store: Store, args: argparse.Namespace) -> list[DeadLetter]:
    """The open dead letters a retry or dismiss names: a group, or ids of one flow."""
    if args.group and args.ids:
        raise ConfigurationError("give a group id or --id, not both")
    if args.group:
        return _one_group(await _groups(store), args.group).letters
    if not args.ids or not args.flow:
        raise ConfigurationError(
            "name what to act on: a group id from `ml-connector errors list`, or "
            "--flow FLOW --id SOURCE_ID"
        )
    letters = await store.dead_letters(flow=args.flow, source_ids=args.ids)
    missing = sorted(set(args.ids) - {dl.key.source_id for dl in letters})
    if missing:
        raise ConfigurationError(
            f"no open dead letter of flow {args.flow} for source id(s) {', '.join(missing)}; "
            "`ml-connector errors list` shows the open ones"
        )
    return letters


def _retry(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        letters = await chosen_letters(app.store, args)
        by_flow: dict[str, list[str]] = {}
        for dl in letters:
            by_flow.setdefault(dl.key.flow, []).append(dl.key.source_id)
        reports = []
        for flow, ids in by_flow.items():
            runner = await app.runner(flow)
            reports.append(await runner.replay(source_ids=ids))
        print_reports(reports, args.json)
        return run_exit_code(reports)

    return with_app(args, body)


def _dismiss(args: argparse.Namespace) -> int:
    reason = args.reason.strip()
    if not reason:
        raise ConfigurationError("--reason must say why these records are dismissed")

    async def go() -> int:
        # A writer: refused, naming the pid, while the service holds the state.
        store = await open_writer(config_from(args))
        try:
            letters = await chosen_letters(store, args)
            count = await store.dismiss_dead_letters(letters, reason, by=_who())
        finally:
            await store.close()
        if args.json:
            print_json({"dismissed": [letter_json(dl) for dl in letters], "reason": reason})
        else:
            print(f"dismissed {count} dead letter(s): {reason}")
        return 0

    return anyio.run(go)


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
