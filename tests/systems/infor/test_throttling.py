"""The gateway's quota: throttled answers pause the client's limiter, and every call succeeds.

The simulator counts requests per OAuth client in a rolling window (``requests_per_minute``
knob) and answers the excess with 429 (or 503) and ``Retry-After``. Its window is a module
constant of 60 s, which would make one throttle cost a minute, so these tests shrink that
window to one second (time scaling, the quota logic itself untouched) and set the quota
per window accordingly.
"""

from __future__ import annotations

import pytest

from connector.sandbox.infor import simulator as infor_simulator
from tests.systems.infor.conftest import InforSandbox

QUOTA_PER_WINDOW = 5
CALLS = 12


@pytest.fixture(autouse=True)
def one_second_quota_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scale the simulator's 60 s quota window down to 1 s (read when a window is created)."""
    monkeypatch.setattr(infor_simulator, "THROTTLE_WINDOW_S", 1.0)


@pytest.mark.parametrize("status", [429, 503])
async def test_quota_throttling_is_waited_out(infor: InforSandbox, status: int) -> None:
    """Over the gateway quota, 429/503 + Retry-After pause the limiter; every call succeeds."""
    await infor.knobs(
        requests_per_minute=QUOTA_PER_WINDOW, retry_after_header=True, throttle_status=status
    )
    # The client's own budget is far above the gateway's: only the server's answers slow it.
    connection = infor.connect()
    suppliers = [s["SUNO"] for s in await infor.entities("suppliers")][:CALLS]
    found = [await connection.client.get_supplier(suno) for suno in suppliers]
    assert [s.SUNO for s in found if s is not None] == suppliers
    served = (await infor.state())["counters"]["served_429"]
    assert served > 0
    assert connection.limiter.throttled_total == served
