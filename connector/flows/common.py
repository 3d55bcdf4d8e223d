"""Helpers every pairing's mappers share: parsing source values into exact types.

Every helper raises :class:`SourceDataError` naming the record and the field, so a bad value
becomes a dead letter that says what to fix in the source — never a crash, never a guess.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import msgspec

from connector.config import FlowConfig, ServiceTitanSystem
from connector.errors import ConfigurationError, SourceDataError
from connector.registry import FlowRequest
from connector.store import RecordKey, State, Store

T = TypeVar("T")
CENT = Decimal("0.01")
#: Anything larger is not an amount a field-service business bills; it is bad data.
MAX_AMOUNT = Decimal("100000000")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def money(value: object, *, record: str, field: str, allow_negative: bool = True) -> Decimal:
    """An amount to the cent from a string (accounting module) or a number (inventory)."""
    if value is None or value == "":
        raise SourceDataError(f"{record} has no {field}", record=record, field=field)
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise SourceDataError(
            f"{record} has an unreadable {field} {str(value)[:40]!r}; correct it in the source",
            record=record,
            field=field,
        ) from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise SourceDataError(
            f"{record} has an absurd {field} {value!r}", record=record, field=field
        )
    if amount < 0 and not allow_negative:
        raise SourceDataError(
            f"{record} has a negative {field} ({amount}); correct it in the source",
            record=record,
            field=field,
        )
    return amount


def quantity(value: object, *, record: str, field: str) -> Decimal:
    """A non-negative quantity (a negative one is a data-entry error to fix at the source)."""
    if value is None or value == "":
        return Decimal(0)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise SourceDataError(
            f"{record} has an unreadable {field} {str(value)[:40]!r}", record=record, field=field
        ) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise SourceDataError(
            f"{record} has an invalid {field} ({value}); quantities must be zero or more",
            record=record,
            field=field,
        )
    return amount


def date(value: str | None, *, record: str, field: str) -> dt.date:
    """The calendar date of an ISO timestamp (7 fractional digits and missing zones allowed)."""
    match = _ISO.match(value or "")
    if match is None:
        raise SourceDataError(
            f"{record} has no usable {field} ({str(value)[:40]!r}); expected an ISO date",
            record=record,
            field=field,
        )
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise SourceDataError(
            f"{record} has an impossible {field} {value!r}", record=record, field=field
        ) from None


def text(value: str | None, limit: int) -> str:
    """A single-line text cut to ``limit`` characters (descriptions, names)."""
    return " ".join((value or "").split())[:limit]


def name_key(name: str) -> str:
    """A name as compared when linking records by name: case and spacing do not count."""
    return " ".join(name.lower().split())


def decoder(type_: type[T]) -> Callable[[bytes], T]:
    """Decode a stored payload (dead letter, webhook event) back into a source record."""
    return msgspec.json.Decoder(type_).decode


def option(options: dict[str, str], key: str, default: str, flow: str) -> str:
    value = options.get(key, default)
    if not value:
        raise ConfigurationError(f"flows.{flow}.options.{key} must not be empty")
    return value


def servicetitan_system(request: FlowRequest, side: str) -> ServiceTitanSystem:
    """The flow's ServiceTitan system (``side`` is "source" or "target"), or a
    ConfigurationError saying the config pairs this flow with another kind."""
    flow_config = request.flow_config
    name = flow_config.source if side == "source" else flow_config.target
    system = request.config.systems[name]
    if not isinstance(system, ServiceTitanSystem):
        raise ConfigurationError(f"flow {request.name}: {side} {name} is not a ServiceTitan system")
    return system


#: ``link(stream, source_id)``: the target id our ledger holds for a finished record.
LedgerLink = Callable[[str, str], Awaitable[str | None]]


def ledger_link(store: Store, flow: str) -> LedgerLink:
    """``link(stream, source_id)``: the target id our ledger holds for a finished record.

    Targets use it to answer "is this reference already in the target?" without writing;
    ``LoadContext.ensure`` is the one that creates what is missing.
    """

    async def link(stream: str, source_id: str) -> str | None:
        entry = await store.ledger_entry(RecordKey(flow, stream, source_id))
        return entry.target_id if entry is not None and entry.state == State.DONE else None

    return link


OptionsT = TypeVar("OptionsT", bound=msgspec.Struct)


def parse_options(config: FlowConfig, flow: str, options_type: type[OptionsT]) -> OptionsT:
    """A pairing's ``[flows.<name>.options]`` as its Options struct.

    Values are strings in TOML; numeric options are read as numbers. An unknown key or a bad
    value is a ConfigurationError naming it and listing the valid options.
    """
    try:
        return msgspec.convert(dict(config.options), options_type, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(
            f"flows.{flow}.options: {exc}; the options are "
            f"{', '.join(options_type.__struct_fields__)}"
        ) from exc
