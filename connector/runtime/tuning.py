"""The interpreter's settings for a connector process (set once, at start).

**The writer thread and the GIL.** The state database's writer thread gives up the GIL
around every SQLite call and must take it back after; while the event loop runs Python,
it waits for the loop to drop it, which CPython forces only after the switch interval
(5 ms by default). A group commit makes a dozen such calls, so at the default the writer
spent more of a backfill waiting than working (``bench.worker pipeline``: commit wall time
twice its CPU time). ``SWITCH_INTERVAL_S`` lets it back 25 times sooner; the loop pays a
few thousand more switches a backfill (pipeline, 50,000 records: 17,300-17,700 records/s
at 5 ms; 22,700-24,000 at 0.5 ms; 24,000-25,700 at 0.2 ms, for about 2 us more CPU per
record; 0.1 ms was slower again).

**The garbage collector.**
The pipeline allocates a few dozen short-lived objects per record (envelopes, commands,
units, audit rows) and frees nearly all of them by reference counting; cycles are rare.
CPython's defaults collect the young generation every 700 allocations (every dozen records
or so) and, every few of those, walk older generations that hold everything imported and
configured at start. Measured with ``bench.worker pipeline``, that was about a fifth of the
CPU per record. So, once the process has started:

* ``gc.freeze()`` moves what exists now (modules, config, clients) out of every future
  collection: it lives as long as the process anyway;
* the young generation is collected every ``YOUNG_THRESHOLD`` allocations instead of 700.

Cycles are still collected, only less often. The bench's memory stage stays flat: peak RSS
63 MB at 50,000 records, 66 MB at 200,000 (batched loaders hold more records in flight than
one at a time did: 54 MB before).
"""

from __future__ import annotations

import gc
import sys

#: Seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005).
SWITCH_INTERVAL_S = 0.0002

#: Allocations between two collections of the young generation (CPython's default: 700).
YOUNG_THRESHOLD = 20_000

_tuned = False


def tune_process() -> None:
    """Apply the settings above; later calls do nothing (tests call ``main`` many times)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
