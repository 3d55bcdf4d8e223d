"""The state store on SQLite and on PostgreSQL, side by side.

    python -m bench.store_backends                 # a throwaway PostgreSQL cluster
    python -m bench.store_backends --url postgresql://user@host/db --records 20000

Both backends are durable as configured for production: SQLite in WAL with
``synchronous=FULL``; PostgreSQL with ``fsync`` and ``synchronous_commit`` on (the
throwaway cluster is started so; with ``--url``, the server's own settings). Figures:

* ``commit_units_per_s``: ``--writers`` tasks each committing "record done" units (ledger
  upsert + audit event + cursor) as fast as they can; group commit puts many in each
  transaction (``units_per_commit``).
* ``claims_per_s``: the same tasks claiming existing ledger rows by compare-and-set (the
  loader's claim: state and attempts as read → in_flight, plus an audit event).
* ``serial_commit_ms``: one writer alone, one unit per transaction (no batching to hide
  the cost of a commit): the median latency.
* ``pipeline_records_per_s``: the runtime's synthetic stream (bench.synthetic) through the
  real FlowRunner, 32 loader workers: what the store costs a whole record.

Prints one JSON object per backend.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from bench import synthetic
from connector.runtime.runner import FlowRunner
from connector.store import RecordKey, State, Store, Unit, open_store

DURABLE = "-c fsync=on -c synchronous_commit=on -c max_connections=100"


async def commit_rate(store: Store, units: int, writers: int) -> dict[str, float]:
    before_commits, before_units = store.db.commits_total, store.db.units_total
    per_writer = units // writers

    async def writer(w: int) -> None:
        for i in range(per_writer):
            key = RecordKey("bench", "docs", f"{w}-{i}")
            await store.commit(
                Unit()
                .ledger(key, State.DONE, content_hash="h", target_id=f"T{w}-{i}")
                .audit(key, "written", {"target_id": f"T{w}-{i}"})
                .cursor("bench", "docs", f"{w}-{i}")
            )

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    seconds = time.perf_counter() - started
    done = store.db.units_total - before_units
    return {
        "commit_units_per_s": round(done / seconds),
        "units_per_commit": round(done / max(store.db.commits_total - before_commits, 1), 1),
    }


async def claim_rate(store: Store, units: int, writers: int) -> dict[str, float]:
    per_writer = units // writers
    seed = Unit()
    for w in range(writers):
        for i in range(per_writer):
            seed.ledger(RecordKey("bench", "claims", f"{w}-{i}"), State.PENDING)
    await store.commit(seed)

    async def claimer(w: int) -> None:
        for i in range(per_writer):
            key = RecordKey("bench", "claims", f"{w}-{i}")
            await store.commit(
                Unit()
                .claim(key, (State.PENDING, 0), content_hash="h", run_id=None,
                       owner=store.writer_id)
                .audit(key, "read")
            )

    started = time.perf_counter()
    await asyncio.gather(*(claimer(w) for w in range(writers)))
    return {"claims_per_s": round(per_writer * writers / (time.perf_counter() - started))}


async def serial_latency(store: Store, count: int) -> dict[str, float]:
    samples = []
    for i in range(count):
        key = RecordKey("bench", "serial", str(i))
        started = time.perf_counter()
        await store.commit(Unit().ledger(key, State.DONE).audit(key, "written"))
        samples.append(time.perf_counter() - started)
    return {"serial_commit_ms": round(statistics.median(samples) * 1000, 3)}


async def pipeline_rate(store: Store, records: int) -> dict[str, float]:
    for kind, values in synthetic.mappings().items():
        await store.set_mappings(kind, values)
    runner = FlowRunner(synthetic.flow(records, workers=32), store)
    started = time.perf_counter()
    report = await runner.cycle(trigger="bench")
    done = report.total("created") + report.total("unchanged")
    return {"pipeline_records_per_s": round(done / (time.perf_counter() - started))}


async def measure(location: str | Path, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    store = await open_store(location)
    try:
        result.update(await commit_rate(store, args.records, args.writers))
        result.update(await claim_rate(store, args.records, args.writers))
        result.update(await serial_latency(store, args.serial))
        result.update(await pipeline_rate(store, args.records))
    finally:
        await store.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway one)")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--serial", type=int, default=300, help="units for the latency figure")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="store-bench-") as work:
        sqlite = asyncio.run(measure(Path(work) / "bench.db", args))
        print(msgspec.json.encode({"backend": "sqlite", **sqlite}).decode(), flush=True)
        cluster = None
        url = args.url
        if url is None:
            from tests.pg import start_cluster  # the tests' throwaway cluster, made durable

            cluster = start_cluster(DURABLE)
            url = cluster.url(cluster.create_database())
        try:
            pg = asyncio.run(measure(url, args))
        finally:
            if cluster is not None:
                from tests.pg import stop_cluster

                stop_cluster(cluster)
        print(msgspec.json.encode({"backend": "postgresql", **pg}).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
