"""How ``ifs-servicetitan`` vouchers are reconciled (``ml-connector reconcile``).

Each ServiceTitan invoice (and accrued job) is an IFS external load named after it
(``ST-INV-<id>``, ``ST-JOB-<id>``): the load id is the document's number in IFS and names
the ServiceTitan record. A load is read back by its id, or a period's loads at once (rows
whose load id starts with the stream's prefix, by ``TransactionDate``), so a load no
ServiceTitan document accounts for is seen too. The amount compared is the voucher's debit
side (the receivable or unbilled debit: the document's total), summed over its rows on both
sides; a document that posts nothing (an inactive or zero invoice) is not counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from connector.flows.common import CENT
from connector.flows.ifs_servicetitan.mapping import VoucherCommand
from connector.runtime.flow import Reconciliation, TargetDocument
from connector.systems.ifs import IfsClient
from connector.systems.ifs import models as ifs


def _debits(command: VoucherCommand) -> Decimal:
    return sum((row.debit or Decimal(0) for row in command.rows), Decimal(0))


def _loads(rows: Iterable[ifs.ExternalVoucherRow], prefix: str) -> list[TargetDocument]:
    """One document per load: its debit total, its (first row's) date."""
    totals: dict[str, Decimal] = {}
    dates: dict[str, str] = {}
    for row in rows:
        totals[row.load_id] = totals.get(row.load_id, Decimal(0)) + Decimal(
            str(row.debet_amount or 0)
        )
        if row.transaction_date and row.load_id not in dates:
            dates[row.load_id] = row.transaction_date.isoformat()
    return [
        TargetDocument(
            load, total.quantize(CENT), load.removeprefix(prefix), dates.get(load, ""), load
        )
        for load, total in totals.items()
    ]


def vouchers(client: IfsClient, prefix: str) -> Reconciliation[VoucherCommand]:
    """Loads ``<prefix><id>`` (``ST-INV-``, ``ST-JOB-``) by load id, amounts their debits."""

    async def read_back(command: VoucherCommand) -> TargetDocument | None:
        loads = _loads(await client.find_voucher_rows(command.load_id), prefix)
        return loads[0] if loads else None

    async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
        return _loads(await client.voucher_rows_dated(prefix, start, end), prefix)

    return Reconciliation(
        date=lambda c: c.transaction_date.isoformat() if c.transaction_date else "",
        amount=_debits,
        number=lambda c: c.load_id,
        read_back=read_back,
        listing=listing,
        moves=lambda c: bool(c.rows),
    )
