"""How long to wait before trying a failed request again.

Two pure functions and one frozen policy; no I/O, so every client and test can share them.

:class:`RetryPolicy` bounds a retry loop twice: by the number of attempts and by the total
time spent waiting between them, whichever comes first. :func:`backoff_delay` draws the wait
before a retry with *full jitter* (a uniform draw between zero and an exponentially growing
cap), which spreads the retries of many callers that failed together instead of sending them
back in lock-step. :func:`parse_retry_after` reads a server's ``Retry-After`` header, which
wins over the drawn delay whenever it asks for more.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random
import time

import msgspec

# 2**64 times any sane base delay is far beyond every cap, and it keeps the float finite.
_MAX_EXPONENT = 64


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Bounds of one retry loop; immutable so one policy can be shared by every client."""

    #: Attempts in all, the first one included (1 = never retry).
    max_attempts: int = 6
    #: Cap of the first retry's delay; the cap doubles with every further retry.
    base_delay_s: float = 0.5
    #: The cap never grows past this, however many retries came before.
    max_delay_s: float = 30.0
    #: A retry whose wait would bring the total waited past this is not made: the last error
    #: is raised instead, so a caller learns of a long outage within bounded time.
    max_total_wait_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy.max_attempts must be >= 1, not {self.max_attempts}")
        for name in ("base_delay_s", "max_delay_s", "max_total_wait_s"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"RetryPolicy.{name} must be a finite number >= 0, not {value}")


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """The wait before retry number ``attempt`` (0 for the first retry), with full jitter.

    Returns a uniform draw from ``[0, min(max_delay_s, base_delay_s * 2**attempt)]``. The
    draw comes from ``rng`` so a test can seed it; pass one ``random.Random`` per client.
    """
    if attempt < 0:
        raise ValueError(f"attempt counts retries from 0, so it cannot be {attempt}")
    cap = min(policy.max_delay_s, policy.base_delay_s * 2.0 ** min(attempt, _MAX_EXPONENT))
    return rng.uniform(0.0, cap)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value, or None if it says nothing.

    Both forms of RFC 9110 are read: delta-seconds (``"120"``; a decimal such as ``"1.5"`` is
    accepted too, since some throttles send one) and an HTTP-date, which is measured against
    ``now`` (a Unix time, default the current one). A date in the past or a negative number
    means "now" and gives 0. A missing, empty or unreadable value gives None, so the caller
    falls back to its own backoff rather than trusting garbage.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_http_date(text, time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _seconds_until_http_date(text: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are always GMT; "-0000" parses as naive, but it still means UTC.
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)
