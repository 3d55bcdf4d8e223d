"""The operator's writing actions on errors and mappings, one implementation for every door.

``ml-connector errors retry|dismiss`` and ``mappings set|delete`` run these on the state
themselves when no service holds it; beside a running service they ask its admin API
(:mod:`connector.admin_api`), which runs the very same functions inside the service. So
the rules (a config mapping is changed in the file, a dismissal needs a reason, a group id
may be a unique prefix) and the messages are the same whichever way a person comes in.
Each function raises ConfigurationError with what to do when the request cannot be done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from connector.config import Config
from connector.errors import ConfigurationError
from connector.runtime.causes import ErrorGroup, find_group, group_dead_letters
from connector.runtime.runner import CycleReport, FlowRunner
from connector.store import DeadLetter, Store

#: Finds the runner of a flow (the CLI builds one; the service has one per flow).
RunnerOf = Callable[[str], Awaitable[FlowRunner]]


async def chosen_letters(
    store: Store, group: str | None, flow: str | None, ids: Sequence[str] | None
) -> list[DeadLetter]:
    """The open dead letters a retry or dismiss names: a group, or ids of one flow."""
    if group and ids:
        raise ConfigurationError("give a group id or --id, not both")
    if group:
        return one_group(group_dead_letters(await store.dead_letters()), group).letters
    if not ids or not flow:
        raise ConfigurationError(
            "name what to act on: a group id from `ml-connector errors list`, or "
            "--flow FLOW --id SOURCE_ID"
        )
    letters = await store.dead_letters(flow=flow, source_ids=list(ids))
    missing = sorted(set(ids) - {dl.key.source_id for dl in letters})
    if missing:
        raise ConfigurationError(
            f"no open dead letter of flow {flow} for source id(s) {', '.join(missing)}; "
            "`ml-connector errors list` shows the open ones"
        )
    return letters


def one_group(groups: list[ErrorGroup], group_id: str) -> ErrorGroup:
    group = find_group(groups, group_id)
    if group is None:
        known = ", ".join(g.cause.group_id for g in groups) or "none are open"
        raise ConfigurationError(
            f"no single open error group matches {group_id!r} (open groups: {known}); "
            "`ml-connector errors list` shows them"
        )
    return group


async def retry(letters: Sequence[DeadLetter], runner_of: RunnerOf) -> list[CycleReport]:
    """Re-run the records behind ``letters``, one replay per flow."""
    by_flow: dict[str, list[str]] = {}
    for letter in letters:
        by_flow.setdefault(letter.key.flow, []).append(letter.key.source_id)
    return [await (await runner_of(flow)).replay(source_ids=ids) for flow, ids in by_flow.items()]


async def dismiss(store: Store, letters: Sequence[DeadLetter], reason: str, by: str) -> int:
    """Close ``letters`` without retrying; the reason goes in each record's audit."""
    reason = reason.strip()
    if not reason:
        raise ConfigurationError("--reason must say why these records are dismissed")
    return await store.dismiss_dead_letters(list(letters), reason, by=by)


async def set_mapping(config: Config, store: Store, kind: str, key: str, value: str) -> str | None:
    """Add or change a mapping the CLI owns; the value it replaced, if any."""
    value = value.strip()
    if not value:
        raise ConfigurationError(f"mapping {kind} {key!r}: the value must not be empty")
    if key in config.mappings.get(kind, {}):
        raise from_config(kind, key)
    before = {r.key: r.value for r in await store.mapping_rows() if r.kind == kind}
    await store.set_mappings(kind, {key: value}, origin="cli")
    return before.get(key)


async def delete_mapping(config: Config, store: Store, kind: str, key: str) -> str:
    """Delete a mapping the CLI added; the value it had."""
    if key in config.mappings.get(kind, {}):
        raise from_config(kind, key)
    found = [r for r in await store.mapping_rows() if (r.kind, r.key) == (kind, key)]
    if not found:
        raise ConfigurationError(
            f"no mapping {kind} {key!r} is stored; `ml-connector mappings list` shows the "
            "stored ones"
        )
    if found[0].origin == "config":
        raise from_config(kind, key)
    await store.delete_mapping(kind, key)
    return found[0].value


def from_config(kind: str, key: str) -> ConfigurationError:
    return ConfigurationError(
        f'mapping {kind} {key!r} comes from the config file: change or delete "{key}" under '
        f"[mappings.{kind}] there instead; the state follows when the service next starts "
        "or reloads (SIGHUP), or at the next sync"
    )
