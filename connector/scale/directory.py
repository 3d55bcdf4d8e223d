"""The cluster's tenants, their schedules and their hand-overs: rows in PostgreSQL.

``ml_connector_tenants`` holds each tenant's configuration as the TOML text an operator
wrote (systems, flows, mappings; never a secret: those are in the tenant's vault).
``ml_connector_schedules`` holds, per tenant and flow, when its next sync cycle (and its
next webhook-inbox sweep) is due; the once-a-second tick claims the due rows with
``FOR UPDATE SKIP LOCKED`` and defers their jobs before it commits, so a tick that dies
defers nothing twice and loses nothing (the rows stay due).
``ml_connector_handoffs`` holds when a tenant's last job ended and how long the next one
must wait before its first request (see :func:`connector.scale.work.handoff_gap`).

Times come from the database's clock, so the nodes' clocks never have to agree.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from connector.config import Config
from connector.config.schedule import parse_schedule
from connector.errors import ConfigurationError
from connector.runtime.scheduler import next_run

if TYPE_CHECKING:
    import psycopg

    from connector.scale.overview import FlowOverview

#: A tenant id is also the name of its PostgreSQL schema and of its state directory.
TENANT_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
#: How often a flow with webhooks drains its inbox when no delivery asked for it.
INBOX_SWEEP = "every 30s"

JobKind = Literal["cycle", "drain"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ml_connector_tenants (
    id text PRIMARY KEY,
    config_toml text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ml_connector_schedules (
    tenant text NOT NULL REFERENCES ml_connector_tenants (id) ON DELETE CASCADE,
    flow text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('cycle', 'drain')),
    schedule text NOT NULL,
    next_due timestamptz NOT NULL,
    PRIMARY KEY (tenant, flow, kind)
);
CREATE INDEX IF NOT EXISTS ml_connector_schedules_due ON ml_connector_schedules (next_due);
CREATE TABLE IF NOT EXISTS ml_connector_handoffs (
    tenant text PRIMARY KEY REFERENCES ml_connector_tenants (id) ON DELETE CASCADE,
    ended_at timestamptz NOT NULL,
    gap_s double precision NOT NULL
);
"""


#: Schema names PostgreSQL keeps for itself or the cluster's shared tables use.
_RESERVED = ("public", "information_schema")


def check_tenant_id(tenant: str) -> str:
    if tenant in _RESERVED or tenant.startswith("pg_"):
        raise ConfigurationError(
            f"tenant id {tenant!r} is reserved by PostgreSQL (public, information_schema, "
            "pg_…); choose another"
        )
    if not TENANT_ID.match(tenant):
        raise ConfigurationError(
            f"tenant id {tenant!r} is not usable: use 1 to 48 lower-case letters, digits and "
            "underscores, starting with a letter (it names the tenant's database schema)"
        )
    return tenant


@dataclass(frozen=True)
class TenantRow:
    id: str
    config_toml: str
    added_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DueJob:
    tenant: str
    flow: str
    kind: JobKind


def schedules_of(config: Config) -> list[tuple[str, JobKind, str]]:
    """(flow, kind, schedule) for each enabled flow: its cycle, and an inbox sweep when it
    takes webhooks."""
    rows: list[tuple[str, JobKind, str]] = []
    for name, flow in config.flows.items():
        if not flow.enabled:
            continue
        rows.append((name, "cycle", flow.schedule))
        if flow.webhook:
            rows.append((name, "drain", INBOX_SWEEP))
    return rows


