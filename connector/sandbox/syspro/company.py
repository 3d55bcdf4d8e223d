"""One simulated SYSPRO company: its tables as plain rows, named as in the SQL database.

COMFND reads these tables by name, OData serves them as entity sets, the business objects
write them. Every row carries ``TimeStamp``, a company-wide counter raised on each insert or
change: the shape of SQL Server's ``rowversion`` column that incremental reads filter on
(exposed as a number here, a simplification the sheet marks inferred).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

ColumnType = Literal["str", "date", "decimal", "int"]
Row = dict[str, Any]

#: Columns of every table the simulator serves, in the order COMFND and OData list them.
TABLES: dict[str, dict[str, ColumnType]] = {
    "ApSupplier": {
        "Supplier": "str",
        "SupplierName": "str",
        "SupShortName": "str",
        "Branch": "str",
        "TermsCode": "str",
        "Currency": "str",
        "SupAddr1": "str",
        "SupAddr2": "str",
        "SupAddr3": "str",
        "SupAddr4": "str",
        "SupAddr5": "str",
        "SupPostalCode": "str",
        "Email": "str",
        "OnHold": "str",
        "SupplierClass": "str",
        "DefTaxCode": "str",
        "TimeStamp": "int",
    },
    "ApInvoice": {
        "Supplier": "str",
        "Invoice": "str",
        "TrnType": "str",
        "Branch": "str",
        "InvoiceDate": "date",
        "DueDate": "date",
        "PostDate": "date",
        "OrigInvValue": "decimal",
        "TaxCode": "str",
        "TaxValue": "decimal",
        "Reference": "str",
        "Journal": "int",
        "TrnYear": "int",
        "TrnMonth": "int",
        "TimeStamp": "int",
    },
    "GenMaster": {"GlCode": "str", "Description": "str", "AccountType": "str", "TimeStamp": "int"},
    "InvMaster": {"StockCode": "str", "Description": "str", "StockUom": "str", "TimeStamp": "int"},
    "InvWarehouse": {
        "StockCode": "str",
        "Warehouse": "str",
        "QtyOnHand": "decimal",
        "TimeStamp": "int",
    },
    "InvMovements": {
        "StockCode": "str",
        "Warehouse": "str",
        "EntryDate": "date",
        "TrnQty": "decimal",
        "Reference": "str",
        "Notation": "str",
        "LedgerCode": "str",
        "Journal": "int",
        "GlJournal": "int",
        "MovementType": "str",
        "TrnType": "str",
        "TimeStamp": "int",
    },
    "PorMasterHdr": {
        "PurchaseOrder": "str",
        "Supplier": "str",
        "OrderDate": "date",
        "Warehouse": "str",
        "OrderStatus": "str",
        "Reference": "str",
        "TimeStamp": "int",
    },
    "PorMasterDetail": {
        "PurchaseOrder": "str",
        "Line": "int",
        "MStockCode": "str",
        "MWarehouse": "str",
        "MOrderQty": "decimal",
        "MPrice": "decimal",
        "MGlCode": "str",
        "TimeStamp": "int",
    },
}

CURRENCIES = ("$", "USD", "CAD", "EUR")
TERMS_CODES = ("30", "60", "CO")
WAREHOUSES = ("FG", "RM", "S1")
PLACES = ("North", "Valley", "Metro", "Summit")
TRADES = ("HVAC", "Electric", "Plumbing", "Supply")
COMPANY_NAME = "Outdoor Gear Inc"


@dataclass
class Company:
    """The rows of one company plus its counters (journals, PO numbers, row versions)."""

    tables: dict[str, list[Row]] = field(default_factory=lambda: {name: [] for name in TABLES})
    stamp: int = 0
    journals: dict[str, int] = field(default_factory=dict)
    next_po: int = 1

    def touch(self, row: Row) -> Row:
        self.stamp += 1
        row["TimeStamp"] = self.stamp
        return row

    def insert(self, table: str, values: Row) -> Row:
        """Add a row (missing columns blank) and return it."""
        row: Row = {column: _blank(kind) for column, kind in TABLES[table].items()}
        row.update(values)
        self.tables[table].append(self.touch(row))
        return row

    def find(self, table: str, **keys: Any) -> Row | None:
        for row in self.tables[table]:
            if all(row.get(column) == value for column, value in keys.items()):
                return row
        return None

    def journal(self, ledger: str) -> int:
        """The next journal number of a ledger (``AP``, ``INV``, ``GL``)."""
        self.journals[ledger] = self.journals.get(ledger, 0) + 1
        return self.journals[ledger]

    def purchase_order_number(self) -> str:
        """The next automatic PO number, zero-padded to 6 like a default SYSPRO key."""
        while self.find("PorMasterHdr", PurchaseOrder=f"{self.next_po:06d}") is not None:
            self.next_po += 1
        number = f"{self.next_po:06d}"
        self.next_po += 1
        return number

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


def _blank(kind: ColumnType) -> Any:
    if kind == "decimal":
        return Decimal(0)
    if kind == "int":
        return 0
    if kind == "date":
        return None
    return ""


def reference_company() -> Company:
    """The fixed reference data every test can rely on: two suppliers, GL codes, stock."""
    company = Company()
    for code, name in (("0001", "Bike Parts Wholesale"), ("0002", "Camping Supplies Ltd")):
        company.insert(
            "ApSupplier",
            {
                "Supplier": code,
                "SupplierName": name,
                "SupShortName": name[:20].upper(),
                "Branch": "10",
                "TermsCode": "30",
                "Currency": "$",
                "OnHold": "N",
                "SupplierClass": "LOC",
                "DefTaxCode": "A",
            },
        )
    for code, description, kind in (
        ("10-1000", "Bank", "A"),
        ("20-1000", "Accounts payable control", "L"),
        ("40-1100", "Sales", "R"),
        ("50-2000", "Cost of sales", "E"),
        ("60-3000", "Field service expenses", "E"),
        ("60-3100", "Vehicle expenses", "E"),
        ("10-3000", "Inventory adjustments", "A"),
    ):
        company.insert(
            "GenMaster", {"GlCode": code, "Description": description, "AccountType": kind}
        )
    for code, description in (("A100", "Compressor 2 ton"), ("B200", "Copper line set 3/8")):
        company.insert(
            "InvMaster", {"StockCode": code, "Description": description, "StockUom": "EA"}
        )
        for warehouse in ("FG", "RM"):
            company.insert(
                "InvWarehouse",
                {"StockCode": code, "Warehouse": warehouse, "QtyOnHand": Decimal(100)},
            )
    return company


def seeded_company(seed: int, counts: dict[str, int]) -> Company:
    """Reference data plus ``counts`` generated rows per entity, the same for the same seed.

    Entities: ``suppliers``, ``stock``, ``invoices``, ``purchase_orders`` (with lines).
    """
    rng = random.Random(seed)
    company = reference_company()
    for n in range(counts.get("suppliers", 0)):
        code = f"S{n + 1:05d}"
        name = f"{rng.choice(PLACES)} {rng.choice(TRADES)} {n + 1}"
        company.insert(
            "ApSupplier",
            {
                "Supplier": code,
                "SupplierName": name,
                "SupShortName": name[:20].upper(),
                "Branch": "10",
                "TermsCode": rng.choice(TERMS_CODES),
                "Currency": "$",
                "OnHold": "N",
                "SupplierClass": "LOC",
                "DefTaxCode": "A",
            },
        )
    for n in range(counts.get("stock", 0)):
        code = f"P{n + 1:05d}"
        company.insert(
            "InvMaster", {"StockCode": code, "Description": f"Part {n + 1}", "StockUom": "EA"}
        )
        company.insert(
            "InvWarehouse",
            {"StockCode": code, "Warehouse": "FG", "QtyOnHand": Decimal(rng.randint(0, 500))},
        )
    suppliers = [row["Supplier"] for row in company.tables["ApSupplier"]]
    base = dt.date(2024, 1, 1)
    for n in range(counts.get("invoices", 0)):
        day = base + dt.timedelta(days=rng.randint(0, 180))
        value = Decimal(rng.randint(1000, 500000)) / 100
        company.insert(
            "ApInvoice",
            {
                "Supplier": rng.choice(suppliers),
                "Invoice": f"SEED-{n + 1:06d}",
                "TrnType": "I",
                "Branch": "10",
                "InvoiceDate": day.isoformat(),
                "DueDate": (day + dt.timedelta(days=30)).isoformat(),
                "PostDate": day.isoformat(),
                "OrigInvValue": value,
                "Journal": company.journal("AP"),
                "TrnYear": day.year,
                "TrnMonth": day.month,
            },
        )
    stock = [row["StockCode"] for row in company.tables["InvMaster"]]
    for _ in range(counts.get("purchase_orders", 0)):
        day = base + dt.timedelta(days=rng.randint(0, 180))
        number = company.purchase_order_number()
        company.insert(
            "PorMasterHdr",
            {
                "PurchaseOrder": number,
                "Supplier": rng.choice(suppliers),
                "OrderDate": day.isoformat(),
                "Warehouse": "FG",
                "OrderStatus": "1",
            },
        )
        # An order as PORTOI leaves it: one to three stock lines.
        for line, code in enumerate(rng.sample(stock, min(len(stock), rng.randint(1, 3))), 1):
            company.insert(
                "PorMasterDetail",
                {
                    "PurchaseOrder": number,
                    "Line": line,
                    "MStockCode": code,
                    "MWarehouse": "FG",
                    "MOrderQty": Decimal(rng.randint(1, 20)),
                    "MPrice": Decimal(rng.randint(500, 50000)) / 100,
                    "MGlCode": "",
                },
            )
    return company
