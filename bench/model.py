"""What a connector process reports for one stage: one msgspec Struct per stage.

The worker prints one of these as its last line of JSON; the harness decodes it with the
same type, so a renamed field fails loudly instead of reading as zero.
"""

from __future__ import annotations

import msgspec


class PipelineResult(msgspec.Struct, frozen=True, kw_only=True):
    """Synthetic source → runtime → null target, measured inside the connector process."""

    records: int
    workers: int
    seconds: float
    records_per_s: float
    cpu_s: float
    cpu_us_per_record: float
    #: Transactions and units the store committed (units per commit = group-commit batch).
    commits: int
    units: int
    #: Resident memory after imports and store open, and the process's peak (VmHWM).
    baseline_rss_mb: float
    peak_rss_mb: float
    error: str | None = None


class EndToEndResult(msgspec.Struct, frozen=True, kw_only=True):
    """One full sync cycle of a flow against the sandbox with every rate limit off."""

    flow: str
    records: int
    seconds: float
    records_per_s: float
    connector_cpu_s: float
    sandbox_cpu_s: float
    #: HTTP requests the connector sent (every attempt, token requests aside).
    requests: int
    streams: dict[str, dict[str, int]]
    error: str | None = None


class RateResult(msgspec.Struct, frozen=True, kw_only=True):
    """Requests pushed through one system's limiter as fast as it allows."""

    system: str
    #: The limit the sandbox enforces, in requests per ``period_s``.
    limit: int
    period_s: float
    warmup_s: float
    #: Measured after the warm-up only, so the initial burst does not flatter the figure.
    seconds: float
    requests: int
    requests_per_s: float
    #: 429s (and throttling 503s) the connector saw, after the warm-up and in total.
    throttled_after_warmup: int
    throttled_total: int


class WebhookResult(msgspec.Struct, frozen=True, kw_only=True):
    """Delivery → target write latency of webhook events, from the connector's own clock."""

    events: int
    processed: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    drains: int
    #: HTTP requests the connector sent while the events were processed.
    requests: int
    #: Deliveries the receiver answered 2xx, and its time to answer them (the event durable
    #: in the inbox, then the reply), as aiohttp's access log measures request time.
    deliveries: int = 0
    receiver_p50_ms: float = 0.0
    receiver_p99_ms: float = 0.0
    receiver_max_ms: float = 0.0
    error: str | None = None


class WebhookReady(msgspec.Struct, frozen=True):
    """Printed by the webhook worker once its receiver is subscribed and listening."""

    receiver_url: str


class StreamRequests(msgspec.Struct, frozen=True, kw_only=True):
    """What one stream of a flow cost in one cycle: documents written (created or updated)
    and the requests each system's simulator served for it (a bulk POST is one)."""

    stream: str
    #: Reference data (vendors, items, customers), not documents.
    reference: bool = False
    documents: int
    requests: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def per_document(self) -> float | None:
        return self.total / self.documents if self.documents else None