class TenantDirectory:
    """Reads and writes the tables above; one short connection per call."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def _connect(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        # Imported here: every CLI command imports this module, few talk to a cluster.
        import psycopg
        from psycopg.rows import tuple_row

        try:
            return await psycopg.AsyncConnection.connect(
                self.database_url, row_factory=tuple_row, connect_timeout=10
            )
        except psycopg.OperationalError as exc:
            raise ConfigurationError(
                f"cannot reach the cluster's PostgreSQL ({exc}); check --database-url "
                "and that the server accepts this node"
            ) from None

    async def create_schema(self) -> None:
        """Create these tables and Procrastinate's if missing; safe when several nodes
        start at once (they queue on an advisory lock)."""
        async with await self._connect() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ml-connector: schema'))")
            await conn.execute(_SCHEMA)
            cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
            row = await cur.fetchone()
            if not (row and row[0]):
                # Imported here: every CLI command imports this module, few create schemas.
                from procrastinate.schema import SchemaManager

                await conn.execute(SchemaManager.get_schema())

    async def add(self, tenant: str, config_toml: str, config: Config, *, replace: bool) -> bool:
        """Store a tenant (its flows due at once); False if it existed and not ``replace``."""
        check_tenant_id(tenant)
        async with await self._connect() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO ml_connector_tenants (id, config_toml) VALUES (%s, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (tenant, config_toml),
            )
            if cur.rowcount == 0:
                if not replace:
                    return False
                await conn.execute(
                    "UPDATE ml_connector_tenants SET config_toml = %s, updated_at = now() "
                    "WHERE id = %s",
                    (config_toml, tenant),
                )
                await conn.execute(
                    "DELETE FROM ml_connector_schedules WHERE tenant = %s", (tenant,)
                )
            for flow, kind, schedule in schedules_of(config):
                await conn.execute(
                    "INSERT INTO ml_connector_schedules (tenant, flow, kind, schedule, next_due) "
                    "VALUES (%s, %s, %s, %s, now())",
                    (tenant, flow, kind, schedule),
                )
        return True

    async def remove(self, tenant: str) -> bool:
        async with await self._connect() as conn, conn.transaction():
            cur = await conn.execute("DELETE FROM ml_connector_tenants WHERE id = %s", (tenant,))
            return cur.rowcount > 0

    async def get(self, tenant: str) -> TenantRow | None:
        async with await self._connect() as conn:
            cur = await conn.execute(
                "SELECT id, config_toml, added_at, updated_at FROM ml_connector_tenants "
                "WHERE id = %s",
                (tenant,),
            )
            row = await cur.fetchone()
        return None if row is None else TenantRow(*row)

    async def tenants(self) -> Sequence[TenantRow]:
        async with await self._connect() as conn:
            cur = await conn.execute(
                "SELECT id, config_toml, added_at, updated_at FROM ml_connector_tenants ORDER BY id"
            )
            return [TenantRow(*row) for row in await cur.fetchall()]

    @asynccontextmanager
    async def claim_due(self) -> AsyncIterator[list[DueJob]]:
        """The schedule rows due now, each moved to its next due time; the move commits
        when the block ends without an error (defer the jobs inside the block)."""
        async with await self._connect() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT tenant, flow, kind, schedule, now() FROM ml_connector_schedules "
                "WHERE next_due <= now() ORDER BY next_due FOR UPDATE SKIP LOCKED"
            )
            due: list[DueJob] = []
            for tenant, flow, kind, schedule, now in await cur.fetchall():
                # From now, not from the missed due time: a node down for an hour runs
                # one catch-up cycle, not four.
                following = next_run(parse_schedule(schedule), now.astimezone())
                await conn.execute(
                    "UPDATE ml_connector_schedules SET next_due = %s "
                    "WHERE tenant = %s AND flow = %s AND kind = %s",
                    (following, tenant, flow, kind),
                )
                due.append(DueJob(tenant, flow, kind))
            yield due

    async def overview(self, flows: Sequence[tuple[str, str]]) -> list[FlowOverview]:
        """Each ``(tenant, flow)``'s schedule, last run, open errors and job (see
        :mod:`connector.scale.overview`)."""
        from connector.scale.overview import overview

        async with await self._connect() as conn:
            return await overview(conn, flows)

    async def heartbeat_ages(self, worker_ids: Sequence[int]) -> dict[int, float]:
        """Seconds since each of these Procrastinate workers' last heartbeat (a worker
        missing from the answer has no row: it stopped, or another node pruned it)."""
        async with await self._connect() as conn:
            cur = await conn.execute(
                "SELECT id, extract(epoch FROM now() - last_heartbeat)::float8 "
                "FROM procrastinate_workers WHERE id = ANY(%s)",
                (list(worker_ids),),
            )
            return {int(i): float(age) for i, age in await cur.fetchall()}

    async def wait_before_first_request(self, tenant: str) -> float:
        """Seconds this tenant's next job must still wait after the previous job's end."""
        async with await self._connect() as conn:
            cur = await conn.execute(
                "SELECT greatest(0, gap_s - extract(epoch FROM now() - ended_at))::float8 "
                "FROM ml_connector_handoffs WHERE tenant = %s",
                (tenant,),
            )
            row = await cur.fetchone()
        return 0.0 if row is None else float(row[0])

    async def record_handoff(self, tenant: str, gap_s: float) -> None:
        async with await self._connect() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO ml_connector_handoffs (tenant, ended_at, gap_s) "
                "SELECT id, now(), %s FROM ml_connector_tenants WHERE id = %s "
                "ON CONFLICT (tenant) DO UPDATE SET ended_at = now(), gap_s = excluded.gap_s",
                (gap_s, tenant),
            )
