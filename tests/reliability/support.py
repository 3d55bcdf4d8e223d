"""What the reliability scenarios share: stamped records, the target's view of them, the
invariants, and the one figures line each scenario prints.

A *stamped record* is a ServiceTitan AP bill or job invoice. Its stamp is the CORI the flow
writes on the M3 batch (``st:bill:<id>``, ``st:invoice:<id>``), so the target itself says
which source record every batch came from, as Kafka Connect's exactly-once tests number
their records. Against that stamp a record is *lost* when no validated batch carries it and
*duplicated* when more than one batch does, or when its batch's lines add up to more than
the document (a line posted twice).

The simulators run in the test's own event loop, so their state is read in-process here
(``sim.store``, ``sim.db``) rather than through ``/_sandbox/state``, which would serialise
thousands of batches after every round.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from connector import demo
from connector.sandbox.infor import InforSimulator
from connector.sandbox.infor.data import InvoiceBatch
from connector.sandbox.servicetitan import ServiceTitanSimulator
from connector.sandbox.servicetitan.wire import parse_ticks
from connector.store import is_postgres, open_store
from connector.store.pg import dollar_params

FLOW = "servicetitan-infor"
#: Stamp kind → the stream that carries such documents.
DOCUMENT_STREAMS = {"bill": "ap_bills_to_m3", "invoice": "invoices_to_m3"}
TERMINAL = frozenset({"done", "failed", "review"})
UNFINISHED = ("pending", "in_flight", "in_doubt")


def contractor(invoices: int, bills: int, *, lean: bool = False) -> dict[str, dict[str, int]]:
    """Seed counts for ``demo.start``: ``invoices`` job invoices, about ``bills`` AP bills (one
    per received purchase order; a partial receipt adds none) and little reference data, or
    very little with ``lean`` (where every request costs time, as under injected 429s)."""
    vendors, materials, suppliers = (4, 4, 3) if lean else (10, 8, 6)
    return {
        "servicetitan": {
            "vendors": vendors,
            "materials": materials,
            "equipment": materials // 2,
            "services": 4,
            "customers": 20,
            "jobs": invoices,
            "invoices": invoices,
            "payments": 0,
            "purchase_orders": bills,
            "received_purchase_orders": bills,
            "adjustments": 0,
        },
        "infor": {"suppliers": suppliers, "items": materials, "purchase_orders": 0},
    }


async def start_tenant(
    state_dir: Path, counts: dict[str, dict[str, int]], store_url: str | None = None
) -> demo.DemoEnvironment:
    """The demo environment for this flow only: its two simulators, vault, config, mappings;
    its state in PostgreSQL at ``store_url`` when given (the vault stays in the file)."""
    env = await demo.start(state_dir, counts=counts, flows=[FLOW])
    if store_url is not None:
        use_store_url(env.config_path, store_url)
        # As the demo's vault creates the SQLite schema: the tests read the state at once.
        await (await open_store(store_url)).close()
    return env


def use_store_url(config_path: Path, url: str) -> None:
    """Point the demo config's state at PostgreSQL (``store.url``)."""
    text = config_path.read_text()
    assert "[store]\n" in text, "the demo config has no [store] table"
    config_path.write_text(text.replace("[store]\n", f"[store]\nurl = {url!r}\n", 1))


def servicetitan(env: demo.DemoEnvironment) -> ServiceTitanSimulator:
    sim = env.simulators["servicetitan"]
    assert isinstance(sim, ServiceTitanSimulator)
    return sim


def infor(env: demo.DemoEnvironment) -> InforSimulator:
    sim = env.simulators["infor"]
    assert isinstance(sim, InforSimulator)
    return sim


@dataclass(frozen=True, slots=True)
class Stamped:
    """One source document and what the target must end up holding for it."""

    cori: str
    stream: str
    source_id: str
    modified_on: str
    amount: Decimal


def stamped_records(sim: ServiceTitanSimulator) -> dict[str, Stamped]:
    """Every AP bill and job invoice the ServiceTitan tenant holds now, by stamp."""
    found: dict[str, Stamped] = {}
    sources = (("bill", "ap_bills", "billAmount"), ("invoice", "invoices", "total"))
    for kind, table, total in sources:
        for row in sim.store.table(table).all():
            cori = f"st:{kind}:{row['id']}"
            found[cori] = Stamped(
                cori,
                DOCUMENT_STREAMS[kind],
                str(row["id"]),
                str(row["modifiedOn"]),
                Decimal(str(row[total])),
            )
    return found


def batches_by_cori(sim: InforSimulator) -> dict[str, list[InvoiceBatch]]:
    """Every supplier-invoice batch M3 holds (any status), grouped by its stamp."""
    found: dict[str, list[InvoiceBatch]] = {}
    for batch in sim.db.batches.values():
        cori = batch.head.get("CORI", "")
        if batch.kind == "invoice" and cori:
            found.setdefault(cori, []).append(batch)
    return found


@dataclass
class Tally:
    """How the target's batches compare with the stamped records (CORIs per verdict)."""

    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    #: Landed once but with an amount other than the source's.
    garbled: list[str] = field(default_factory=list)


def tally(
    records: Iterable[Stamped], batches: Mapping[str, list[InvoiceBatch]], *, landed: bool = True
) -> Tally:
    """Compare the target with ``records``. With ``landed=False`` (a crash just happened)
    a record may legitimately not be there yet: only duplicates and garbling count."""
    result = Tally()
    for record in records:
        found = batches.get(record.cori, [])
        validated = [b for b in found if b.status == "validated"]
        if len(found) > 1 or any(_lines_total(b) > Decimal(b.head["CUAM"]) for b in found):
            result.duplicated.append(record.cori)
        elif landed and not validated:
            result.lost.append(record.cori)
        elif validated and Decimal(validated[0].head["CUAM"]) != record.amount:
            result.garbled.append(record.cori)
    return result


