"""Deterministic reference data for the tenant: same seed, same rows.

Company ``10`` gets accounts, cost centers (code part B) and projects (code part C),
suppliers, released purchase orders with lines, external loads ready for rows, and posted
vouchers with their GL rows (what the IFS → ServiceTitan postings stream reads).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from connector.sandbox.ifs.knobs import COMPANY
from connector.sandbox.ifs.store import EPOCH, Store

DEFAULT_COUNTS = {"suppliers": 6, "purchase_orders": 8, "vouchers": 4}
ACCOUNTS = (
    ("1200", "Accounts Receivable", "A"),
    ("2400", "Accounts Payable", "L"),
    ("2610", "Sales Tax Payable", "L"),
    ("4000", "Service Revenue", "R"),
    ("4100", "Equipment Sales", "R"),
    ("5000", "Cost of Materials", "C"),
    ("5100", "Subcontractors", "C"),
    ("6100", "Vehicle Expenses", "C"),
)
COST_CENTERS = (("CC10", "HVAC North"), ("CC20", "HVAC South"), ("CC30", "Plumbing"))
PROJECTS = (("P1000", "Service contracts"), ("P2000", "New construction"))
DEFAULT_LOADS = ("ML-LOAD-1", "ML-LOAD-2")
_NAMES = (
    "Ferguson",
    "Johnstone Supply",
    "Watsco",
    "Winsupply",
    "Carrier Enterprise",
    "Lennox Parts",
    "Grainger",
    "Rexel",
    "Hajoca",
    "United Refrigeration",
)
_PARTS = (
    ("FLT-1620", "Air filter 16x20", 12.5),
    ("CAP-45", "Run capacitor 45uF", 18.0),
    ("TSTAT-7", "Thermostat 7-day", 89.0),
    ("PIPE-CU", "Copper pipe 1/2in", 4.25),
)


def seed_tenant(
    store: Store, seed: int, counts: dict[str, int], loads: list[str]
) -> dict[str, int]:
    """Fill an empty store; returns the number of rows per entity set."""
    rng = random.Random(seed)
    for account, description, kind in ACCOUNTS:
        store.insert(
            "AccountsHandling/AccountSet",
            {
                "Company": COMPANY,
                "Account": account,
                "Description": description,
                "AccntType": kind,
                "ValidFrom": "2020-01-01",
                "ValidUntil": "2049-12-31",
            },
        )
    for letter, values in (("B", COST_CENTERS), ("C", PROJECTS)):
        for code, description in values:
            store.insert(
                f"Code{letter}Handling/Code{letter}Set",
                {
                    "Company": COMPANY,
                    f"Code{letter}": code,
                    "Description": description,
                    "ValidFrom": "2020-01-01",
                    "ValidUntil": "2049-12-31",
                },
            )
    for load in loads:
        add_load(store, load)
    suppliers = [_supplier(store, rng, n) for n in range(counts.get("suppliers", 0))]
    for n in range(counts.get("purchase_orders", 0)):
        if suppliers:
            _purchase_order(store, rng, n, rng.choice(suppliers))
    for n in range(counts.get("vouchers", 0)):
        _voucher(store, rng, n)
    return {path.split("/")[1]: len(t.rows) for path, t in store.tables.items() if t.rows}


def add_load(store: Store, load_id: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "Company": COMPANY,
        "LoadId": load_id,
        "Userid": "IFSCONNECT",
        "ExtLoadState": "Loaded",
        "LoadFileId": None,
    }
    store.insert("ExternalVoucherLoadInformationHandling/ExtLoadInfoSet", values)
    return values


def _supplier(store: Store, rng: random.Random, n: int) -> str:
    supplier_id = f"SUP{1001 + n}"
    store.insert(
        "SuppliersHandling/SupplierInfoGeneralSet",
        {
            "SupplierId": supplier_id,
            "Name": f"{_NAMES[n % len(_NAMES)]} #{n + 1}",
            "Country": "US",
            "DefaultLanguage": "en",
            "SupplierCategory": "SUPPLIER",
            "CreationDate": (EPOCH.date() - dt.timedelta(days=rng.randint(30, 900))).isoformat(),
        },
    )
    return supplier_id


def _purchase_order(store: Store, rng: random.Random, n: int, supplier: str) -> None:
    order_no = f"P{100231 + n}"
    entered = EPOCH + dt.timedelta(hours=n * 7, minutes=rng.randint(0, 59))
    store.insert(
        "PurchaseOrderHandling/PurchaseOrderSet",
        {
            "OrderNo": order_no,
            "Contract": "M1",
            "VendorNo": supplier,
            "OrderDate": entered.date().isoformat(),
            "WantedReceiptDate": (entered.date() + dt.timedelta(days=7)).isoformat(),
            "CurrencyCode": "USD",
            "BuyerCode": "ALAIN",
            "TaxLiability": "TAX",
            "NoteText": None,
            "DateEntered": entered,
            "Objstate": "Released" if n % 4 else "Planned",
        },
    )
    for line in range(1, rng.randint(1, 3) + 1):
        part, description, price = rng.choice(_PARTS)
        store.insert(
            "PurchaseOrderLinesHandling/PurchaseOrderLineSet",
            {
                "OrderNo": order_no,
                "LineNo": str(line),
                "ReleaseNo": "1",
                "PartNo": part,
                "Description": description,
                "BuyQtyDue": float(rng.randint(1, 20)),
                "BuyUnitMeas": "PCS",
                "FbuyUnitPrice": price,
                "PlannedReceiptDate": (entered.date() + dt.timedelta(days=7)).isoformat(),
                "Objstate": "Released",
            },
        )


def _voucher(store: Store, rng: random.Random, n: int) -> None:
    date = (EPOCH.date() + dt.timedelta(days=n)).isoformat()
    amount = float(rng.randint(100, 5000))
    cost_center = COST_CENTERS[n % len(COST_CENTERS)][0]
    rows = [("5000", cost_center, amount, None), ("2400", None, None, amount)]
    create_voucher(store, "M", date, f"GL posting {n + 1}", rows)


def create_voucher(
    store: Store,
    voucher_type: str,
    date: str,
    text: str,
    rows: list[tuple[str, str | None, float | None, float | None]],
) -> dict[str, Any]:
    """A voucher with its GL rows (account, cost center, debit, credit); the next number."""
    year = int(date[:4])
    numbers = [
        key[3]
        for key in store.table("VoucherHandling/VoucherSet").rows
        if key[:3] == (COMPANY, year, voucher_type)
    ]
    number = max(numbers, default=year * 10000) + 1
    head = {
        "Company": COMPANY,
        "AccountingYear": year,
        "VoucherType": voucher_type,
        "VoucherNo": number,
        "VoucherDate": date,
        "DateReg": date,
        "VoucherText2": text,
        "UserGroup": "AC",
        "Objstate": "Confirmed",
    }
    store.insert("VoucherHandling/VoucherSet", head)
    for row_no, (account, cost_center, debit, credit) in enumerate(rows, start=1):
        store.insert(
            "VoucherRowsAnalysis/VoucherRowSet",
            {
                **{k: head[k] for k in ("Company", "AccountingYear", "VoucherType", "VoucherNo")},
                "RowNo": row_no,
                "VoucherDate": date,
                "Account": account,
                "CodeB": cost_center,
                "CurrencyCode": "USD",
                "CurrencyDebetAmount": debit,
                "CurrencyCreditAmount": credit,
                "DebetAmount": debit,
                "CreditAmount": credit,
                "Text": text,
            },
        )
    return head
