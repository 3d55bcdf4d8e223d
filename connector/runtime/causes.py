"""Errors grouped by cause: the error class and the message with its particulars removed.

A thousand invoices refused for one missing cost center are one problem, not a thousand:
``cause_of`` turns "invoice 400001: Accounting identity CC9 does not exist in dimension 2"
into "invoice <n>: Accounting identity CC9 does not exist in dimension <n>", so the
CLI, the console and the circuit breaker can count them as one group.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from connector.store import DeadLetter

# Ids, numbers, dates and amounts (400123, 2026-01-05, 12.50, the 7 of INV-7), but not the
# digits of a name (M3, APS450MI, AIT2): those are the same for every record of a cause.
_NUMBER = re.compile(r"(?<![A-Za-z0-9])\d(?:[\d.,:/-]*\d)?(?![A-Za-z0-9])")
# Quoted values are particulars too ('ACME', "Main St").
# The record a ConnectorError names in front of its message ("[infor · invoice 400001]").
_CONTEXT = re.compile(r"^\[[^\]]*\]\s*")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def message_template(message: str) -> str:
    """The message without its leading ``[system · record]`` context, with quoted values
    replaced by '<value>' and numbers by <n>."""
    text = _QUOTED.sub("'<value>'", _CONTEXT.sub("", message, count=1))
    return _NUMBER.sub("<n>", text).strip()


@dataclass(frozen=True, slots=True)
class Cause:
    """What a group of failures has in common."""

    flow: str
    error_kind: str
    template: str

    @property
    def group_id(self) -> str:
        """A short stable name for the group (what `errors show|retry|dismiss` take)."""
        text = f"{self.flow}\n{self.error_kind}\n{self.template}"
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def cause_of(flow: str, error_kind: str, reason: str) -> Cause:
    return Cause(flow, error_kind, message_template(reason))


@dataclass
class ErrorGroup:
    """Open dead letters of one cause, oldest first."""

    cause: Cause
    letters: list[DeadLetter] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.letters)

    @property
    def streams(self) -> list[str]:
        return sorted({dl.key.stream for dl in self.letters})

    @property
    def example(self) -> str:
        """The latest full message of the group, as a person would first read it."""
        return max(self.letters, key=lambda dl: dl.last_failed_at).reason

    @property
    def last_failed_at(self) -> float:
        return max(dl.last_failed_at for dl in self.letters)


def group_dead_letters(letters: Iterable[DeadLetter]) -> list[ErrorGroup]:
    """Dead letters by cause, the largest group first."""
    groups: dict[Cause, ErrorGroup] = {}
    for letter in letters:
        cause = cause_of(letter.key.flow, letter.error_kind, letter.reason)
        groups.setdefault(cause, ErrorGroup(cause)).letters.append(letter)
    return sorted(groups.values(), key=lambda g: (-g.count, g.cause.flow, g.cause.template))


def find_group(groups: Iterable[ErrorGroup], group_id: str) -> ErrorGroup | None:
    """The group whose id starts with ``group_id`` (a prefix of 4+ characters will do)."""
    matches = [g for g in groups if g.cause.group_id.startswith(group_id)] if group_id else []
    return matches[0] if len(matches) == 1 else None
