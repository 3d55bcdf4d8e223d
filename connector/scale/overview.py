"""What ``tenants list`` shows of each tenant's flows: when the next cycle is due, how the
last run went, the open errors, and whether a job of it is queued or running now.

Read in one connection from the three places that know: the cluster's schedule rows,
Procrastinate's job table, and each tenant's own schema (its ``runs``, ``dead_letters`` and
``review`` tables). A tenant whose schema no job has created yet simply has no runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connector.scale.jobs import TENANT_QUEUE

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class LastRun:
    id: int
    status: str
    started_at: str
    finished_at: str | None
    error: str | None


@dataclass(frozen=True)
class FlowOverview:
    """One flow of one tenant, as ``tenants list`` shows it."""

    tenant: str
    flow: str
    next_due: str | None
    """When the tick next queues the flow's cycle (ISO 8601, UTC)."""
    last_run: LastRun | None
    open_errors: int
    """Open dead letters (``errors list`` on the tenant's state)."""
    open_review: int
    job: str | None
    """``running`` or ``queued`` when a job of the flow is in Procrastinate's queue."""


async def overview(
    conn: psycopg.AsyncConnection[tuple[Any, ...]], flows: Sequence[tuple[str, str]]
) -> list[FlowOverview]:
    """The overview of each ``(tenant, flow)``, in the order given."""
    cur = await conn.execute(
        "SELECT tenant, flow, next_due FROM ml_connector_schedules WHERE kind = 'cycle'"
    )
    due = {(t, f): when for t, f, when in await cur.fetchall()}
    cur = await conn.execute(
        "SELECT args->>'tenant', args->>'flow', bool_or(status = 'doing') "
        "FROM procrastinate_jobs WHERE queue_name = %s AND status IN ('todo', 'doing') "
        "GROUP BY 1, 2",
        (TENANT_QUEUE,),
    )
    jobs = {(t, f): "running" if doing else "queued" for t, f, doing in await cur.fetchall()}
    state: dict[str, _TenantState] = {}
    for tenant in dict.fromkeys(t for t, _ in flows):
        state[tenant] = await _tenant_state(conn, tenant)
    result = []
    for tenant, flow in flows:
        tenant_state = state[tenant]
        when = due.get((tenant, flow))
        result.append(
            FlowOverview(
                tenant=tenant,
                flow=flow,
                next_due=None if when is None else _iso(when.timestamp()),
                last_run=tenant_state.runs.get(flow),
                open_errors=tenant_state.dead.get(flow, 0),
                open_review=tenant_state.review.get(flow, 0),
                job=jobs.get((tenant, flow)),
            )
        )
    return result


@dataclass(frozen=True)
class _TenantState:
    runs: dict[str, LastRun]
    dead: dict[str, int]
    review: dict[str, int]


async def _tenant_state(
    conn: psycopg.AsyncConnection[tuple[Any, ...]], tenant: str
) -> _TenantState:
    from psycopg import sql

    cur = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{tenant}".runs',))
    row = await cur.fetchone()
    if not (row and row[0]):
        return _TenantState({}, {}, {})
    schema = sql.Identifier(tenant)
    cur = await conn.execute(
        sql.SQL(
            "SELECT DISTINCT ON (flow) flow, id, status, started_at, finished_at, error "
            "FROM {}.runs ORDER BY flow, id DESC"
        ).format(schema)
    )
    runs = {
        flow: LastRun(
            int(run_id), str(status), _iso(started), None if ended is None else _iso(ended), error
        )
        for flow, run_id, status, started, ended, error in await cur.fetchall()
    }
    counts: list[dict[str, int]] = []
    for table in ("dead_letters", "review"):
        cur = await conn.execute(
            sql.SQL("SELECT flow, count(*) FROM {}.{} WHERE status = 'open' GROUP BY flow").format(
                schema, sql.Identifier(table)
            )
        )
        counts.append({str(flow): int(n) for flow, n in await cur.fetchall()})
    return _TenantState(runs, counts[0], counts[1])


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
