"""The contiguous watermark: the cursor never passes a record that is not terminal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connector.runtime.watermark import Watermark


@given(st.data(), st.integers(min_value=1, max_value=60))
def test_cursor_never_passes_an_unfinished_record(data: st.DataObject, n: int) -> None:
    """For any completion order, the cursor is the last cursor at or below the lowest gap."""
    wm = Watermark()
    cursors = {seq: f"c{seq:03d}" for seq in range(n) if data.draw(st.booleans())}
    for seq in range(n):
        assert wm.issue(cursors.get(seq)) == seq
    order = data.draw(st.permutations(list(range(n))))
    finished: set[int] = set()
    for seq in order:
        wm.complete(seq)
        finished.add(seq)
        low = 0
        while low in finished:
            low += 1
        earned = [c for s, c in cursors.items() if s < low]
        assert wm.cursor == (max(earned) if earned else None)
        if wm.cursor is not None:
            position = int(wm.cursor[1:])
            assert all(s in finished for s in range(position + 1))
    assert wm.outstanding == 0


def test_complete_reports_only_advances() -> None:
    """complete() returns the new cursor only when the contiguous mark moved past one."""
    wm = Watermark()
    a, b = wm.issue("a"), wm.issue("b")
    assert wm.complete(b) is None
    assert wm.complete(a) == "b"
    assert wm.cursor == "b"
