"""Backoff with full jitter and Retry-After parsing."""

from __future__ import annotations

import email.utils
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.http import RetryPolicy, backoff_delay, parse_retry_after

NOW = 1_700_000_000.0


@given(
    attempt=st.integers(min_value=0, max_value=100_000),
    base=st.floats(min_value=0, max_value=100, allow_nan=False),
    cap=st.floats(min_value=0, max_value=1000, allow_nan=False),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_backoff_stays_between_zero_and_the_cap(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    """Every draw lies in [0, min(max_delay, base * 2**attempt)], even for huge attempts."""
    policy = RetryPolicy(base_delay_s=base, max_delay_s=cap)
    delay = backoff_delay(attempt, policy, random.Random(seed))
    assert 0 <= delay <= min(cap, base * 2.0 ** min(attempt, 64))


def test_backoff_jitter_is_full_not_equal() -> None:
    """Draws spread over the whole range from 0 to the cap, not only its upper half."""
    policy = RetryPolicy(base_delay_s=1, max_delay_s=8)
    rng = random.Random(7)
    draws = [backoff_delay(3, policy, rng) for _ in range(500)]
    assert min(draws) < 0.8
    assert max(draws) > 7.2


def test_backoff_cap_doubles_per_attempt_until_max_delay() -> None:
    """The cap is base * 2**attempt until max_delay_s takes over."""
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=30)
    rng = random.Random(1)
    assert max(backoff_delay(0, policy, rng) for _ in range(300)) <= 0.5
    assert max(backoff_delay(2, policy, rng) for _ in range(300)) > 1.5
    assert max(backoff_delay(20, policy, rng) for _ in range(300)) <= 30


def test_backoff_refuses_a_negative_attempt() -> None:
    """Attempts count from 0; a negative one is a programming error."""
    with pytest.raises(ValueError, match="from 0"):
        backoff_delay(-1, RetryPolicy(), random.Random(0))


def test_policy_defaults_and_validation() -> None:
    """Defaults match the design, and an impossible policy is refused at construction."""
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay_s, policy.max_delay_s) == (6, 0.5, 30)
    assert policy.max_total_wait_s == 120
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="max_delay_s"):
        RetryPolicy(max_delay_s=-1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), (" 3 ", 3.0), ("1.5", 1.5), ("0", 0.0), ("-4", 0.0)],
)
def test_retry_after_delta_seconds(header: str, expected: float) -> None:
    """Delta-seconds are read as they are; a negative number means 'now'."""
    assert parse_retry_after(header, now=NOW) == expected


def test_retry_after_http_date_in_the_future() -> None:
    """An HTTP-date is turned into seconds from `now`."""
    header = email.utils.formatdate(NOW + 42, usegmt=True)
    assert parse_retry_after(header, now=NOW) == pytest.approx(42)


def test_retry_after_http_date_with_numeric_zone() -> None:
    """A date with a -0000 zone (parsed as naive) is still read as UTC."""
    header = email.utils.formatdate(NOW + 10)
    assert header.endswith("-0000")
    assert parse_retry_after(header, now=NOW) == pytest.approx(10)


def test_retry_after_http_date_in_the_past_is_zero() -> None:
    """A date already gone means retry now, not a negative wait."""
    header = email.utils.formatdate(NOW - 3600, usegmt=True)
    assert parse_retry_after(header, now=NOW) == 0.0


@pytest.mark.parametrize("header", [None, "", "   ", "soon", "Tuesday", "nan", "inf", "1e999"])
def test_retry_after_garbage_is_none(header: str | None) -> None:
    """Missing or unreadable values give None, so the caller uses its own backoff."""
    assert parse_retry_after(header, now=NOW) is None
