"""Realistic tenant data: seeded history and "it just happened" records.

:class:`Seeder` draws every choice from the ``random.Random`` it is given and every instant
from the ``stamp`` callable, so ``/_sandbox/seed`` (a seeded generator and a synthetic
timeline) is reproducible to the last tick, while ``/_sandbox/generate`` (the live clock)
creates records "now" and lets the store notify webhook subscribers.

Jobs and invoices come in pairs: ServiceTitan opens an invoice with every job, so seeding
creates ``max(jobs, invoices)`` of each.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from connector.sandbox.servicetitan import catalog, procurement, relations, sales
from connector.sandbox.servicetitan.records import day_of, gl_ref
from connector.sandbox.servicetitan.seed_reference import ReferenceSeeder
from connector.sandbox.servicetitan.sources import generated_ids
from connector.sandbox.servicetitan.wire import (
    TICKS_PER_SECOND,
    ApiError,
    Record,
    dec,
    format_ticks,
    money,
    parse_ticks,
)

DEFAULT_COUNTS: dict[str, int] = {
    "business_units": 6,
    "tax_zones": 4,
    "gl_accounts": 20,
    "vendors": 200,
    "materials": 150,
    "equipment": 150,
    "services": 40,
    "customers": 300,
    "jobs": 1000,
    "invoices": 1000,
    "payments": 600,
    "purchase_orders": 400,
    "received_purchase_orders": 300,
    "adjustments": 25,
}

#: ``/_sandbox/generate`` entity names (the seed count keys that make sense one at a time).
GENERATABLE = (
    "vendors",
    "materials",
    "equipment",
    "services",
    "customers",
    "jobs",
    "invoices",
    "payments",
    "purchase_orders",
    "received_purchase_orders",
    "adjustments",
)

#: Seeded history starts here: fixed, so a seed reproduces the same timestamps.
SEED_ANCHOR = "2026-01-05T14:00:00Z"


class Timeline:
    """Synthetic, strictly increasing instants for seeded history (minutes to hours apart)."""

    def __init__(self, rng: random.Random, start: str = SEED_ANCHOR) -> None:
        self._rng = rng
        self.ticks = parse_ticks(start) or 0

    def next(self) -> str:
        self.ticks += self._rng.randint(60, 3600) * TICKS_PER_SECOND + self._rng.randrange(
            TICKS_PER_SECOND
        )
        return format_ticks(self.ticks)


class Seeder(ReferenceSeeder):
    """Creates a consistent tenant: reference data first, then customers, jobs and invoices,
    payments, purchasing and adjustments."""

    # -- customers, jobs, invoices, payments ----------------------------------------------
    def customers(self, count: int) -> None:
        zones = self.store.table("tax_zones").all()
        for _ in range(count):
            commercial = self.rng.random() < 0.2
            if commercial:
                first, second = catalog.COMMERCIAL_WORDS
                name = f"{self.rng.choice(first)} {self.rng.choice(second)}"
            else:
                name = (
                    f"{self.rng.choice(catalog.FIRST_NAMES)} {self.rng.choice(catalog.LAST_NAMES)}"
                )
            address, zone_index = self._address()
            address |= {
                "latitude": round(self.rng.uniform(39.55, 39.95), 6),
                "longitude": round(self.rng.uniform(-105.15, -104.75), 6),
            }
            phone = f"720555{self.rng.randint(1000, 9999)}"
            body: Record = {
                "name": name,
                "type": "Commercial" if commercial else "Residential",
                "address": address,
                "contacts": [{"type": "MobilePhone", "value": phone}],
            }
            stamp = self.stamp()
            record = sales.customer(self.store, stamp, body)
            zone_id = zones[zone_index % len(zones)]["id"] if zones else None
            place = sales.location(
                self.store,
                stamp,
                record["id"],
                {
                    "name": name if not commercial else f"{name} - Main",
                    "address": address,
                    "contacts": body["contacts"],
                },
                zone_id,
            )
            record["_locations"].append(place)
            self._insert("customers", record)

    def _lines(self, trade: str, install: bool) -> list[tuple[Record, str, Decimal]]:
        def of(table: str, **match: str) -> list[Record]:
            return [
                r for r in self._rows(table) if all(r.get("_" + k) == v for k, v in match.items())
            ]

        lines: list[tuple[Record, str, Decimal]] = []
        services = (
            of("services", trade=trade, kind="install" if install else "service")
            or of("services", trade=trade)
            or self._rows("services")
        )
        if services:
            lines.append((self.rng.choice(services), "services", Decimal(1)))
        if install:
            equipment = of("equipment", trade=trade) or self._rows("equipment")
            if equipment:
                lines.append((self.rng.choice(equipment), "equipment", Decimal(1)))
        materials = of("materials", trade=trade) or self._rows("materials")
        for material in self.rng.sample(materials, min(len(materials), self.rng.randint(0, 4))):
            lines.append((material, "materials", Decimal(self.rng.randint(1, 3))))
        return lines

    def job_with_invoice(self) -> tuple[Record, Record]:
        customer = self._pick("customers")
        unit = self._pick("business_units")
        trade = unit["_trade"]
        install = "Install" in unit["name"] or (
            unit["name"] == "Water Heaters" and self.rng.random() < 0.5
        )
        job_type = "Install" if install else self.rng.choice(("Service", "Service", "Maintenance"))
        place = customer["_locations"][0] if customer["_locations"] else None
        zone = (
            self.store.table("tax_zones").get(place["taxZoneId"])
            if place and place["taxZoneId"]
            else None
        )
        stamp = self.stamp()
        job = sales.job(
            self.store,
            stamp,
            customer_id=customer["id"],
            location_id=place["id"] if place else 0,
            business_unit_id=unit["id"],
            job_type_id=catalog.JOB_TYPES[job_type.lower()],
            campaign_id=self.rng.choice(catalog.CAMPAIGNS),
            status="Completed",
            completed_on=stamp,
            summary=self.rng.choice(catalog.JOB_SUMMARIES[trade]),
            total=None,
        )
        sync = self.rng.choices(("Pending", "Posted", "Exported"), (75, 15, 10))[0]
        term = (
            self.rng.choice(catalog.TERMS)
            if customer["type"] == "Commercial"
            else "Due Upon Receipt"
        )
        invoice = sales.invoice(
            self.store,
            stamp,
            job_record=job,
            job_type=job_type,
            customer_record=customer,
            location_record=place
            or {"id": 0, "name": customer["name"], "address": customer["address"]},
            business_unit=unit,
            zone=zone,
            created_by=self.rng.choice(catalog.OFFICE_STAFF),
            term=term,
            sync_status=sync,
        )
        technician = 60_000 + self.rng.randrange(len(catalog.TECHNICIANS))
        for order, (sku_record, kind, qty) in enumerate(self._lines(trade, install), start=1):
            revenue = catalog.REVENUE_ACCOUNT[(trade, "install" if install else "service")]
            invoice["items"].append(
                sales.invoice_item(
                    self.store,
                    stamp,
                    sku_record=sku_record,
                    kind=kind,
                    qty=qty,
                    price=dec(sku_record["price"]),
                    order=order,
                    business_unit=unit,
                    revenue_account=gl_ref(self.store, revenue),
                    cost_account=gl_ref(self.store, "5000" if kind == "materials" else "5010"),
                    asset_account=gl_ref(self.store, "1400"),
                    technician_id=technician,
                )
            )
        rate = dec(zone["rates"][0]["taxRate"]) if zone else Decimal(0)
        sales.recompute_invoice(invoice, rate)
        invoice["_taxRate"] = str(rate)
        if self.rng.random() < 0.02:
            invoice["active"] = False
        job["invoiceId"] = invoice["id"]
        # Private: the job model names no technician; appointment filters read this one.
        job["_technicianId"] = technician
        job["total"] = float(dec(invoice["total"]))
        self._insert("jobs", job)
        self._insert("invoices", invoice)
        return job, invoice

    def payments(self, count: int) -> None:
        open_invoices = [inv for inv in self._rows("invoices") if dec(inv["balance"]) > 0]
        self.rng.shuffle(open_invoices)
        undeposited = gl_ref(self.store, "1050")
        for invoice in open_invoices[:count]:
            balance = dec(invoice["balance"])
            amount = (
                balance if self.rng.random() < 0.85 else (balance / 2).quantize(Decimal("0.01"))
            )
            type_index = self.rng.randrange(len(catalog.PAYMENT_TYPES))
            stamp = self.stamp()
            payment = sales.payment(
                self.store,
                stamp,
                invoice_record=invoice,
                amount=amount,
                payment_type=catalog.PAYMENT_TYPES[type_index],
                type_id=61 + type_index,
                created_by=self.rng.choice(catalog.OFFICE_STAFF),
                undeposited=undeposited,
            )
            self._insert("payments", payment)
            invoice["balance"] = money(balance - amount)
            if balance - amount == 0:
                invoice["paidOn"] = day_of(stamp)
            self._touch("invoices", invoice, stamp)

    # -- purchasing -----------------------------------------------------------------------
    def purchase_order(self, *, receive: bool) -> Record:
        vendor = self._pick("vendors")
        unit = self._pick("business_units")
        place = self._pick("warehouses")
        types = self._rows("purchase_order_types")
        standard = next((t for t in types if not t["automaticallyReceive"]), None) or self._pick(
            "purchase_order_types"
        )
        goods = self._rows("materials") if self.rng.random() < 0.85 else self._rows("equipment")
        goods = goods or self._rows("materials") or self._rows("equipment")
        if not goods:
            raise ApiError(409, "No materials or equipment exist yet: seed the sandbox first.")
        stamp = self.stamp()
        equipment = self.store.table("equipment").rows
        items = [
            {
                "skuId": sku_record["id"],
                "description": sku_record["description"],
                "vendorPartNumber": (sku_record.get("primaryVendor") or {}).get("vendorPart") or "",
                # Stock comes by the case; equipment a unit or two at a time.
                "quantity": self.rng.choice(
                    (1, 1, 2, 3) if sku_record["id"] in equipment else (1, 2, 4, 6, 12, 24)
                ),
                "cost": sku_record["cost"],
            }
            for sku_record in self.rng.sample(goods, min(len(goods), self.rng.randint(1, 5)))
        ]
        subtotal = sum(Decimal(str(i["quantity"])) * dec(i["cost"]) for i in items)
        body: Record = {
            "vendorId": vendor["id"],
            "typeId": standard["id"],
            "businessUnitId": unit["id"],
            "inventoryLocationId": place["id"],
            "shipTo": {"description": place["name"], "address": place["address"]},
            "impactsTechnicianPayroll": False,
            "memo": f"Stock replenishment - {place['name']}",
            "date": day_of(stamp),
            "requiredOn": day_of(stamp, 3),
            "tax": float((subtotal * Decimal("0.0881")).quantize(Decimal("0.01")))
            if self.rng.random() < 0.5
            else 0.0,
            "shipping": self._money(15, 75) if self.rng.random() < 0.4 else 0.0,
            "items": items,
        }
        po = procurement.purchase_order(self.store, stamp, body, created_by_id=50_001)
        po["status"], po["sentOn"] = "Sent", stamp
        self._insert("purchase_orders", po)
        if receive:
            self.receive(po, partial=self.rng.random() < 0.1)
        return po

    def receive(self, po: Record, *, partial: bool) -> None:
        """Receive a PO through the same path as ``POST /receipts``."""
        stamp = self.stamp()
        lines = [
            {
                "purchaseOrderItemId": item["id"],
                "skuId": item["skuId"],
                "quantity": item["quantity"]
                if not (partial and n == 0)
                else max(1.0, item["quantity"] // 2),
                "cost": item["cost"],
            }
            for n, item in enumerate(po["items"])
        ]
        body: Record = {
            "purchaseOrderId": po["id"],
            "dateReceived": stamp,
            "tax": po["tax"],
            "shipping": po["shipping"],
            "items": lines,
            "vendorDocumentNumber": f"{self.rng.randint(1000000, 9999999)}",
        }
        receipt, inventory_bill, ap_bill = procurement.receive(
            self.store,
            stamp,
            po,
            body,
            create_bill=self.create_bills,
            created_by=self.rng.choice(catalog.OFFICE_STAFF),
        )
        self._touch("purchase_orders", po, stamp)
        self._insert("receipts", receipt)
        if inventory_bill is not None and ap_bill is not None:
            self._insert("inventory_bills", inventory_bill)
            self._insert("ap_bills", ap_bill)

    def adjustments(self, count: int) -> None:
        materials = self._rows("materials")
        for _ in range(count):
            place = self._pick("warehouses")
            picked = self.rng.sample(materials, min(len(materials), self.rng.randint(1, 3)))
            lines = [(m, Decimal(self.rng.choice((-5, -3, -2, -1, 1, 2)))) for m in picked]
            self._insert(
                "adjustments",
                procurement.adjustment(
                    self.store,
                    self.stamp(),
                    warehouse_id=place["id"],
                    business_unit_id=None,
                    lines=lines,
                    memo=self.rng.choice(
                        ("Cycle count correction", "Damaged on truck", "Shrinkage", "Found in bin")
                    ),
                    created_by_id=50_001,
                ),
            )

    # -- entry points ---------------------------------------------------------------------
    def seed(self, counts: dict[str, int]) -> None:
        """Create a whole tenant in dependency order."""
        self.business_units(counts["business_units"])
        self.tax_zones(counts["tax_zones"])
        self.gl_accounts(counts["gl_accounts"])
        self.warehouses_and_types()
        self.vendors(counts["vendors"])
        self.materials(counts["materials"])
        self.equipment(counts["equipment"])
        self.services(counts["services"])
        self.customers(counts["customers"])
        if self.store.table("customers").rows and self.store.table("business_units").rows:
            for _ in range(max(counts["jobs"], counts["invoices"])):
                self.job_with_invoice()
            relations.assign_projects(
                self.store.table("jobs").all(), generated_ids("jpm", "projects")
            )
        self.payments(counts["payments"])
        received = min(counts["received_purchase_orders"], counts["purchase_orders"])
        chosen = set(self.rng.sample(range(counts["purchase_orders"]), received))
        if self._rows("vendors") and self._rows("business_units"):
            for index in range(counts["purchase_orders"]):
                self.purchase_order(receive=index in chosen)
        if self._rows("materials"):
            self.adjustments(counts["adjustments"])

    def generate(self, entity: str, count: int) -> None:
        """Create ``count`` new ``entity`` records now (``/_sandbox/generate``)."""
        simple: dict[str, Callable[[int], None]] = {
            "vendors": self.vendors,
            "materials": self.materials,
            "equipment": self.equipment,
            "services": self.services,
            "customers": self.customers,
            "payments": self.payments,
            "adjustments": self.adjustments,
        }
        if entity in simple:
            simple[entity](count)
        elif entity in ("jobs", "invoices"):
            for _ in range(count):
                self.job_with_invoice()
        elif entity in ("purchase_orders", "received_purchase_orders"):
            for _ in range(count):
                self.purchase_order(receive=entity == "received_purchase_orders")
        else:
            raise ApiError.invalid(
                "entity", f"Unknown entity '{entity}': use one of {', '.join(GENERATABLE)}."
            )
