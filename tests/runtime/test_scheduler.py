"""Schedules: due times of intervals and cron, and the run loop on a fake clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import anyio
import anyio.lowlevel
import pytest

from connector.config.schedule import parse_schedule
from connector.runtime.scheduler import next_run, run_on_schedule


class FakeTime:
    """A clock that moves only when slept on (or advanced by a job pretending to work)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        await anyio.lowlevel.checkpoint()


def recording_job(
    time: FakeTime, stop: anyio.Event, runs: int, duration_s: float = 0.0
) -> tuple[list[datetime], Callable[[], Awaitable[None]]]:
    """A job that logs its start times, lasts ``duration_s`` and sets ``stop`` after ``runs``."""
    started: list[datetime] = []
    running = 0

    async def job() -> None:
        nonlocal running
        running += 1
        assert running == 1, "two runs overlapped"
        started.append(time.clock())
        await anyio.lowlevel.checkpoint()
        time.advance(duration_s)
        running -= 1
        if len(started) == runs:
            stop.set()

    return started, job


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_interval_next_run_adds_the_interval() -> None:
    """An interval is due exactly its length after the given moment."""
    assert next_run(parse_schedule("every 15m"), at("2024-05-03T10:07:31")) == at(
        "2024-05-03T10:22:31"
    )


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", "2024-05-03T10:07:31", "2024-05-03T10:15:00"),
        ("*/15 * * * *", "2024-05-03T10:15:00", "2024-05-03T10:30:00"),
        ("*/15 * * * *", "2024-05-03T23:59:59", "2024-05-04T00:00:00"),
        ("0 2 * * 1-5", "2024-05-03T01:59:00", "2024-05-03T02:00:00"),
        ("0 2 * * 1-5", "2024-05-03T02:00:00", "2024-05-06T02:00:00"),
        ("30 6 1 * *", "2024-12-15T00:00:00", "2025-01-01T06:30:00"),
        ("0 0 29 2 *", "2025-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("0 9 13 * 5", "2024-05-03T09:00:00", "2024-05-10T09:00:00"),
    ],
)
def test_cron_next_run(expression: str, after: str, expected: str) -> None:
    """The next whole minute the cron expression matches, strictly after the moment."""
    assert next_run(parse_schedule(expression), at(after)) == at(expected)


def test_cron_that_never_fires_is_an_error() -> None:
    """30 February is searched for four years, then refused with a readable message."""
    with pytest.raises(ValueError, match="never fires"):
        next_run(parse_schedule("0 0 30 2 *"), at("2024-01-01T00:00:00"))


async def test_interval_cadence_is_fixed_rate() -> None:
    """Interval runs start on the grid of due times, whatever each run's length."""
    time, stop = FakeTime(at("2024-05-03T10:00:00")), anyio.Event()
    started, job = recording_job(time, stop, runs=4, duration_s=42)
    await run_on_schedule(
        parse_schedule("every 5m"), job, stop=stop, clock=time.clock, sleep=time.sleep
    )
    assert started == [at(f"2024-05-03T10:{m:02d}:00") for m in (5, 10, 15, 20)]
    assert max(time.sleeps) <= 60


async def test_immediately_runs_once_at_start() -> None:
    """With immediately=True the first run is at start, then the schedule resumes."""
    time, stop = FakeTime(at("2024-05-03T10:07:00")), anyio.Event()
    started, job = recording_job(time, stop, runs=2)
    await run_on_schedule(
        parse_schedule("*/15 * * * *"),
        job,
        stop=stop,
        clock=time.clock,
        sleep=time.sleep,
        immediately=True,
    )
    assert started == [at("2024-05-03T10:07:00"), at("2024-05-03T10:15:00")]


async def test_cron_every_quarter_hour() -> None:
    """'*/15 * * * *' runs at :00, :15, :30 and :45."""
    time, stop = FakeTime(at("2024-05-03T10:07:30")), anyio.Event()
    started, job = recording_job(time, stop, runs=4)
    await run_on_schedule(
        parse_schedule("*/15 * * * *"), job, stop=stop, clock=time.clock, sleep=time.sleep
    )
    assert started == [at(f"2024-05-03T{t}:00") for t in ("10:15", "10:30", "10:45", "11:00")]


async def test_cron_weekdays_at_two() -> None:
    """'0 2 * * 1-5' started on a Friday afternoon runs Monday, Tuesday, Wednesday at 02:00."""
    time, stop = FakeTime(at("2024-05-03T15:00:00")), anyio.Event()
    started, job = recording_job(time, stop, runs=3)
    await run_on_schedule(
        parse_schedule("0 2 * * 1-5"),
        job,
        stop=stop,
        clock=time.clock,
        sleep=time.sleep,
        max_sleep_s=3600,
    )
    assert started == [at(f"2024-05-{d:02d}T02:00:00") for d in (6, 7, 8)]


async def test_overrun_collapses_missed_slots_into_one_run() -> None:
    """A run that outlasts three slots is followed by one catch-up run, then the grid."""
    time, stop = FakeTime(at("2024-05-03T10:00:00")), anyio.Event()
    durations = iter([200.0, 0.0, 0.0])
    started: list[datetime] = []

    async def job() -> None:
        started.append(time.clock())
        time.advance(next(durations))
        if len(started) == 3:
            stop.set()

    await run_on_schedule(
        parse_schedule("every 1m"), job, stop=stop, clock=time.clock, sleep=time.sleep
    )
    # First run 10:01:00 ends 10:04:20, missing 10:02, 10:03 and 10:04.
    assert started == [at(f"2024-05-03T{t}") for t in ("10:01:00", "10:04:20", "10:05:20")]


async def test_stop_ends_a_wait_at_once() -> None:
    """Setting stop while the loop sleeps returns without running the job."""
    stop = anyio.Event()
    runs: list[None] = []

    async def job() -> None:
        runs.append(None)

    async def never_wakes(seconds: float) -> None:
        await anyio.sleep_forever()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(
                lambda: run_on_schedule(
                    parse_schedule("every 1h"), job, stop=stop, sleep=never_wakes
                )
            )
            await anyio.wait_all_tasks_blocked()
            stop.set()
    assert runs == []


async def test_stop_during_a_run_lets_it_finish_and_starts_no_other() -> None:
    """A run in progress when stop is set completes; the loop then returns."""
    time, stop = FakeTime(at("2024-05-03T10:00:00")), anyio.Event()
    finished: list[datetime] = []

    async def job() -> None:
        stop.set()
        await anyio.lowlevel.checkpoint()
        finished.append(time.clock())

    await run_on_schedule(
        parse_schedule("every 1m"),
        job,
        stop=stop,
        clock=time.clock,
        sleep=time.sleep,
        immediately=True,
    )
    assert finished == [at("2024-05-03T10:00:00")]


async def test_already_stopped_never_runs() -> None:
    """A loop started with stop already set returns without a run."""
    stop = anyio.Event()
    stop.set()
    time = FakeTime(at("2024-05-03T10:00:00"))
    started, job = recording_job(time, stop, runs=1)
    await run_on_schedule(
        parse_schedule("every 1m"),
        job,
        stop=stop,
        clock=time.clock,
        sleep=time.sleep,
        immediately=True,
    )
    assert started == []


async def test_job_failure_propagates() -> None:
    """An exception from the job ends the loop and reaches the caller."""
    time, stop = FakeTime(at("2024-05-03T10:00:00")), anyio.Event()

    async def job() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await run_on_schedule(
            parse_schedule("every 1m"), job, stop=stop, clock=time.clock, sleep=time.sleep
        )
