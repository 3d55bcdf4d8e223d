"""Prometheus text exposition: parseable output, escaping, one HELP/TYPE per family."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from connector.metrics import (
    CONTENT_TYPE,
    Counter,
    Gauge,
    MetricsRegistry,
    ledger_samples,
    render,
)


@dataclass
class ParsedFamily:
    help: str | None = None
    type: str | None = None
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def _unescape(text: str, quote: bool) -> str:
    table = {"\\": "\\", "n": "\n", '"': '"'} if quote else {"\\": "\\", "n": "\n"}
    return re.sub(r"\\(.)", lambda m: table.get(m[1], "\\" + m[1]), text)


def parse(text: str) -> dict[str, ParsedFamily]:
    """A strict reader of format 0.0.4: fails on anything a Prometheus server would reject."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families: dict[str, ParsedFamily] = {}
    current: str | None = None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _, kind, name, rest = line.split(" ", 3)
            family = families.setdefault(name, ParsedFamily())
            assert not family.samples, f"{kind} for {name} after its samples"
            if kind == "HELP":
                assert family.help is None, f"HELP twice for {name}"
                family.help = _unescape(rest, quote=False)
            else:
                assert family.type is None, f"TYPE twice for {name}"
                assert rest in {"counter", "gauge", "histogram", "summary", "untyped"}
                family.type = rest
            current = name
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, label_text, value_text = match.groups()
        assert current is not None and name.startswith(current), f"{name} outside its family"
        labels: dict[str, str] = {}
        rest = label_text or ""
        while rest:
            label = _LABEL.match(rest)
            assert label, f"bad labels in {line!r}"
            assert label[1] not in labels, f"label {label[1]} twice in {line!r}"
            labels[label[1]] = _unescape(label[2], quote=True)
            rest = rest[label.end() :]
        families[current].samples.append((name, labels, float(value_text)))
    return families


def test_counter_and_gauge_render_and_parse() -> None:
    """Counters and gauges come out as HELP, TYPE and one sample per label set."""
    registry = MetricsRegistry()
    loaded = registry.counter(
        "ml_connector_records_loaded_total", "Records written to targets.", ("flow", "stream")
    )
    up = registry.gauge("ml_connector_up", "1 while the service runs.")
    loaded.inc(flow="st-infor", stream="invoices")
    loaded.inc(4, flow="st-infor", stream="invoices")
    loaded.inc(flow="st-infor", stream="vendors")
    up.set(1)
    families = parse(registry.render())
    assert families["ml_connector_records_loaded_total"].type == "counter"
    assert families["ml_connector_records_loaded_total"].help == "Records written to targets."
    assert families["ml_connector_records_loaded_total"].samples == [
        ("ml_connector_records_loaded_total", {"flow": "st-infor", "stream": "invoices"}, 5.0),
        ("ml_connector_records_loaded_total", {"flow": "st-infor", "stream": "vendors"}, 1.0),
    ]
    assert families["ml_connector_up"].samples == [("ml_connector_up", {}, 1.0)]
    assert "ml_connector_up 1\n" in registry.render()


def test_label_values_and_help_are_escaped() -> None:
    """Backslash, double quote and newline in a label value survive a round trip."""
    nasty = 'C:\\path "quoted"\nnext line'
    gauge = Gauge("odd", 'Help with \\ and\nnewline and "quotes".', ("value",))
    gauge.set(2.5, value=nasty)
    text = render([gauge])
    assert text.count("\n") == 3, "an unescaped newline split a line"
    parsed = parse(text)["odd"]
    assert parsed.help == 'Help with \\ and\nnewline and "quotes".'
    assert parsed.samples == [("odd", {"value": nasty}, 2.5)]


def test_help_and_type_once_per_family() -> None:
    """Each family has exactly one HELP and one TYPE however many series it has."""
    registry = MetricsRegistry()
    gauge = registry.gauge("g", "A gauge.", ("k",))
    for i in range(5):
        gauge.set(i, k=str(i))
    histogram = registry.histogram("run_seconds", "Run time.", ("flow",), buckets=(1, 10))
    histogram.observe(0.5, flow="a")
    histogram.observe(3, flow="b")
    text = registry.render()
    assert text.count("# HELP g ") == 1 and text.count("# TYPE g ") == 1
    assert text.count("# HELP run_seconds ") == 1 and text.count("# TYPE run_seconds ") == 1
    assert len(parse(text)["g"].samples) == 5


