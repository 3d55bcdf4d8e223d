"""Cluster mode: many tenants on many nodes sharing one PostgreSQL (``run --workers N``).

The single-VM service (:mod:`connector.service`) stays the default. Here every node runs
every tenant, and the work is handed out by Procrastinate, an existing PostgreSQL job
queue, rather than a scheduler of our own:

``settings``       what a node is told: the cluster URL, its state dir, heartbeat timings
``directory``      tenants (their TOML), schedules and hand-overs: rows in PostgreSQL
``tenant_config``  a tenant's TOML completed by the node (store, vault, service)
``state``          where a tenant's state lives: the one seam to the store
``work``           one job's work: a (tenant, flow) cycle or inbox drain, start to finish
``jobs``           the Procrastinate tasks, tenant locks, the tick, dead nodes' jobs requeued
``webhooks``       a node's receiver for tenants' webhooks, queueing drains
``status``         what a node knows of itself: its workers, running jobs, per-tenant counters
``admin``          a node's ``/healthz`` and ``/metrics``
``overview``       each tenant's flows for ``tenants list``: next due, last run, open errors
``node``           ``ml-connector run --workers N``

Delivery contract: a job may run more than once and may stop anywhere (a node killed
mid-write). The tenant lock keeps one node at a time on a tenant; the exactly-once
protocol (ledger + live ``find`` in the target) makes every repeat harmless.
"""
