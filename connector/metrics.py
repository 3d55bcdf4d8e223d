"""Prometheus metrics without a dependency: counters, gauges, histograms, text format 0.0.4.

Two kinds of family live side by side. Long-lived ones (records loaded, limiter waits, run
durations) are created once in a :class:`MetricsRegistry` and updated as things happen.
Snapshot ones are rebuilt from the state database on every scrape, such as
:func:`ledger_samples`, and passed to :meth:`MetricsRegistry.render` as ``extra``, so a label
set that no longer exists disappears instead of freezing at its last value.

Not thread-safe: update metrics from the event loop's thread, as everything in the service
does. Serve the output with content type :data:`CONTENT_TYPE`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import ClassVar, TypeVar

from connector.store.records import State

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

#: Bucket bounds (seconds) for run durations: a quick poll to an hour-long backfill.
DEFAULT_DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

LabelValues = tuple[str, ...]


class _Family:
    """A named metric with fixed label names; one value (or series) per label-value tuple."""

    type_name: ClassVar[str]

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        if not _METRIC_NAME.match(name):
            raise ValueError(f"metric name {name!r} is not valid: use [a-zA-Z_:][a-zA-Z0-9_:]*")
        for label in labelnames:
            if not _LABEL_NAME.match(label) or label.startswith("__"):
                raise ValueError(
                    f"label {label!r} of {name} is not valid: use [a-zA-Z_][a-zA-Z0-9_]* "
                    "not starting with __"
                )
        if len(set(labelnames)) != len(labelnames):
            raise ValueError(f"metric {name} repeats a label name: {list(labelnames)}")
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)

    def _key(self, labels: Mapping[str, str]) -> LabelValues:
        if set(labels) != set(self.labelnames):
            raise ValueError(
                f"metric {self.name} takes labels {list(self.labelnames)}, got {sorted(labels)}"
            )
        return tuple(str(labels[name]) for name in self.labelnames)

    def samples(self) -> Iterator[tuple[str, LabelValues, tuple[tuple[str, str], ...], float]]:
        """``(sample name, label values, extra labels, value)`` in a stable order."""
        raise NotImplementedError


class Counter(_Family):
    """A value that only goes up (resets only when the process restarts).

    By Prometheus convention the name ends in ``_total``; this is enforced, since a rate()
    over a misnamed counter is the usual way dashboards go wrong.
    """

    type_name = "counter"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        if not name.endswith("_total"):
            raise ValueError(f"counter {name!r} must end in _total (Prometheus convention)")
        self._values: dict[LabelValues, float] = {}

    def inc(self, amount: float = 1.0, /, **labels: str) -> None:
        """Add ``amount`` (≥ 0) to the series named by ``labels``."""
        if amount < 0:
            raise ValueError(f"counter {self.name} cannot decrease (inc by {amount})")
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """The current value of one series (0 if never incremented)."""
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> Iterator[tuple[str, LabelValues, tuple[tuple[str, str], ...], float]]:
        for key in sorted(self._values):
            yield self.name, key, (), self._values[key]


class Gauge(_Family):
    """A value that goes up and down (queue depth, records per state, token seconds left)."""

    type_name = "gauge"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self._values: dict[LabelValues, float] = {}

    def set(self, value: float, /, **labels: str) -> None:
        """Set the series named by ``labels`` to ``value``."""
        self._values[self._key(labels)] = float(value)

    def inc(self, amount: float = 1.0, /, **labels: str) -> None:
        """Add ``amount`` (may be negative) to the series named by ``labels``."""
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """The current value of one series (0 if never set)."""
        return self._values.get(self._key(labels), 0.0)

    def clear(self) -> None:
        """Forget every series, e.g. before refilling from a fresh snapshot."""
        self._values.clear()

    def samples(self) -> Iterator[tuple[str, LabelValues, tuple[tuple[str, str], ...], float]]:
        for key in sorted(self._values):
            yield self.name, key, (), self._values[key]


class Histogram(_Family):
    """Observations counted into cumulative buckets, with their sum and count.

    Good for run and request durations: ``histogram_quantile()`` gives percentiles across
    all processes, which a client-side summary cannot.
    """

    type_name = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_DURATION_BUCKETS,
    ) -> None:
        super().__init__(name, help, labelnames)
        if "le" in self.labelnames:
            raise ValueError(f"histogram {name} cannot have a label named 'le' (it is reserved)")
        bounds = sorted(b for b in buckets if not math.isinf(b))
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError(f"histogram {name} needs distinct finite buckets, got {buckets}")
        self.buckets = tuple(bounds)
        self._series: dict[LabelValues, _HistogramSeries] = {}

    def observe(self, value: float, /, **labels: str) -> None:
        """Count one observation (e.g. a run's duration in seconds)."""
        key = self._key(labels)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _HistogramSeries(len(self.buckets))
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                series.bucket_counts[index] += 1
                break
        series.count += 1
        series.sum += value

    def samples(self) -> Iterator[tuple[str, LabelValues, tuple[tuple[str, str], ...], float]]:
        for key in sorted(self._series):
            series = self._series[key]
            cumulative = 0
            for bound, count in zip(self.buckets, series.bucket_counts, strict=True):
                cumulative += count
                yield f"{self.name}_bucket", key, (("le", _format_value(bound)),), cumulative
            yield f"{self.name}_bucket", key, (("le", "+Inf"),), series.count
            yield f"{self.name}_sum", key, (), series.sum
            yield f"{self.name}_count", key, (), series.count


class _HistogramSeries:
    """Per-label-set state: non-cumulative bucket counts (summed on render), sum, count."""

    def __init__(self, buckets: int) -> None:
        self.bucket_counts = [0] * buckets
        self.sum = 0.0
        self.count = 0


Family = Counter | Gauge | Histogram
_F = TypeVar("_F", Counter, Gauge, Histogram)


class MetricsRegistry:
    """The process's long-lived metric families, rendered together on each scrape."""

    def __init__(self) -> None:
        self._families: dict[str, Family] = {}

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        """Create and register a counter; a name already registered is a ValueError."""
        return self._add(Counter(name, help, labelnames))

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        """Create and register a gauge; a name already registered is a ValueError."""
        return self._add(Gauge(name, help, labelnames))

    def histogram(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_DURATION_BUCKETS,
    ) -> Histogram:
        """Create and register a histogram; a name already registered is a ValueError."""
        return self._add(Histogram(name, help, labelnames, buckets))

    def _add(self, family: _F) -> _F:
        if family.name in self._families:
            raise ValueError(f"metric {family.name} is registered twice")
        self._families[family.name] = family
        return family

    def render(self, extra: Iterable[Family] = ()) -> str:
        """Text exposition 0.0.4 of the registered families, then ``extra`` (snapshots).

        Each family gets ``# HELP`` and ``# TYPE`` once, then one sample per line. A name
        in ``extra`` that is also registered (or repeated) is a ValueError: Prometheus
        rejects a scrape with a family twice.
        """
        return render([*self._families.values(), *extra])


def render(families: Iterable[Family]) -> str:
    """Text exposition format 0.0.4 of ``families``, ending with a newline."""
    out: list[str] = []
    seen: set[str] = set()
    for family in families:
        if family.name in seen:
            raise ValueError(f"metric {family.name} appears twice in one exposition")
        seen.add(family.name)
        out.append(f"# HELP {family.name} {_escape_help(family.help)}")
        out.append(f"# TYPE {family.name} {family.type_name}")
        for sample_name, values, extra_labels, value in family.samples():
            pairs = [*zip(family.labelnames, values, strict=True), *extra_labels]
            labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in pairs)
            label_text = f"{{{labels}}}" if labels else ""
            out.append(f"{sample_name}{label_text} {_format_value(value)}")
    return "\n".join(out) + "\n" if out else ""


def ledger_samples(counts: Mapping[tuple[str, str, str], int]) -> Gauge:
    """``ml_connector_records{flow,stream,state}`` from ``Store.ledger_counts()``.

    Every ledger state is present (as 0 when empty) for each flow and stream that has any
    record, so a state that empties reads 0 rather than vanishing and alerts on, say,
    ``ml_connector_records{state="in_doubt"} > 0`` resolve cleanly.
    """
    gauge = Gauge(
        "ml_connector_records",
        "Records in the ledger by flow, stream and state.",
        ("flow", "stream", "state"),
    )
    for flow, stream in {(flow, stream) for flow, stream, _ in counts}:
        for state in State:
            gauge.set(0, flow=flow, stream=stream, state=state.value)
    for (flow, stream, state_name), count in counts.items():
        gauge.set(count, flow=flow, stream=stream, state=state_name)
    return gauge


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))
