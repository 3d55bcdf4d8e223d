"""Process figures from the kernel: CPU seconds and resident memory, own or another's."""

from __future__ import annotations

import math
import os
import resource
import statistics
from collections.abc import Sequence
from pathlib import Path

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """User + system CPU time of this process so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU time of another process (``/proc/<pid>/stat``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses; the fields after its ")" do not.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS_PER_S


def _status_kb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line; is this Linux?")


def peak_rss_mb() -> float:
    """The highest resident set size this process has had (VmHWM), in MiB."""
    return _status_kb("VmHWM") / 1024


def rss_mb() -> float:
    """The resident set size now (VmRSS), in MiB."""
    return _status_kb("VmRSS") / 1024


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0..1) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0
