"""Field diffs between two commands: what a person reads when a posted document changed.

Commands are msgspec Structs, stored as JSON in the ledger when written; a diff compares
their builtin forms path by path (``lines[1].amount: '120.00' → '135.00'``), so it names the
fields whatever the target system is.
"""

from __future__ import annotations

from typing import Any

import msgspec

#: Lines of a diff kept in a review reason; the rest are counted, not listed.
MAX_LINES = 20


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list | tuple):
        out[f"{path}.length"] = len(value)
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", out)
    else:
        out[path] = value


def field_diff(previous: bytes | None, current: object) -> list[str]:
    """``path: old → new`` for every field that differs; previous None means "unknown"."""
    now: dict[str, Any] = {}
    _flatten(msgspec.to_builtins(current), "", now)
    if previous is None:
        return ["the values first posted were not recorded (posted by an older version)"]
    before: dict[str, Any] = {}
    _flatten(msgspec.json.decode(previous), "", before)
    changed = [
        f"{path}: {before.get(path)!r} → {now.get(path)!r}"
        for path in sorted(before.keys() | now.keys())
        if before.get(path) != now.get(path)
    ]
    if len(changed) > MAX_LINES:
        changed = [*changed[:MAX_LINES], f"… and {len(changed) - MAX_LINES} more"]
    return changed
