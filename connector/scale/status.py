"""What one node knows about itself, for its ``/healthz`` and ``/metrics``.

Its Procrastinate workers (alive or not, their heartbeat rows), the tenant jobs it runs
now, and per-tenant counters of the jobs it ran: counted here as each job ends, so
every node reports its own share and Prometheus sums the cluster.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import procrastinate
from procrastinate.worker import Worker

from connector.metrics import MetricsRegistry
from connector.scale.directory import JobKind
from connector.scale.work import JobResult


@dataclass(frozen=True)
class RunningJob:
    tenant: str
    flow: str
    kind: JobKind
    started_at: float


@dataclass
class NodeWorker:
    """One Procrastinate worker of the node and the task running it."""

    name: str
    queue: str
    worker: Worker
    task: asyncio.Future[None] | None = None

    def start(self) -> asyncio.Future[None]:
        """Run the worker in a task of its own (cancel it once to stop it gracefully)."""
        self.task = asyncio.ensure_future(self.worker.run())  # type: ignore[no-untyped-call]
        return self.task

    @property
    def alive(self) -> bool:
        """Running, and registered in Procrastinate's worker table."""
        return (
            self.task is not None and not self.task.done() and self.worker.worker_id is not None
        )


@dataclass
class NodeStatus:
    """Shared by the node's tasks (which report jobs) and its admin endpoint (which reads)."""

    name: str
    started_at: float = field(default_factory=time.time)
    workers: list[NodeWorker] = field(default_factory=list)
    running: dict[int, RunningJob] = field(default_factory=dict)
    metrics: MetricsRegistry = field(default_factory=MetricsRegistry)
    _tokens: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.jobs_total = self.metrics.counter(
            "ml_connector_tenant_jobs_total",
            "Tenant jobs this node ran, by tenant, flow, kind and how they ended.",
            ("tenant", "flow", "kind", "status"),
        )
        self.jobs_failed_total = self.metrics.counter(
            "ml_connector_tenant_jobs_failed_total",
            "Tenant jobs this node ran that failed (a stopped run or an error).",
            ("tenant", "flow", "kind"),
        )
        self.documents_total = self.metrics.counter(
            "ml_connector_tenant_documents_total",
            "Records this node's jobs handled, by tenant, flow and outcome.",
            ("tenant", "flow", "outcome"),
        )
        self.last_success = self.metrics.gauge(
            "ml_connector_tenant_last_success_timestamp_seconds",
            "When this node last finished a job of the tenant's flow without failure.",
            ("tenant", "flow"),
        )

    def add_worker(
        self, app: procrastinate.App, name: str, queue: str, **options: object
    ) -> NodeWorker:
        """A worker of ``app`` on ``queue``, to be run (``worker.run()``) by the node."""
        worker = Worker(app=app, queues=[queue], name=name, **options)  # type: ignore[arg-type]
        entry = NodeWorker(name, queue, worker)
        self.workers.append(entry)
        return entry

    @asynccontextmanager
    async def job(
        self, tenant: str, flow: str, kind: JobKind
    ) -> AsyncIterator[list[JobResult]]:
        """Count one job: yields a list the job appends its result to; a job that raises
        (or appends none) counts as an error."""
        token = next(self._tokens)
        self.running[token] = RunningJob(tenant, flow, kind, time.time())
        results: list[JobResult] = []
        try:
            yield results
        finally:
            del self.running[token]
            self._count(tenant, flow, kind, results[0] if results else None)

    def _count(self, tenant: str, flow: str, kind: JobKind, result: JobResult | None) -> None:
        status = "error" if result is None else result.status
        self.jobs_total.inc(tenant=tenant, flow=flow, kind=kind, status=status)
        if status in ("error", "failed"):
            self.jobs_failed_total.inc(tenant=tenant, flow=flow, kind=kind)
            return
        # Make every series exist from the first job, so alerts on it resolve cleanly.
        self.jobs_failed_total.inc(0, tenant=tenant, flow=flow, kind=kind)
        if result is not None:
            for outcome, n in result.outcomes.items():
                self.documents_total.inc(n, tenant=tenant, flow=flow, outcome=outcome)
            if status in ("ok", "attention", "idle"):
                self.last_success.set(time.time(), tenant=tenant, flow=flow)
