"""When flows run: next due time of a schedule, and a loop that runs a job at each one.

Schedules come from :func:`connector.config.schedule.parse_schedule`: ``every 15m`` is an
:class:`IntervalSchedule`, a 5-field cron expression a :class:`CronSchedule` matched against
wall-clock fields of the datetimes the clock returns (local time by default, as the config
documents).

Delivery contract of :func:`run_on_schedule`: at most one run of a job at a time; a run that
overruns its next slot is followed by exactly one catch-up run as soon as it ends, however
many slots it missed; a job may run later than due (process suspended, clock stepped) but
never earlier.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import anyio

from connector.config.schedule import CronSchedule, IntervalSchedule, Schedule

log = logging.getLogger(__name__)

#: How far ahead a cron search goes before declaring the expression can never fire. Four
#: years and a day reach every 29 February (the rarest real date) from any start in our era.
CRON_SEARCH_LIMIT = timedelta(days=4 * 366 + 1)

_MINUTE = timedelta(minutes=1)


def local_now() -> datetime:
    """The default clock: aware local time, so cron fields read as the operator expects."""
    return datetime.now().astimezone()


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The first due time of ``schedule`` strictly after ``after``.

    An interval is due ``seconds`` after ``after`` (pass the previous due time, not the end of
    the previous run, to keep a fixed cadence). A cron schedule is due at the start of the
    next whole minute it matches; ``after``'s timezone, if any, is kept. Raises ValueError
    when a cron expression matches no minute within :data:`CRON_SEARCH_LIMIT` (``0 0 30 2
    *``: 30 February), naming the search window.
    """
    if isinstance(schedule, IntervalSchedule):
        return after + timedelta(seconds=schedule.seconds)
    return _next_cron_minute(schedule, after)


def _next_cron_minute(schedule: CronSchedule, after: datetime) -> datetime:
    limit = after + CRON_SEARCH_LIMIT
    candidate = after.replace(second=0, microsecond=0) + _MINUTE
    first_hour, first_minute = min(schedule.hours), min(schedule.minutes)
    # Skip whole months, days and hours that cannot match, so even a schedule firing once
    # in four years is found in a few thousand steps rather than two million minutes.
    while candidate <= limit:
        if candidate.month not in schedule.months:
            candidate = _start_of_next_month(candidate)
        elif not schedule.matches(candidate.replace(hour=first_hour, minute=first_minute)):
            # The day fields decide this probe alone, since its hour and minute match.
            candidate = candidate.replace(hour=0, minute=0) + timedelta(days=1)
        elif candidate.hour not in schedule.hours:
            candidate = candidate.replace(minute=0) + timedelta(hours=1)
        elif candidate.minute not in schedule.minutes:
            candidate += _MINUTE
        else:
            return candidate
    raise ValueError(
        f"the cron schedule never fires between {after.isoformat()} and {limit.isoformat()} "
        "(a date that does not exist, such as 30 February?); fix the flow's schedule"
    )


def _start_of_next_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1, hour=0, minute=0)


async def run_on_schedule(
    schedule: Schedule,
    job: Callable[[], Awaitable[None]],
    *,
    stop: anyio.Event,
    clock: Callable[[], datetime] = local_now,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    immediately: bool = False,
    max_sleep_s: float = 60.0,
    name: str = "job",
) -> None:
    """Run ``job`` at every due time of ``schedule`` until ``stop`` is set.

    The first run is at the first due time after now, or at once when ``immediately``. Runs
    are awaited in turn, never concurrently (module docstring for overruns). ``stop`` is
    checked before each run and ends any wait at once; a run in progress is not interrupted
    (the job watches for shutdown itself), and no run starts after it returns with ``stop``
    set. An exception from ``job`` ends the loop and propagates: run this under
    ``SystemSupervisor.supervise`` or catch inside ``job`` if a failed run must not stop
    the schedule. ``name`` only labels log lines.

    ``clock`` and ``sleep`` are injectable for tests. Waits are cut into ``max_sleep_s``
    pieces and the clock is read again after each, so a clock stepped by NTP, a DST change
    or a suspended VM shifts the next run by at most that much.
    """
    due = clock() if immediately else next_run(schedule, clock())
    while not stop.is_set():
        now = clock()
        if now < due:
            await _sleep_unless_stopped(min((due - now).total_seconds(), max_sleep_s), sleep, stop)
            continue
        await job()
        finished = clock()
        following = next_run(schedule, due)
        if following <= finished:
            log.warning(
                "%s overran: it was due at %s and ended at %s, past its next slot at %s; "
                "running it once more now instead of once per missed slot",
                name,
                due.isoformat(),
                finished.isoformat(),
                following.isoformat(),
            )
            following = finished
        due = following


async def _sleep_unless_stopped(
    seconds: float, sleep: Callable[[float], Awaitable[None]], stop: anyio.Event
) -> None:
    async with anyio.create_task_group() as group:

        async def wait(waiter: Callable[[], Awaitable[object]]) -> None:
            await waiter()
            group.cancel_scope.cancel()

        group.start_soon(wait, lambda: sleep(seconds))
        group.start_soon(wait, stop.wait)