def test_histogram_buckets_are_cumulative() -> None:
    """Buckets count observations at or below each bound, +Inf equals count, sum adds up."""
    registry = MetricsRegistry()
    runs = registry.histogram("run_seconds", "Run time.", ("flow",), buckets=(10, 1, 60))
    for seconds in (0.5, 1.0, 7.0, 61.0, 3600.0):
        runs.observe(seconds, flow="f")
    parsed = parse(registry.render())["run_seconds"]
    assert parsed.type == "histogram"
    buckets = [(s[1]["le"], s[2]) for s in parsed.samples if s[0] == "run_seconds_bucket"]
    assert buckets == [("1", 2.0), ("10", 3.0), ("60", 3.0), ("+Inf", 5.0)]
    totals = {s[0]: s[2] for s in parsed.samples if s[0] != "run_seconds_bucket"}
    assert totals == {"run_seconds_sum": 3669.5, "run_seconds_count": 5.0}


def test_special_float_values() -> None:
    """Infinities and NaN use Prometheus spellings; fractions keep their precision."""
    gauge = Gauge("v", "Values.", ("k",))
    gauge.set(math.inf, k="a")
    gauge.set(-math.inf, k="b")
    gauge.set(math.nan, k="c")
    gauge.set(0.1, k="d")
    lines = render([gauge]).splitlines()[2:]
    assert lines == ['v{k="a"} +Inf', 'v{k="b"} -Inf', 'v{k="c"} NaN', 'v{k="d"} 0.1']


def test_ledger_samples_fill_every_state() -> None:
    """Ledger counts become ml_connector_records gauges, missing states as 0."""
    counts = {("st-infor", "invoices", "done"): 40, ("st-infor", "invoices", "in_doubt"): 2}
    registry = MetricsRegistry()
    parsed = parse(registry.render([ledger_samples(counts)]))["ml_connector_records"]
    assert parsed.type == "gauge"
    values = {s[1]["state"]: s[2] for s in parsed.samples}
    assert values == {
        "done": 40.0,
        "in_doubt": 2.0,
        "pending": 0.0,
        "in_flight": 0.0,
        "failed": 0.0,
        "review": 0.0,
    }
    assert all(s[1]["flow"] == "st-infor" for s in parsed.samples)


def test_ledger_samples_of_an_empty_ledger() -> None:
    """No records means a family with HELP and TYPE and no samples."""
    parsed = parse(render([ledger_samples({})]))
    assert parsed["ml_connector_records"].samples == []


def test_family_twice_is_refused() -> None:
    """A name registered twice, or repeated in extra, is an error, not a broken scrape."""
    registry = MetricsRegistry()
    registry.gauge("ml_connector_records", "x")
    with pytest.raises(ValueError, match="registered twice"):
        registry.gauge("ml_connector_records", "y")
    with pytest.raises(ValueError, match="appears twice"):
        registry.render([ledger_samples({})])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Counter("loaded", "no suffix"), "must end in _total"),
        (lambda: Gauge("bad-name", "x"), "not valid"),
        (lambda: Gauge("g", "x", ("__reserved",)), "not valid"),
        (lambda: Gauge("g", "x", ("a", "a")), "repeats"),
        (lambda: MetricsRegistry().histogram("h", "x", ("le",)), "reserved"),
    ],
)
def test_invalid_definitions_are_refused(build: Callable[[], object], message: str) -> None:
    """Names Prometheus would reject fail at definition time with a clear message."""
    with pytest.raises(ValueError, match=message):
        build()


def test_wrong_labels_and_decreasing_counter_are_refused() -> None:
    """Updating with the wrong label set, or decrementing a counter, raises."""
    counter = Counter("c_total", "x", ("flow",))
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc(stream="s")
    with pytest.raises(ValueError, match="cannot decrease"):
        counter.inc(-1, flow="f")
    assert counter.value(flow="f") == 0


def test_content_type_names_the_format_version() -> None:
    """The content type announces text format 0.0.4."""
    assert "version=0.0.4" in CONTENT_TYPE
