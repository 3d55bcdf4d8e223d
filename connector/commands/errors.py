"""``ml-connector errors list|show|retry|dismiss``: open dead letters, grouped by cause.

A group is the flow, the error class and the message with its ids and numbers taken out
(:mod:`connector.runtime.causes`); its id is a short hash that stays the same while the
cause does, so ``errors list`` then ``errors retry 3f9a`` works as a person expects.
Beside a running service, ``retry`` and ``dismiss`` are done by the service through its
admin API (:mod:`connector.commands.remote`), with the same rules (:mod:`connector.operations`).
"""

from __future__ import annotations

import argparse
import getpass
import time
from typing import cast

import anyio

from connector import operations
from connector.app import App
from connector.commands.common import (
    add_json_flag,
    config_from,
    open_store,
    open_writer,
    print_json,
    print_table,
)
from connector.commands.remote import ask_service
from connector.commands.sync import print_reports, report_from_json, run_exit_code, with_app
from connector.errors import ConfigurationError
from connector.runtime.causes import ErrorGroup, group_dead_letters
from connector.store import DeadLetter, Store
from connector.store.lock import StateLockedError


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
                [
                    dl.key.stream,
                    dl.key.source_id,
                    dl.attempts,
                    _when(dl.last_failed_at),
                    dl.reason[:100],
                ]
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
    return operations.one_group(groups, group_id)


def _target(args: argparse.Namespace) -> dict[str, object]:
    return {"group": args.group, "flow": args.flow, "ids": args.ids}


def _retry(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        letters = await operations.chosen_letters(app.store, args.group, args.flow, args.ids)
        reports = await operations.retry(letters, app.runner)
        print_reports(reports, args.json)
        return run_exit_code(reports)

    try:
        return with_app(args, body)
    except StateLockedError as locked:
        config = config_from(args)
        answer = anyio.run(ask_service, config, locked, "/api/errors/retry", _target(args))
        reports = [report_from_json(r) for r in answer["reports"]]
        print_reports(reports, args.json)
        return run_exit_code(reports)


def _dismiss(args: argparse.Namespace) -> int:
    reason = args.reason.strip()
    if not reason:
        raise ConfigurationError("--reason must say why these records are dismissed")

    async def go() -> dict[str, object]:
        config = config_from(args)
        try:
            store = await open_writer(config)
        except StateLockedError as locked:
            request = {**_target(args), "reason": reason, "by": _who()}
            return await ask_service(config, locked, "/api/errors/dismiss", request)
        try:
            letters = await operations.chosen_letters(store, args.group, args.flow, args.ids)
            await operations.dismiss(store, letters, reason, by=_who())
        finally:
            await store.close()
        return {"dismissed": [letter_json(dl) for dl in letters], "reason": reason}

    answer = anyio.run(go)
    dismissed = answer["dismissed"]
    if args.json:
        print_json(answer)
    else:
        print(f"dismissed {len(cast(list[object], dismissed))} dead letter(s): {reason}")
    return 0


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