def _lines_total(batch: InvoiceBatch) -> Decimal:
    return sum((Decimal(line["NLAM"]) for line in batch.lines), Decimal(0))


def stray_batches(records: Mapping[str, Stamped], batches: Mapping[str, list[InvoiceBatch]]) -> int:
    """Batches whose stamp names no source record (a write the connector made up)."""
    return sum(len(found) for cori, found in batches.items() if cori not in records)


# -- the state database, read from the test process ----------------------------------------
#: A state as ``StoreConfig.location`` names it: a SQLite file or a PostgreSQL URL.
StateLocation = Path | str


@dataclass(frozen=True, slots=True)
class LedgerRow:
    state: str
    target_id: str | None


def read_ledger(db: StateLocation) -> dict[tuple[str, str], LedgerRow]:
    """``(stream, source_id) → row`` for the flow, read-only (the writer may be dead)."""
    rows = query(
        db, "SELECT stream, source_id, state, target_id FROM ledger WHERE flow = ?", (FLOW,)
    )
    return {(r[0], r[1]): LedgerRow(r[2], r[3]) for r in rows}


def read_cursors(db: StateLocation) -> dict[str, str]:
    rows = query(db, "SELECT stream, value FROM cursors WHERE flow = ?", (FLOW,))
    return {r[0]: r[1] for r in rows}


def read_parked(db: StateLocation) -> int:
    """Stamped records the flow refused: open dead letters and review items of documents."""
    streams = tuple(DOCUMENT_STREAMS.values())
    counts = [
        query(
            db,
            f"SELECT COUNT(*) FROM {table} WHERE status = 'open' AND stream IN (?, ?)",  # noqa: S608
            streams,
        )[0][0]
        for table in ("dead_letters", "review")
    ]
    return int(sum(counts))


def query(db: StateLocation, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Rows of one read of the state, on either backend, by a connection of its own."""
    if is_postgres(db):
        with psycopg.connect(str(db), autocommit=True, cursor_factory=psycopg.RawCursor) as pg:
            return pg.execute(dollar_params(sql), params or None).fetchall()
    with _read_only(Path(db)) as conn:
        return conn.execute(sql, params).fetchall()


class _read_only:
    """A read-only connection closed on exit (sqlite3's own context manager only commits)."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


# -- invariants ---------------------------------------------------------------------------
def overtaken(
    records: Iterable[Stamped],
    cursors: Mapping[str, str],
    ledger: Mapping[tuple[str, str], LedgerRow],
) -> list[str]:
    """Records their stream's cursor has passed although their ledger state is not terminal:
    an incremental read would never see them again (protocol step 4)."""
    passed: list[str] = []
    for record in records:
        cursor = cursors.get(record.stream)
        if cursor is None:
            continue
        stamp, mark = parse_ticks(record.modified_on), parse_ticks(cursor)
        assert stamp is not None and mark is not None, (record.modified_on, cursor)
        row = ledger.get((record.stream, record.source_id))
        if stamp <= mark and (row is None or row.state not in TERMINAL):
            passed.append(record.cori)
    return passed


def done_but_absent(
    records: Mapping[str, Stamped],
    ledger: Mapping[tuple[str, str], LedgerRow],
    batches: Mapping[str, list[InvoiceBatch]],
) -> list[str]:
    """Records the ledger calls done whose target id is not a validated batch of theirs."""
    absent: list[str] = []
    for record in records.values():
        row = ledger.get((record.stream, record.source_id))
        if row is None or row.state != "done":
            continue
        if not any(
            str(b.inbn) == row.target_id and b.status == "validated"
            for b in batches.get(record.cori, [])
        ):
            absent.append(record.cori)
    return absent


# -- configuration and faults --------------------------------------------------------------
def tune_systems(config_path: Path, settings: Mapping[str, Mapping[str, float]]) -> None:
    """Add settings (e.g. ``timeout_s``) to ``[systems.<name>]`` of the demo's config."""
    text = config_path.read_text()
    for system, values in settings.items():
        header = f"[systems.{system}]\n"
        assert header in text, f"the demo config has no {header!r}"
        lines = "".join(f"{key} = {value!r}\n" for key, value in values.items())
        text = text.replace(header, header + lines, 1)
    config_path.write_text(text)


def revoke_every_token(st: ServiceTitanSimulator, m3: InforSimulator) -> int:
    """Revoke every token both identity servers issued, as an administrator might mid-run;
    returns how many there were."""
    # Neither simulator's admin API offers "revoke everything"; the token stores are what a
    # revocation changes, so the test changes them directly.
    issued = list(m3.tokens._tokens)
    for token in issued:
        m3.tokens.revoke(token)
    count = len(st._tokens) + len(issued)
    st._tokens.clear()
    return count


# -- the figures line ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Figures:
    """One scenario's result in numbers, printed as one line so CI logs show it."""

    scenario: str
    rounds: int
    records: int
    lost: int
    duplicated: int
    refused: int
    note: str = ""

    def line(self) -> str:
        text = (
            f"[reliability] {self.scenario}: rounds={self.rounds} records={self.records} "
            f"lost={self.lost} duplicated={self.duplicated} refused={self.refused}"
        )
        return f"{text} ({self.note})" if self.note else text
