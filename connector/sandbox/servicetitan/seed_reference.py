"""Seeding of reference data and the pricebook (the part of :class:`~.seeding.Seeder` that
later records refer to). Every choice comes from the given ``random.Random`` and every
instant from ``stamp``, so a seed is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from connector.sandbox.servicetitan import catalog, records
from connector.sandbox.servicetitan.records import gl_name, gl_ref
from connector.sandbox.servicetitan.store import Store
from connector.sandbox.servicetitan.wire import ApiError, Record


class ReferenceSeeder:
    """Reference data and the pricebook: business units, tax zones, GL accounts, warehouses,
    PO types, vendors, materials, equipment and services."""

    def __init__(
        self,
        store: Store,
        rng: random.Random,
        stamp: Callable[[], str],
        *,
        tenant_id: int,
        notify: bool,
        create_bills: bool,
    ) -> None:
        self.store = store
        self.rng = rng
        self.stamp = stamp
        self.tenant_id = tenant_id
        self.notify = notify
        self.create_bills = create_bills

    # -- helpers --------------------------------------------------------------------------
    def _insert(self, table: str, record: Record) -> Record:
        return self.store.insert(table, record, notify=self.notify)

    def _touch(self, table: str, record: Record, stamp: str) -> None:
        self.store.touch(table, record, notify=self.notify, stamp=stamp)

    def _rows(self, table: str, *, active_only: bool = True) -> list[Record]:
        rows = self.store.table(table).all()
        return [row for row in rows if row.get("active", True)] if active_only else rows

    def _pick(self, table: str) -> Record:
        rows = self._rows(table)
        if not rows:
            raise ApiError(
                409,
                f"No active {table.replace('_', ' ')} exist yet: seed the sandbox first "
                "(POST /_sandbox/seed) so generated records have something to refer to.",
            )
        return self.rng.choice(rows)

    def _address(self) -> tuple[Record, int]:
        city, zips, zone_index = self.rng.choice(catalog.CITIES)
        address = {
            "street": f"{self.rng.randint(100, 19999)} {self.rng.choice(catalog.STREETS)}",
            "unit": self.rng.choice((None, None, None, f"Unit {self.rng.randint(1, 40)}")),
            "city": city,
            "state": "CO",
            "zip": self.rng.choice(zips),
            "country": "USA",
        }
        return address, zone_index

    def _money(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 2)

    # -- reference data -------------------------------------------------------------------
    def business_units(self, count: int) -> None:
        base = len(catalog.BUSINESS_UNITS)
        for index in range(count):
            name, trade = catalog.BUSINESS_UNITS[index % base]
            if index >= base:
                name = f"{name} {index // base + 1}"
            address = {
                "street": "4700 Holly St",
                "unit": None,
                "city": "Denver",
                "state": "CO",
                "zip": "80216",
                "country": "USA",
            }
            self._insert(
                "business_units",
                records.business_unit(
                    self.store,
                    self.stamp(),
                    name=name,
                    trade=trade,
                    tenant_id=self.tenant_id,
                    address=address,
                ),
            )

    def tax_zones(self, count: int) -> None:
        base = len(catalog.TAX_ZONES)
        for index in range(count):
            name, rate = catalog.TAX_ZONES[index % base]
            if index >= base:
                name = f"{name} {index // base + 1}"
            self._insert(
                "tax_zones",
                records.tax_zone(
                    self.store, self.stamp(), name=name, rate_percent=rate, color=0x1F77B4 + index
                ),
            )

    def gl_accounts(self, count: int) -> None:
        base = len(catalog.GL_ACCOUNTS)
        for index in range(count):
            if index < base:
                number, name, kind, subtype, default = catalog.GL_ACCOUNTS[index]
            else:
                number, name, kind, subtype, default = (
                    str(6700 + index),
                    f"Miscellaneous Expense {index}",
                    "Expense",
                    "Other",
                    None,
                )
            self._insert(
                "gl_accounts",
                records.gl_account(
                    self.store,
                    self.stamp(),
                    name=name,
                    account_number=number,
                    account_type=kind,
                    subtype=subtype,
                    default_type=default,
                ),
            )

    def warehouses_and_types(self) -> None:
        for name in catalog.WAREHOUSES:
            address, _ = self._address()
            self._insert(
                "warehouses",
                records.warehouse(self.store, self.stamp(), name=name, address=address),
            )
        for name, auto in catalog.PURCHASE_ORDER_TYPES:
            self._insert(
                "purchase_order_types",
                records.purchase_order_type(self.store, self.stamp(), name=name, auto_receive=auto),
            )

    # -- vendors and pricebook ------------------------------------------------------------
    def vendors(self, count: int) -> None:
        base, cities = len(catalog.VENDORS), len(catalog.BRANCH_CITIES)
        for _ in range(count):
            index = len(self.store.table("vendors"))
            name = catalog.VENDORS[index % base]
            branch = index // base
            if branch:
                name = f"{name} - {catalog.BRANCH_CITIES[(branch - 1) % cities]}"
                if branch > cities:
                    name = f"{name} #{branch}"
            address, _ = self._address()
            first, last = self.rng.choice(catalog.FIRST_NAMES), self.rng.choice(catalog.LAST_NAMES)
            domain = "".join(ch for ch in name.split()[0].lower() if ch.isalnum())
            body: Record = {
                "name": name,
                "active": self.rng.random() > 0.05,
                "memo": "",
                "firstName": first,
                "lastName": last,
                "phone": f"303555{self.rng.randint(1000, 9999)}",
                "email": f"{first.lower()}.{last.lower()}@{domain}.example",
                "fax": "",
                "isTruckReplenishment": False,
                "deliveryOption": "EmailAsPdf",
                "taxRate": 0.0,
                "restrictedMobileCreation": False,
                "address": address,
            }
            self._insert(
                "vendors",
                records.vendor(
                    self.store,
                    self.stamp(),
                    body,
                    account_number=f"SCS-{self.rng.randint(10000, 99999)}",
                ),
            )

    def _vendor_link(self, prefix: str, cost: float) -> Record | None:
        vendors = self._rows("vendors")
        if not vendors:
            return None
        return {
            "vendorId": self.rng.choice(vendors)["id"],
            "vendorPart": f"{prefix}{self.rng.randint(10000, 99999)}",
            "cost": cost,
            "active": True,
            "memo": None,
        }

    def materials(self, count: int) -> None:
        entries = [
            (
                template.format(size=size),
                low + (high - low) * i / max(1, len(sizes) - 1),
                unit,
                prefix,
            )
            for template, low, high, unit, prefix, sizes in catalog.MATERIALS
            for i, size in enumerate(sizes)
        ]
        for _ in range(count):
            index = len(self.store.table("materials"))
            name, base_cost, unit, prefix = entries[index % len(entries)]
            if index >= len(entries):
                name = f"{name} ({index // len(entries) + 1}-Pack)"
            trade = (
                "Plumbing"
                if prefix in catalog.PLUMBING_PREFIXES
                else "Electrical"
                if prefix in catalog.ELECTRICAL_PREFIXES
                else "HVAC"
            )
            cost = round(base_cost * self.rng.uniform(0.92, 1.08), 2)
            price = round(cost * self.rng.uniform(1.6, 2.4), 2)
            revenue = catalog.REVENUE_ACCOUNT[(trade, "service")]
            body: Record = {
                "code": f"{prefix}-{1000 + index}",
                "displayName": name,
                "description": name,
                "cost": cost,
                "price": price,
                "memberPrice": round(price * 0.85, 2),
                "addOnPrice": price,
                "addOnMemberPrice": round(price * 0.85, 2),
                "unitOfMeasure": unit,
                "isInventory": True,
                "taxable": True,
                "account": gl_name(self.store, revenue),
                "costOfSaleAccount": gl_name(self.store, "5000"),
                "assetAccount": gl_name(self.store, "1400"),
                "primaryVendor": self._vendor_link(prefix, cost),
            }
            record = records.sku(self.store, self.stamp(), "materials", body)
            record["generalLedgerAccountId"] = (gl_ref(self.store, revenue) or {}).get("id")
            record["_trade"] = trade
            self._insert("materials", record)

    def equipment(self, count: int) -> None:
        combos = [
            (template, low, high, brand, size, i / max(1, len(sizes) - 1))
            for template, low, high, brands, sizes in catalog.EQUIPMENT
            for brand in brands
            for i, size in enumerate(sizes)
        ]
        order = list(range(len(combos)))
        random.Random(len(combos)).shuffle(order)  # fixed order, independent of the seed
        for _ in range(count):
            index = len(self.store.table("equipment"))
            template, low, high, brand, size, fraction = combos[order[index % len(combos)]]
            name = template.format(brand=brand, size=size)
            if index >= len(combos):
                name = f"{name} (Gen {index // len(combos) + 1})"
            trade = "Plumbing" if "Water Heater" in template else "HVAC"
            cost = round((low + (high - low) * fraction) * self.rng.uniform(0.95, 1.05), 2)
            price = round(cost * self.rng.uniform(1.5, 2.0), 2)
            revenue = catalog.REVENUE_ACCOUNT[(trade, "install")]
            body: Record = {
                "code": f"EQ-{10000 + index}",
                "displayName": name,
                "description": name,
                "cost": cost,
                "price": price,
                "memberPrice": round(price * 0.9, 2),
                "addOnPrice": price,
                "addOnMemberPrice": round(price * 0.9, 2),
                "manufacturer": brand,
                "model": f"{brand[:3].upper()}{size.replace('.', '')}-{self.rng.randint(100, 999)}",
                "manufacturerWarranty": {"duration": 120, "description": "10-Year Parts Limited"},
                "serviceProviderWarranty": {"duration": 12, "description": "1-Year Labor"},
                "account": gl_name(self.store, revenue),
                "costOfSaleAccount": gl_name(self.store, "5010"),
                "assetAccount": gl_name(self.store, "1400"),
                "isInventory": True,
                "taxable": True,
                "primaryVendor": self._vendor_link("EQ", cost),
            }
            record = records.sku(self.store, self.stamp(), "equipment", body)
            record["generalLedgerAccountId"] = (gl_ref(self.store, revenue) or {}).get("id")
            record["_trade"] = trade
            self._insert("equipment", record)

    def services(self, count: int) -> None:
        base = len(catalog.SERVICES)
        for _ in range(count):
            index = len(self.store.table("services"))
            name, price, hours, trade = catalog.SERVICES[index % base]
            if index >= base:
                name = f"{name} - Tier {index // base + 1}"
            kind = "install" if "Install" in name else "service"
            body: Record = {
                "code": f"SVC-{100 + index}",
                "displayName": name,
                "description": name,
                "price": price,
                "memberPrice": round(price * 0.85, 2),
                "addOnPrice": price,
                "addOnMemberPrice": round(price * 0.85, 2),
                "hours": hours,
                "taxable": False,
                "isLabor": True,
                "account": gl_name(self.store, catalog.REVENUE_ACCOUNT[(trade, kind)]),
            }
            record = records.sku(self.store, self.stamp(), "services", body)
            record["cost"] = round(hours * 38.0, 2)
            record["_trade"] = trade
            record["_kind"] = kind
            self._insert("services", record)
