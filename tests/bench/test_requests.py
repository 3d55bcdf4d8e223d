"""bench.requests: requests per document over document streams, and the budgeted rate."""

from __future__ import annotations

from bench.model import StreamRequests
from bench.requests import budgeted, summarize


def _results() -> list[StreamRequests]:
    return [
        StreamRequests(stream="vendors", reference=True, documents=10, requests={"infor": 40}),
        StreamRequests(
            stream="bills", documents=20, requests={"infor": 30, "servicetitan": 2}
        ),
        StreamRequests(
            stream="invoices", documents=40, requests={"infor": 60, "servicetitan": 1}
        ),
    ]


def test_reference_streams_are_listed_but_not_counted_per_document() -> None:
    """Vendors are paid once, not per document: the flow figure is over bills and invoices,
    and each stream keeps its own figure."""
    figure = summarize(_results(), lines=100, latency_ms=0.0)
    assert figure.documents == 60
    assert figure.per_document == round(93 / 60, 3)
    assert figure.per_document_by_system == {"infor": 1.5, "servicetitan": 0.05}
    assert figure.streams["vendors"].per_document == 4.0


def test_the_budgeted_rate_is_set_by_the_system_whose_budget_runs_out_first() -> None:
    """M3's 300/min at 1.5 requests per document allows 200 documents a minute; ServiceTitan's
    3600/min at 0.05 allows far more, so M3 bounds the flow."""
    rate = budgeted(summarize(_results(), lines=100, latency_ms=0.0), 25.0)
    assert rate.documents_per_minute_by_system == {"infor": 200.0, "servicetitan": 72000.0}
    assert (rate.documents_per_minute, rate.bound_by) == (200.0, "infor")
    assert rate.unthrottled_records_per_minute == 1500
