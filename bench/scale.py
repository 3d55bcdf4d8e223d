"""Cluster throughput: ``python -m bench.scale [--tenants 20] [--documents 100] [--nodes 1,2,3]``.

For each node count: a throwaway PostgreSQL (``initdb`` in a temp dir, as the tests do), a
fresh state directory, ``--nodes`` processes of ``ml-connector run --workers W`` started and
ready, then ``--tenants`` tenants added at once, each with ``--documents`` invoices on the
toyledger simulator (tests/scale/toyledger: one request per document written, a tenant
limit of ``--limit`` requests per rolling second, enforced). The clock runs from the
moment the tenants are added until every invoice is a bill; documents/minute is all
documents over that time. The simulator runs in this process and takes its share of the
machine's CPU (on its own thread), as a vendor's API would not.

Prints a table and writes ``bench/results/scale.json`` (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import anyio
import psycopg

from bench.store_backends import DURABLE
from connector.config import ServiceConfig, VaultConfig
from connector.scale.settings import NodeSettings
from connector.vault import encode_key, generate_key
from tests.pg import PgCluster, start_cluster, stop_cluster
from tests.scale import toyledger
from tests.scale.cluster import Nodes, add_tenants, wait_until
from tests.scale.toyledger.sim import SimThread, ToyLedgerSim

OUT = Path(__file__).parent / "results" / "scale.json"


async def measure(
    cluster: PgCluster, run: int, nodes_count: int, args: argparse.Namespace
) -> dict[str, object]:
    database = f"bench_{run}"
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    work = Path(tempfile.mkdtemp(prefix=f"ml-connector-scale-{nodes_count}-"))
    settings = NodeSettings(
        database_url=cluster.url(database),
        state_dir=work / "state",
        vault=VaultConfig(),
        service=ServiceConfig(log_level="warning"),
        heartbeat_s=2.0,
        stalled_after_s=10.0,
    )
    simulator = SimThread(ToyLedgerSim())
    nodes = Nodes(settings, work, workers=args.workers)
    tenants = {f"tenant_{n:03d}": args.documents for n in range(args.tenants)}
    total = args.tenants * args.documents
    with simulator as sim:
        try:
            elapsed = await _time_tenants(
                settings, sim, simulator.base_url, nodes, nodes_count, tenants, args.limit
            )
        finally:
            await nodes.stop_all()
            shutil.rmtree(work, ignore_errors=True)
    return {
        "nodes": nodes_count,
        "slots_per_node": args.workers,
        "tenants": args.tenants,
        "documents": total,
        "seconds": round(elapsed, 2),
        "documents_per_minute": round(total / elapsed * 60),
        "max_tenant_requests_per_s": max(sim.max_per_rolling_second(t) for t in tenants),
        "refused_429": sum(t.refused for t in sim.tenants.values()),
        "duplicates": sum(len(t.bills) - len({b["ref"] for b in t.bills})
                          for t in sim.tenants.values()),
    }


async def _time_tenants(
    settings: NodeSettings,
    sim: ToyLedgerSim,
    base_url: str,
    nodes: Nodes,
    nodes_count: int,
    tenants: dict[str, int],
    limit: int,
) -> float:
    """Seconds from adding the tenants (nodes already up) to their last invoice written."""
    for n in range(nodes_count):
        nodes.start(f"n{n + 1}")
    # Ready = schema made and workers polling; give every node its start-up first.
    await wait_until(lambda: _ready(settings), timeout=60, what="the job tables")
    await anyio.sleep(3)
    started = time.monotonic()
    await add_tenants(settings, sim, base_url, tenants, limit=limit, schedule="every 1h")
    await wait_until(
        lambda: sum(len(t.bills) for t in sim.tenants.values()) >= sum(tenants.values()),
        timeout=600,
        what="every invoice written",
    )
    return time.monotonic() - started


def _ready(settings: NodeSettings) -> bool:
    try:
        with psycopg.connect(settings.database_url) as conn:
            row = conn.execute("SELECT to_regclass('ml_connector_tenants') IS NOT NULL")
            found = row.fetchone()
    except psycopg.OperationalError:
        return False
    return bool(found and found[0])


async def main(args: argparse.Namespace) -> None:
    os.environ.setdefault("ML_CONNECTOR_VAULT_KEY", encode_key(generate_key()))
    toyledger.register()
    cluster = start_cluster(DURABLE)  # fsync on: documents/minute as production pays it
    results = []
    try:
        for run, nodes_count in enumerate(args.nodes):
            result = await measure(cluster, run, nodes_count, args)
            results.append(result)
            print(
                f"{result['nodes']} node(s) x {result['slots_per_node']} slots, "
                f"{result['tenants']} tenants: {result['documents']} documents in "
                f"{result['seconds']} s = {result['documents_per_minute']} documents/minute "
                f"(busiest tenant {result['max_tenant_requests_per_s']} req/s, "
                f"{result['refused_429']} refused, {result['duplicates']} duplicates)",
                flush=True,
            )
    finally:
        stop_cluster(cluster)
    report = {
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "tenant_limit_req_per_s": args.limit,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--documents", type=int, default=100, help="invoices per tenant")
    parser.add_argument("--limit", type=int, default=60, help="requests/s per tenant")
    parser.add_argument("--workers", type=int, default=2, help="slots per node (--workers)")
    parser.add_argument(
        "--nodes", type=lambda s: [int(n) for n in s.split(",")], default=[1, 2, 3]
    )
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
