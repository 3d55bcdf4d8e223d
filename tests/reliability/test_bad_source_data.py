"""Bad source data: whatever ServiceTitan hands over, each bad document becomes a dead letter
or a review item with a reason, the run goes on and nothing crashes.

Hypothesis draws the damage: a field missing, a value of the wrong JSON type, a negative or
absurd amount, an impossible date, a code nobody mapped, a huge string, odd unicode. Each
example generates fresh documents in the ServiceTitan simulator (an invoice and a received
purchase order's AP bill to damage, one invoice left intact), damages them in the
simulator's own store, so they reach the connector through the real API, and runs a sync
cycle. Damage that leaves a document meaningful (a very long description, say) may let it
post; damage to what M3 needs (amounts, dates, supplier, cost center, lines) must not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from connector import demo
from connector.app import App
from connector.sandbox.servicetitan import ServiceTitanSimulator
from connector.store import RecordKey, State
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import (
    DOCUMENT_STREAMS,
    FLOW,
    Figures,
    batches_by_cori,
    contractor,
    infor,
    servicetitan,
    start_tenant,
)

DELETE = object()
"""Marks a field removed from the record."""


@dataclass(frozen=True)
class Damage:
    """One change to one field of a freshly generated document."""

    kind: str
    #: "invoice" or "bill"
    document: str
    #: Dotted path into the record; ``items.0.total`` is the first line's total.
    path: str
    value: Any
    #: Whether the document can no longer be posted correctly, so it must be refused.
    fatal: bool

    def __repr__(self) -> str:
        value = "<missing>" if self.value is DELETE else repr(self.value)
        shown = value if len(value) <= 60 else f"{value[:40]}… ({len(value)} chars)"
        return f"{self.kind} {self.document}.{self.path} = {shown}"


# Fields M3 cannot do without, by document kind.
AMOUNTS = {"invoice": ["total", "items.0.total"], "bill": ["billAmount", "items.0.cost"]}
QUANTITIES = {"invoice": ["items.0.quantity"], "bill": ["items.0.quantity"]}
DATES = {"invoice": ["invoiceDate"], "bill": ["billDate"]}
REQUIRED = {
    "invoice": ["total", "invoiceDate", "businessUnit", "items"],
    "bill": ["billAmount", "billDate", "businessUnit", "vendor", "items"],
}
TEXTS = {
    "invoice": ["referenceNumber", "summary", "items.0.skuName", "items.0.description"],
    "bill": ["referenceNumber", "summary", "items.0.name", "items.0.description"],
}
OBJECTS = {"businessUnit", "vendor"}


def _wrong_type(path: str) -> st.SearchStrategy[Any]:
    """A JSON value of a type the field never has."""
    if path == "items":
        return st.one_of(
            st.text(max_size=5), st.integers(), st.dictionaries(st.text(), st.integers())
        )
    if path in OBJECTS:
        return st.one_of(st.text(max_size=5), st.integers(), st.lists(st.integers(), max_size=2))
    return st.one_of(
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )


def _damage(document: str) -> st.SearchStrategy[Damage]:
    def fatal(
        kind: str, fields: list[str], values: st.SearchStrategy[Any]
    ) -> st.SearchStrategy[Damage]:
        return st.sampled_from(fields).flatmap(
            lambda path: values.map(lambda v: Damage(kind, document, path, v, fatal=True))
        )

    negative = st.decimals(min_value=-(10**6), max_value="-0.01", places=2).map(str)
    absurd = st.one_of(
        st.sampled_from(["NaN", "Infinity", "-Infinity", "1E+400", "12,50", "  "]),
        st.decimals(min_value=10**8, max_value=10**15, places=2).map(str),
    )
    bad_dates = st.sampled_from(["31/12/2026", "2026-13-45", "2026-02-30", "", "yesterday"])
    unmapped = st.integers(min_value=8_000_000, max_value=9_000_000).map(
        lambda n: {"id": n, "name": "Nowhere"}
    )
    huge = st.integers(min_value=5_000, max_value=120_000).map(lambda n: "Ж" * n)
    odd = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40)
    return st.one_of(
        fatal("missing", REQUIRED[document], st.just(DELETE)),
        st.sampled_from(REQUIRED[document] + AMOUNTS[document]).flatmap(
            lambda path: _wrong_type(path).map(
                lambda v: Damage("wrong_type", document, path, v, fatal=True)
            )
        ),
        fatal("negative", AMOUNTS[document] + QUANTITIES[document], negative),
        fatal("absurd", AMOUNTS[document] + QUANTITIES[document], absurd),
        # An empty amount is a missing one; an empty quantity means "none given" (zero).
        fatal("absurd", AMOUNTS[document], st.just("")),
        fatal("bad_date", DATES[document], bad_dates),
        fatal("unmapped", ["businessUnit"], unmapped),
        fatal("huge_string", AMOUNTS[document], huge),
        st.sampled_from(TEXTS[document]).flatmap(
            lambda path: st.one_of(huge, odd).map(
                lambda v: Damage("odd_text", document, path, v, fatal=False)
            )
        ),
    )


def _apply(record: dict[str, Any], damage: Damage) -> None:
    *parents, last = damage.path.split(".")
    target: Any = record
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target[step]
    if damage.value is DELETE:
        target.pop(last, None)
    else:
        target[last] = damage.value


async def _generate(sim: ServiceTitanSimulator, entity: str, table: str) -> dict[str, Any]:
    before = set(sim.store.table(table).rows)
    await demo.admin(sim, "POST", "generate", {"entity": entity, "count": 1})
    [new_id] = set(sim.store.table(table).rows) - before
    record: dict[str, Any] = sim.store.table(table).rows[new_id]
    return record


@dataclass
class Tenant:
    """The shared tenant and what the examples did to it, for the figures line."""

    env: demo.DemoEnvironment
    examples: int = 0
    lost: int = 0
    duplicated: int = 0
    refused: int = 0
    posted_damaged: int = 0


@pytest.fixture
async def tenant(tmp_path: Path, show_figures: ShowFigures) -> AsyncIterator[Tenant]:
    """A small tenant whose reference data is already in M3 (examples only add documents);
    prints the figures of all examples at the end."""
    env = await start_tenant(tmp_path / "state", contractor(2, 1, lean=True))
    shared = Tenant(env)
    try:
        app = await App.open(env.config)
        try:
            assert (await (await app.runner(FLOW)).cycle()).ok
        finally:
            await app.aclose()
        yield shared
    finally:
        await env.stop()
    show_figures(
        Figures(
            "bad source data",
            shared.examples,
            3 * shared.examples,
            shared.lost,
            shared.duplicated,
            shared.refused,
            f"{2 * shared.examples} damaged, {shared.posted_damaged} of them harmless and posted",
        )
    )


def _examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        # One tenant serves every example on purpose: each example adds its own documents.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@_examples(20)
@given(invoice_damage=_damage("invoice"), bill_damage=_damage("bill"))
async def test_damaged_documents_are_parked_with_a_reason_and_the_run_goes_on(
    tenant: Tenant, invoice_damage: Damage, bill_damage: Damage
) -> None:
    """A damaged invoice and AP bill end as dead letters or review items naming the record
    (or, when the damage left them meaningful, post once); the intact invoice beside them
    posts once and the cycle completes."""
    await _check(tenant, invoice_damage, bill_damage)


@pytest.mark.soak
@pytest.mark.timeout(1800)
@_examples(300)
@given(invoice_damage=_damage("invoice"), bill_damage=_damage("bill"))
async def test_damaged_documents_are_parked_with_a_reason_and_the_run_goes_on_soak(
    tenant: Tenant, invoice_damage: Damage, bill_damage: Damage
) -> None:
    """The same property over 300 damaged pairs."""
    await _check(tenant, invoice_damage, bill_damage)


async def _check(tenant: Tenant, invoice_damage: Damage, bill_damage: Damage) -> None:
    note(f"invoice: {invoice_damage}; bill: {bill_damage}")
    env = tenant.env
    st_sim = servicetitan(env)
    intact = await _generate(st_sim, "invoices", "invoices")
    damaged = {
        "invoice": await _generate(st_sim, "invoices", "invoices"),
        "bill": await _generate(st_sim, "received_purchase_orders", "ap_bills"),
    }
    for damage in (invoice_damage, bill_damage):
        _apply(damaged[damage.document], damage)
    app = await App.open(env.config)
    try:
        report = await (await app.runner(FLOW)).cycle()
        outcomes = {
            kind: await _outcome(app, kind, str(record["id"]))
            for kind, record in (("intact", intact), *damaged.items())
        }
    finally:
        await app.aclose()
    batches = batches_by_cori(infor(env))
    mine = [batches.get(f"st:invoice:{intact['id']}", [])] + [
        batches.get(f"st:{kind}:{record['id']}", []) for kind, record in damaged.items()
    ]
    tenant.examples += 1
    tenant.lost += not mine[0]
    tenant.duplicated += sum(len(found) > 1 for found in mine)
    tenant.refused += sum(state in ("failed", "review") for state, _ in outcomes.values())
    tenant.posted_damaged += sum(outcomes[kind][0] == "done" for kind in damaged)
    assert report.ok, f"the run stopped: {report.error}"
    assert outcomes["intact"] == ("done", None)
    assert len(mine[0]) == 1
    for damage in (invoice_damage, bill_damage):
        source_id = str(damaged[damage.document]["id"])
        state, reason = outcomes[damage.document]
        posted = batches.get(f"st:{damage.document}:{source_id}", [])
        if state == "done":
            assert not damage.fatal, f"{damage} was posted to M3"
            assert len(posted) == 1
        else:
            assert state in ("failed", "review"), (damage, state)
            assert reason and source_id in reason, (damage, reason)
            assert not [b for b in posted if b.status == "validated"]


_STREAM_OF = {"intact": DOCUMENT_STREAMS["invoice"], **DOCUMENT_STREAMS}


async def _outcome(app: App, kind: str, source_id: str) -> tuple[str, str | None]:
    """The record's ledger state and, when parked, the reason its dead letter or review
    item gives."""
    stream = _STREAM_OF[kind]
    entry = await app.store.ledger_entry(RecordKey(FLOW, stream, source_id))
    if entry is None:
        return "unseen", None
    if entry.state == State.FAILED:
        [letter] = await app.store.dead_letters(flow=FLOW, stream=stream, source_ids=[source_id])
        return "failed", letter.reason
    if entry.state == State.REVIEW:
        [item] = await app.store.review_items(flow=FLOW, stream=stream, source_ids=[source_id])
        return "review", item.reason
    return entry.state.value, None
