"""INVTMA, inventory adjustments (``Transaction/Post``, root ``PostInvAdjustments``).

Per item: ``Warehouse``, ``StockCode`` and a non-zero signed ``Quantity`` are mandatory; the
stock code must be stocked in that warehouse; ``LedgerCode``, when given, must be on file; the
quantity on hand may not go below zero unless ``allow_negative_stock``. A posted item answers
``Journal`` and ``GlJournal`` and leaves an ``InvMovements`` row carrying its ``Reference``
(SYSPRO does not check references for uniqueness: the client looks them up).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from connector.sandbox.syspro.business import (
    INVALID_VALUE,
    NOT_ON_FILE,
    Checked,
    Context,
    decimal_field,
    mandatory,
)
from connector.sandbox.syspro.xmlio import text

ROOT = "PostInvAdjustments"


def check_adjustment(ctx: Context, item: ET.Element) -> Checked:
    warehouse = text(item, "Warehouse")
    stock_code = text(item, "StockCode")
    reference = text(item, "Reference")
    result = Checked(
        echo=[("StockCode", stock_code), ("Warehouse", warehouse), ("Reference", reference)]
    )
    company = ctx.company
    mandatory(result, item, "Warehouse")
    mandatory(result, item, "StockCode")
    quantity = decimal_field(result, item, "Quantity")
    if quantity == 0 and text(item, "Quantity") in ("", "0"):
        result.error("Quantity", text(item, "Quantity"), INVALID_VALUE, "Quantity must not be zero")
    stocked = company.find("InvWarehouse", StockCode=stock_code, Warehouse=warehouse)
    if stock_code and company.find("InvMaster", StockCode=stock_code) is None:
        result.error("StockCode", stock_code, NOT_ON_FILE, f"Stock code '{stock_code}' not found")
    elif stock_code and warehouse and stocked is None:
        result.error(
            "Warehouse",
            warehouse,
            NOT_ON_FILE,
            f"Stock code '{stock_code}' is not stocked in warehouse '{warehouse}'",
        )
    elif stocked is not None and not ctx.knobs.allow_negative_stock:
        if stocked["QtyOnHand"] + quantity < 0:
            result.error(
                "Quantity",
                str(quantity),
                INVALID_VALUE,
                f"Insufficient quantity on hand ({stocked['QtyOnHand']}) of "
                f"'{stock_code}' in warehouse '{warehouse}'",
            )
    ledger = text(item, "LedgerCode")
    if ledger and company.find("GenMaster", GlCode=ledger) is None:
        result.error("LedgerCode", ledger, NOT_ON_FILE, f"Ledger code '{ledger}' not found")

    def apply() -> list[tuple[str, str]]:
        assert stocked is not None  # noqa: S101 - apply runs only for a valid item
        stocked["QtyOnHand"] = Decimal(stocked["QtyOnHand"]) + quantity
        company.touch(stocked)
        journal, gl_journal = company.journal("INV"), company.journal("GL")
        company.insert(
            "InvMovements",
            {
                "StockCode": stock_code,
                "Warehouse": warehouse,
                "EntryDate": ctx.company_date.isoformat(),
                "TrnQty": quantity,
                "Reference": reference,
                "Notation": text(item, "Notation"),
                "LedgerCode": ledger,
                "Journal": journal,
                "GlJournal": gl_journal,
                "MovementType": "I",
                "TrnType": "A",
            },
        )
        return [("Journal", str(journal)), ("GlJournal", str(gl_journal))]

    result.apply = apply
    return result
