"""The runs page's chart: documents written and errors per hour, as inline SVG.

Drawn on the server from the runs table, so the page needs no script library; each bar
has a ``<title>`` (a browser shows it on hover) and the numbers are in the table below it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from connector.store import RunRow

HOURS = 24
WIDTH, HEIGHT, PAD = 720, 160, 24


@dataclass(frozen=True, slots=True)
class HourBucket:
    start: float
    documents: int
    errors: int


def per_hour(runs: Iterable[RunRow], now: float | None = None) -> list[HourBucket]:
    """The last 24 hours, oldest first: records created or updated, and records refused."""
    end = (now if now is not None else time.time()) // 3600 * 3600 + 3600
    start = end - HOURS * 3600
    documents = [0] * HOURS
    errors = [0] * HOURS
    for run in runs:
        if not start <= run.started_at < end:
            continue
        slot = int((run.started_at - start) // 3600)
        for counts in run.counts.values():
            documents[slot] += counts.get("created", 0) + counts.get("updated", 0)
            errors[slot] += counts.get("failed", 0)
    return [HourBucket(start + i * 3600, documents[i], errors[i]) for i in range(HOURS)]


def svg(buckets: list[HourBucket]) -> str:
    """Two bars per hour (documents, errors) on one scale, hour labels every 3 hours."""
    top = max([1, *(max(b.documents, b.errors) for b in buckets)])
    slot = (WIDTH - PAD) / len(buckets)
    bar = slot / 2 - 1
    plot = HEIGHT - PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="documents and errors per hour" class="chart">',
        f'<text x="0" y="10" font-size="10">{top}</text>',
        f'<line x1="{PAD}" y1="{plot}" x2="{WIDTH}" y2="{plot}" stroke="#999"/>',
    ]
    for i, b in enumerate(buckets):
        x = PAD + i * slot
        label = time.strftime("%H:00", time.localtime(b.start))
        for offset, value, colour, what in (
            (0.0, b.documents, "#2f6fb3", "documents"),
            (bar + 1, b.errors, "#c0392b", "errors"),
        ):
            height = plot * value / top
            parts.append(
                f'<rect class="{what}" x="{x + offset:.1f}" y="{plot - height:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {value} {what}</title></rect>"
            )
        if i % 3 == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="10">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
