"""Reconciliation by listing: one read of the period, look-ups only for what it lacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import msgspec

from connector.runtime.flow import (
    CursorMark,
    Envelope,
    Flow,
    Found,
    MapContext,
    Reconciliation,
    Stream,
    TargetDocument,
    Written,
)
from connector.runtime.reconcile import DUPLICATE, EXTRA, reconcile

JANUARY = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))


class Doc(msgspec.Struct, frozen=True):
    id: str
    date: str
    amount: Decimal


class NoTarget:
    async def find(self, command: Doc) -> Found | None:
        raise AssertionError("reconciliation never asks find")

    async def write(self, command: Doc, existing: Found | None, ctx: Any) -> Written:
        raise AssertionError("reconciliation never writes")


def flow(source: list[Doc], listed: list[TargetDocument],
         by_key: dict[str, TargetDocument], looked_up: list[str]) -> Flow:
    async def extract(cursor: str | None, full: bool) -> AsyncIterator[Envelope[Doc] | CursorMark]:
        for doc in source:
            yield Envelope(doc.id, doc)

    async def read_back(command: Doc) -> TargetDocument | None:
        looked_up.append(command.id)
        return by_key.get(command.id)

    async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
        assert (start, end) == JANUARY
        return listed

    async def fetch(source_id: str) -> Doc | None:
        return None

    def mapped(doc: Doc, ctx: MapContext) -> Doc:
        return doc

    rules = Reconciliation[Doc](date=lambda d: d.date, amount=lambda d: d.amount,
                                number=lambda d: f"N-{d.id}", read_back=read_back,
                                listing=listing, moves=lambda d: d.amount != 0)
    stream = Stream[Doc, Doc](
        name="docs", extract=extract, fetch=fetch, decode=msgspec.json.Decoder(Doc).decode,
        encode=msgspec.json.encode, map=mapped, target=NoTarget(), reconcile=rules)
    return Flow("toy", (stream,))


def held(source_id: str, amount: str, number: str = "") -> TargetDocument:
    return TargetDocument(number or f"T-{source_id}", Decimal(amount), source_id, "2026-01-10")


async def test_listing_finds_each_kind_of_difference_and_looks_up_only_the_unlisted() -> None:
    """One listing of the period settles every document it holds; only a document it lacks
    is looked up by key; an amount that differs, a missing document, a second copy and a
    document no source accounts for are each listed once; a copy of a document the source
    dates in another month, and a document that posts nothing, are not."""
    source = [Doc("1", "2026-01-05", Decimal("10.00")), Doc("2", "2026-01-06", Decimal("20")),
              Doc("3", "2026-01-07", Decimal("30")), Doc("4", "2026-02-01", Decimal("40")),
              Doc("5", "2026-01-08", Decimal(0))]
    listed = [held("1", "10"), held("2", "25"), held("2", "20", "T-2b"), held("4", "40"),
              held("9", "90")]
    looked_up: list[str] = []
    report = await reconcile(flow(source, listed, {}, looked_up), {}, *JANUARY)

    assert looked_up == ["3"]
    [totals] = report.streams
    assert (totals.source_count, totals.source_amount) == (3, Decimal(60))
    assert (totals.target_count, totals.target_amount) == (4, Decimal(145))
    found = {(d.source_id, d.target_id, d.issue) for d in report.differences}
    assert found == {
        ("2", "T-2", "amount differs by -5"),
        ("3", None, "missing in target"),
        ("2", "T-2b", DUPLICATE),
        ("9", "T-9", EXTRA),
    }
    extra = next(d for d in report.differences if d.issue == EXTRA)
    assert extra.source_amount is None and report.as_json()["agrees"] is False


async def test_a_document_the_listing_lacks_but_the_key_finds_agrees() -> None:
    """A document the target dates outside the period is still found by its key and
    agrees; the books agree without a difference."""
    source = [Doc("1", "2026-01-05", Decimal(10))]
    looked_up: list[str] = []
    report = await reconcile(flow(source, [], {"1": held("1", "10")}, looked_up), {}, *JANUARY)
    assert looked_up == ["1"] and report.agrees
    assert report.streams[0].target_count == 1
