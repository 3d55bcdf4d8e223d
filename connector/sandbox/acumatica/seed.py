"""Deterministic reference data for a fresh tenant: chart of accounts, subaccounts, partners.

Everything derives from ``random.Random(seed)`` and a fixed epoch, ids and timestamps
included, so two simulators seeded alike hold identical records. Documents are not seeded:
they are what the connector writes.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.sandbox.acumatica.tenant import Tenant

#: Seeded records are stamped from here on, one second apart; writes later are always newer.
SEED_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

DEFAULT_COUNTS = {
    "accounts": 25,
    "subaccounts": 12,
    "vendors": 50,
    "customers": 20,
    "stock_items": 20,
    "non_stock_items": 8,
}

#: (ClassID, Description, stock item?): a trades business's item classes.
ITEM_CLASSES = [
    ("EQUIPMENT", "Installed equipment", True),
    ("PARTS", "Repair parts", True),
    ("SERVICES", "Labor and service", False),
    ("FEES", "Fees and charges", False),
]
PART_NAMES = [
    "Capacitor 45/5 MFD",
    "Contactor 2-pole 40A",
    "Thermostat programmable",
    "Condensate pump",
    "Igniter hot surface",
    "Flame sensor",
    "Blower motor 1/2 HP",
    "Filter 16x25x1",
    "Refrigerant R-410A 25 lb",
    "Expansion valve 3 ton",
    "Ball valve 3/4 in",
    "Water heater 50 gal",
    "Garbage disposal 3/4 HP",
    "Breaker 20A single pole",
    "GFCI outlet 20A",
    "Surge protector whole home",
]
SERVICE_NAMES = [
    "Diagnostic visit",
    "Labor hour",
    "After-hours labor hour",
    "Trip charge",
    "Maintenance agreement visit",
    "Permit fee",
    "Disposal fee",
    "Drain cleaning",
]

#: (AccountCD, Description, Type, is a cash account); the accounts flows need come first.
CHART_OF_ACCOUNTS = [
    ("10100", "Cash", "Asset", True),
    ("11000", "Accounts Receivable", "Asset", False),
    ("20000", "Accounts Payable", "Liability", False),
    ("40000", "Service Revenue", "Income", False),
    ("50000", "Materials COGS", "Expense", False),
    ("12000", "Inventory", "Asset", False),
    ("40100", "Installation Revenue", "Income", False),
    ("40200", "Maintenance Agreement Revenue", "Income", False),
    ("41000", "Equipment Sales", "Income", False),
    ("50100", "Equipment COGS", "Expense", False),
    ("51000", "Subcontractor Costs", "Expense", False),
    ("52000", "Direct Labor", "Expense", False),
    ("21000", "Accrued Liabilities", "Liability", False),
    ("22000", "Sales Tax Payable", "Liability", False),
    ("10200", "Payroll Cash", "Asset", True),
    ("13000", "Prepaid Expenses", "Asset", False),
    ("15000", "Vehicles and Equipment", "Asset", False),
    ("30000", "Retained Earnings", "Liability", False),
    ("60000", "Salaries and Wages", "Expense", False),
    ("61000", "Rent", "Expense", False),
    ("62000", "Utilities", "Expense", False),
    ("63000", "Vehicle Expense", "Expense", False),
    ("64000", "Fuel", "Expense", False),
    ("65000", "Tools and Small Equipment", "Expense", False),
    ("66000", "Insurance", "Expense", False),
    ("67000", "Office Supplies", "Expense", False),
    ("68000", "Professional Fees", "Expense", False),
]
BUSINESS_UNITS = ["HVAC", "PLUMB", "ELEC", "DRAIN", "REFR", "GEN"]
FIELD_BRANCHES = ["NORTH", "SOUTH", "HQ"]
VENDOR_FIRST = [
    "Ferguson",
    "Johnstone",
    "Watsco",
    "Lennox",
    "Carrier",
    "Trane",
    "Goodman",
    "Rheem",
    "Grainger",
    "Hajoca",
    "Winsupply",
    "Apex",
    "Summit",
    "Keystone",
    "Metro",
    "Valley",
    "Coastal",
    "Allied",
    "Pioneer",
    "Granite",
]
VENDOR_KIND = [
    "Supply",
    "HVAC Supply",
    "Plumbing Supply",
    "Electric",
    "Distributors",
    "Parts Co.",
    "Wholesale",
]
CUSTOMER_NAMES = [
    "Smith",
    "Garcia",
    "Johnson",
    "Lee",
    "Patel",
    "Brown",
    "Nguyen",
    "Miller",
    "Davis",
    "Lopez",
    "Wilson",
    "Clark",
    "Young",
    "Hall",
    "Allen",
    "King",
]
CUSTOMER_KIND = [
    "Residence",
    "Apartments",
    "Dental Office",
    "Restaurant",
    "Property Mgmt",
    "Warehouse",
]
CITIES = [
    ("Denver", "CO", "80202"),
    ("Aurora", "CO", "80012"),
    ("Boulder", "CO", "80301"),
    ("Lakewood", "CO", "80226"),
    ("Golden", "CO", "80401"),
]
STREETS = ["Main St", "Oak Ave", "Pine St", "Maple Dr", "Cedar Ln", "Elm St", "Lake Rd"]


def seed_tenant(tenant: Tenant, seed: int, counts: dict[str, int]) -> dict[str, int]:
    """Fill ``tenant`` (assumed empty) with reference data; returns how many of each."""
    rng = random.Random(seed)
    moments = (SEED_EPOCH + timedelta(seconds=n) for n in range(1_000_000))
    wanted = {**DEFAULT_COUNTS, **counts}
    for account in _accounts(rng, wanted["accounts"]):
        tenant.seed_record("Account", account, next(moments))
    for subaccount in _subaccounts(rng, wanted["subaccounts"]):
        tenant.seed_record("Subaccount", subaccount, next(moments))
    for vendor in _partners(rng, wanted["vendors"], "Vendor"):
        tenant.seed_record("Vendor", vendor, next(moments))
    for customer in _partners(rng, wanted["customers"], "Customer"):
        tenant.seed_record("Customer", customer, next(moments))
    for item_class in _item_classes(rng):
        tenant.seed_record("ItemClass", item_class, next(moments))
    for entity, item in _items(rng, wanted["stock_items"], wanted["non_stock_items"]):
        tenant.seed_record(entity, item, next(moments))
    return {name: len(table.records) for name, table in tenant.tables.items()}


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _accounts(rng: random.Random, count: int) -> list[dict[str, Any]]:
    chart = list(CHART_OF_ACCOUNTS)
    chart += [
        (f"{69000 + n}", f"Miscellaneous Expense {n}", "Expense", False)
        for n in range(1, max(0, count - len(chart)) + 1)
    ]
    return [
        {
            "id": _id(rng),
            "AccountCD": code,
            "Description": description,
            "Type": kind,
            "CashAccount": cash,
            "Active": True,
            "CurrencyID": "USD",
            "AccountID": 1000 + index,
        }
        for index, (code, description, kind, cash) in enumerate(chart[:count])
    ]


def _subaccounts(rng: random.Random, count: int) -> list[dict[str, Any]]:
    codes = [f"{unit}-{branch}" for branch in FIELD_BRANCHES for unit in BUSINESS_UNITS]
    codes += [f"MISC-{n:03d}" for n in range(1, max(0, count - len(codes)) + 1)]
    return [
        {
            "id": _id(rng),
            "SubaccountCD": code,
            "Description": _describe_subaccount(code),
            "Active": True,
            "SubaccountID": 2000 + index,
        }
        for index, code in enumerate(codes[:count])
    ]


def _describe_subaccount(code: str) -> str:
    unit, _, branch = code.partition("-")
    return f"{unit} business unit, {branch.title()} branch"


def _partners(rng: random.Random, count: int, entity: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    names: set[str] = set()
    for index in range(count):
        if entity == "Vendor":
            name = f"{rng.choice(VENDOR_FIRST)} {rng.choice(VENDOR_KIND)}"
        else:
            name = f"{rng.choice(CUSTOMER_NAMES)} {rng.choice(CUSTOMER_KIND)}"
        while name in names:
            name = f"{name} {index}"
        names.add(name)
        city, state, postal = rng.choice(CITIES)
        contact = {
            "id": _id(rng),
            "Email": f"ap@{name.split()[0].lower()}{index}.example.com",
            "Address": {
                "id": _id(rng),
                "AddressLine1": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
                "City": city,
                "State": state,
                "PostalCode": postal,
                "Country": "US",
            },
        }
        key = f"V{10001 + index}" if entity == "Vendor" else f"C{20001 + index}"
        record: dict[str, Any] = {
            "id": _id(rng),
            f"{entity}ID": key,
            f"{entity}Name": name,
            "Status": "Active",
            "MainContact": contact,
            "CurrencyID": "USD",
            "Terms": "30D",
        }
        if entity == "Vendor":
            record["VendorClass"] = "SUPPLIER"
        else:
            record["CustomerClass"] = "DEFAULT"
        records.append(record)
    return records


def _item_classes(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "id": _id(rng),
            "ClassID": code,
            "Description": description,
            "StockItem": stock,
            "ItemType": "Finished Good" if stock else "Non-Stock Item",
            "BaseUOM": "EA",
            "ValuationMethod": "Average" if stock else None,
        }
        for code, description, stock in ITEM_CLASSES
    ]


def _items(
    rng: random.Random, stock_count: int, non_stock_count: int
) -> list[tuple[str, dict[str, Any]]]:
    """Stock items (parts and equipment) then non-stock items (services and fees)."""
    items: list[tuple[str, dict[str, Any]]] = []
    for index in range(stock_count):
        name = PART_NAMES[index % len(PART_NAMES)]
        cost = round(rng.uniform(4, 900), 2)
        items.append(
            (
                "StockItem",
                {
                    "id": _id(rng),
                    "InventoryID": f"P{30001 + index}",
                    "Description": name if index < len(PART_NAMES) else f"{name} ({index})",
                    "ItemClass": "EQUIPMENT" if cost > 300 else "PARTS",
                    "ItemStatus": "Active",
                    "ItemType": "Finished Good",
                    "BaseUOM": "EA",
                    "SalesUOM": "EA",
                    "PurchaseUOM": "EA",
                    "ValuationMethod": "Average",
                    "LastCost": cost,
                    "DefaultPrice": round(cost * 1.6, 2),
                    "InventoryAccount": "12000",
                    "COGSAccount": "50000",
                    "SalesAccount": "41000",
                },
            )
        )
    for index in range(non_stock_count):
        name = SERVICE_NAMES[index % len(SERVICE_NAMES)]
        items.append(
            (
                "NonStockItem",
                {
                    "id": _id(rng),
                    "InventoryID": f"S{40001 + index}",
                    "Description": name if index < len(SERVICE_NAMES) else f"{name} ({index})",
                    "ItemClass": "SERVICES",
                    "ItemStatus": "Active",
                    "ItemType": "Service",
                    "BaseUnit": "EA",
                    "SalesUnit": "EA",
                    "PurchaseUnit": "EA",
                    "DefaultPrice": float(rng.choice([49, 89, 129, 159, 199])),
                    "SalesAccount": "40000",
                    "ExpenseAccount": "51000",
                },
            )
        )
    return items
