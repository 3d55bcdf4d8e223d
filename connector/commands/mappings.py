"""``ml-connector mappings list|set|delete``: the mapping tables as the state holds them.

The config file is authoritative for the mappings it declares (origin ``config``: replaced
whenever a writer opens the state — ``run``, ``sync``, a SIGHUP); ``mappings set`` and
``review resolve --mapping`` add the others (origin ``cli``), which stay until ``mappings
delete``. Beside a running service, ``set`` and ``delete`` go through its admin API
(:mod:`connector.commands.remote`).
"""

from __future__ import annotations

import argparse
import time
from typing import cast

import anyio

from connector import operations
from connector.commands.common import (
    add_json_flag,
    config_from,
    open_store,
    open_writer,
    print_json,
    print_table,
)
from connector.commands.remote import ask_service
from connector.store.lock import StateLockedError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mappings = sub.add_parser("mappings", help="the mapping tables: list, set, delete")
    actions = mappings.add_subparsers(dest="mappings_command", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser(
        "list", help="every stored mapping with its origin (config file or review resolve)"
    )
    listing.add_argument("--kind", help="only this mapping kind")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)
    setting = actions.add_parser(
        "set", help="add or change a mapping (config ones: edit the file); `errors retry` after"
    )
    setting.add_argument("kind", help="mapping kind, e.g. business_unit_cost_center")
    setting.add_argument("key", help="the source code, e.g. 12")
    setting.add_argument("value", help="the target value, e.g. CC100")
    add_json_flag(setting)
    setting.set_defaults(handler=_set)
    delete = actions.add_parser(
        "delete", help="remove a mapping added by `review resolve` (config ones: edit the file)"
    )
    delete.add_argument("kind", help="mapping kind, e.g. business_unit_cost_center")
    delete.add_argument("key", help="the source code, e.g. 12")
    add_json_flag(delete)
    delete.set_defaults(handler=_delete)


def _list(args: argparse.Namespace) -> int:
    async def go() -> int:
        store = await open_store(config_from(args))
        try:
            rows = [r for r in await store.mapping_rows() if args.kind in (None, r.kind)]
        finally:
            await store.close()
        if args.json:
            print_json(
                [{"kind": r.kind, "key": r.key, "value": r.value, "origin": r.origin} for r in rows]
            )
            return 0
        if not rows:
            print("no mappings stored; add them under [mappings.KIND] in the config")
            return 0
        print_table(
            ["kind", "key", "value", "origin", "updated"],
            [
                [
                    r.kind,
                    r.key,
                    r.value,
                    r.origin,
                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.updated_at)),
                ]
                for r in rows
            ],
        )
        return 0

    return anyio.run(go)


def _set(args: argparse.Namespace) -> int:
    kind: str = args.kind
    key: str = args.key
    value: str = args.value.strip()

    async def go() -> str | None:
        config = config_from(args)
        try:
            store = await open_writer(config)
        except StateLockedError as locked:
            request = {"kind": kind, "key": key, "value": value}
            answer = await ask_service(config, locked, "/api/mappings/set", request)
            return cast(str | None, answer.get("previous"))
        try:
            return await operations.set_mapping(config, store, kind, key, value)
        finally:
            await store.close()

    previous = anyio.run(go)
    if args.json:
        print_json({"kind": kind, "key": key, "value": value, "previous": previous})
    elif previous is not None:
        print(f"changed mapping {kind} {key}: {previous!r} -> {value!r}")
    else:
        print(f"added mapping {kind} {key} -> {value!r}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    kind: str = args.kind
    key: str = args.key

    async def go() -> str:
        config = config_from(args)
        try:
            store = await open_writer(config)
        except StateLockedError as locked:
            request = {"kind": kind, "key": key}
            answer = await ask_service(config, locked, "/api/mappings/delete", request)
            return str(answer["deleted"])
        try:
            return await operations.delete_mapping(config, store, kind, key)
        finally:
            await store.close()

    deleted = anyio.run(go)
    if args.json:
        print_json({"kind": kind, "key": key, "deleted": deleted})
    else:
        print(f"deleted mapping {kind} {key} (was {deleted!r})")
    return 0
