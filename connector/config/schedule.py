"""Flow schedules: ``every <n>s|m|h|d`` or a 5-field cron expression.

Parsed once when the configuration loads (so a bad schedule stops startup, not a run at
3 a.m.) and again by the scheduler, which gets the parsed form from :func:`parse_schedule`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class IntervalSchedule:
    """Run every ``seconds`` seconds (``every 15m``)."""

    seconds: float


@dataclass(frozen=True)
class CronSchedule:
    """Run at the minutes a 5-field cron expression names, in the service's local time.

    Day of month and day of week follow cron: when both are restricted (neither is ``*``),
    a day matching either one matches. Days of week count from 0 = Sunday.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    day_of_month_restricted: bool
    day_of_week_restricted: bool

    def matches(self, moment: datetime) -> bool:
        """Whether the schedule fires in the minute containing ``moment``."""
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        by_month_day = moment.day in self.days_of_month
        by_week_day = (moment.weekday() + 1) % 7 in self.days_of_week
        if self.day_of_month_restricted and self.day_of_week_restricted:
            return by_month_day or by_week_day
        return by_month_day and by_week_day


Schedule = IntervalSchedule | CronSchedule

_EVERY = re.compile(r"^every\s+(\d+)\s*([smhd])$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: dict[str, int]


_CRON_FIELDS = (
    _CronField("minute", 0, 59, {}),
    _CronField("hour", 0, 23, {}),
    _CronField("day of month", 1, 31, {}),
    _CronField("month", 1, 12, {n: i + 1 for i, n in enumerate(_MONTHS)}),
    # 7 is Sunday as well as 0, as in every cron; folded to 0 after parsing.
    _CronField("day of week", 0, 7, {n: i for i, n in enumerate(_WEEKDAYS)}),
)


def parse_schedule(text: str) -> Schedule:
    """Parse ``every <n>s|m|h|d`` or a 5-field cron expression.

    Raises ValueError with a sentence saying what is wrong and what is accepted.
    """
    text = text.strip()
    every = _EVERY.match(text)
    if every:
        seconds = int(every[1]) * _UNIT_SECONDS[every[2].lower()]
        if seconds <= 0:
            raise ValueError(f"{text!r}: the interval must be longer than zero")
        return IntervalSchedule(seconds=float(seconds))
    fields = text.split()
    if text.lower().startswith("every") or len(fields) != 5:
        raise ValueError(
            f"{text!r} is not a schedule: expected 'every <n>' with unit s, m, h or d "
            "(every 15m) or a 5-field cron expression (minute hour day-of-month month "
            "day-of-week, e.g. '*/15 6-20 * * mon-fri')"
        )
    sets = [_parse_cron_field(item, spec) for item, spec in zip(fields, _CRON_FIELDS, strict=True)]
    weekdays = frozenset(day % 7 for day in sets[4])
    return CronSchedule(
        minutes=sets[0],
        hours=sets[1],
        days_of_month=sets[2],
        months=sets[3],
        days_of_week=weekdays,
        day_of_month_restricted=fields[2] != "*",
        day_of_week_restricted=fields[4] != "*",
    )


def _parse_cron_field(text: str, spec: _CronField) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        values.update(_parse_cron_item(item, spec))
    return frozenset(values)


def _parse_cron_item(item: str, spec: _CronField) -> range:
    def bad(reason: str) -> ValueError:
        return ValueError(f"cron {spec.name} field {item!r}: {reason}")

    span, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise bad("the step after '/' must be a whole number of at least 1")
        step = int(step_text)
    if span == "*":
        return range(spec.low, spec.high + 1, step)
    first_text, dash, last_text = span.partition("-")
    first = _cron_value(first_text, spec, bad)
    if dash:
        last = _cron_value(last_text, spec, bad)
    else:
        # "5/10" means from 5 to the end in steps of 10, as in Vixie cron.
        last = spec.high if step_text else first
    if last < first:
        raise bad(f"the range runs backwards ({first} > {last})")
    return range(first, last + 1, step)


def _cron_value(text: str, spec: _CronField, bad: Callable[[str], ValueError]) -> int:
    lowered = text.lower()
    if lowered in spec.names:
        return spec.names[lowered]
    if not text.isdigit():
        allowed = f"{spec.low}-{spec.high}"
        if spec.names:
            allowed += f" or a name ({', '.join(spec.names)})"
        raise bad(f"{text!r} is not a number; expected {allowed}")
    value = int(text)
    if not spec.low <= value <= spec.high:
        raise bad(f"{value} is out of range {spec.low}-{spec.high}")
    return value
