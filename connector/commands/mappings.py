"""``ml-connector mappings list|set|delete``: the mapping tables as the state holds them.

The config file is authoritative for the mappings it declares (origin ``config``: replaced
whenever a writer opens the state — ``run``, ``sync``, a SIGHUP); ``mappings set`` and
``review resolve --mapping`` add the others (origin ``cli``), which stay until ``mappings
delete``.
"""

from __future__ import annotations

import argparse
import time

import anyio

from connector.commands.common import (
    add_json_flag,
    config_from,
    open_store,
    open_writer,
    print_json,
    print_table,
)
from connector.errors import ConfigurationError


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
                [
                    {"kind": r.kind, "key": r.key, "value": r.value, "origin": r.origin}
                    for r in rows
                ]
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

    async def go() -> int:
        config = config_from(args)
        if not value:
            raise ConfigurationError(f"mapping {kind} {key!r}: the value must not be empty")
        if key in config.mappings.get(kind, {}):
            raise _from_config(kind, key)
        store = await open_writer(config)
        try:
            before = {r.key: r.value for r in await store.mapping_rows() if r.kind == kind}
            await store.set_mappings(kind, {key: value}, origin="cli")
        finally:
            await store.close()
        if args.json:
            print_json(
                {"kind": kind, "key": key, "value": value, "previous": before.get(key)}
            )
        elif key in before:
            print(f"changed mapping {kind} {key}: {before[key]!r} -> {value!r}")
        else:
            print(f"added mapping {kind} {key} -> {value!r}")
        return 0

    return anyio.run(go)


def _delete(args: argparse.Namespace) -> int:
    kind: str = args.kind
    key: str = args.key

    async def go() -> int:
        config = config_from(args)
        if key in config.mappings.get(kind, {}):
            raise _from_config(kind, key)
        # A writer: refused, naming the pid, while the service holds the state.
        store = await open_writer(config)
        try:
            found = [r for r in await store.mapping_rows() if (r.kind, r.key) == (kind, key)]
            if not found:
                raise ConfigurationError(
                    f"no mapping {kind} {key!r} is stored; `ml-connector mappings list` "
                    "shows the stored ones"
                )
            if found[0].origin == "config":
                raise _from_config(kind, key)
            await store.delete_mapping(kind, key)
        finally:
            await store.close()
        if args.json:
            print_json({"kind": kind, "key": key, "deleted": found[0].value})
        else:
            print(f"deleted mapping {kind} {key} (was {found[0].value!r})")
        return 0

    return anyio.run(go)


def _from_config(kind: str, key: str) -> ConfigurationError:
    return ConfigurationError(
        f"mapping {kind} {key!r} comes from the config file: delete \"{key}\" under "
        f"[mappings.{kind}] there instead; it is removed from the state when the service "
        "next starts or reloads (SIGHUP), or at the next sync"
    )
