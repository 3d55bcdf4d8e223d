"""Deterministic reference data and documents for ``POST /_sandbox/seed``.

Rows are written in blocks that share one ``sys_updated_on`` second (``per_second`` rows per
second), because on real instances hundreds of rows often do, and a cursor that is not
exact about ties skips or repeats them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from connector.sandbox.servicenow.knobs import SERVICE_USER
from connector.sandbox.servicenow.schema import TABLES
from connector.sandbox.servicenow.store import Instance

DEFAULT_COUNTS = {
    "suppliers": 8,
    "gl_accounts": 12,
    "cost_centers": 6,
    "purchase_orders": 10,
    "invoices": 30,
    "outbound_invoices": 5,
}
ERP_SOURCE = "M3"
_START = datetime(2025, 3, 1, 8, 0, 0)


class Seeder:
    def __init__(self, instance: Instance, seed: int, per_second: int) -> None:
        self.instance = instance
        self.rng = random.Random(seed)
        self.per_second = max(1, per_second)
        self.written = 0

    def add(self, table: str, values: dict[str, str]) -> dict[str, str]:
        second = _START + timedelta(seconds=self.written // self.per_second)
        self.written += 1
        return self.instance.insert(
            TABLES[table],
            values,
            user=SERVICE_USER,
            at=second.strftime("%Y-%m-%d %H:%M:%S"),
            sys_id=f"{self.rng.getrandbits(128):032x}",
        )

    def money(self, low: int, high: int) -> str:
        return f"{self.rng.randint(low * 100, high * 100) / 100:.2f}"


def seed_instance(
    instance: Instance, seed: int, counts: dict[str, int], per_second: int
) -> dict[str, int]:
    """Fill a fresh instance; returns rows written per table."""
    want = DEFAULT_COUNTS | counts
    s = Seeder(instance, seed, per_second)
    entities = [
        s.add("sn_fin_legal_entity", {"code": code, "name": name})
        for code, name in (("US01", "Acme US Inc."), ("CA01", "Acme Canada Ltd."))
    ]
    suppliers = []
    for n in range(want["suppliers"]):
        company = s.add(
            "core_company",
            {
                "name": f"Supplier {n + 1:03d} LLC",
                "vendor": "true",
                "supplier_code": f"V{10000 + n}",
            },
        )
        suppliers.append(
            s.add(
                "sn_fin_supplier",
                {
                    "name": company["name"],
                    "company": company["sys_id"],
                    "erp_supplier_id": f"V{10000 + n}",
                    "erp_source": ERP_SOURCE,
                    "active": "true",
                },
            )
        )
    accounts = [
        s.add(
            "sn_fin_gl_account",
            {
                "number": f"{6000 + 10 * n}",
                "account_name": f"Expense {n + 1}",
                "entity": entities[n % 2]["sys_id"],
                "type": "expense",
                "erp_source": ERP_SOURCE,
                "active": "true",
            },
        )
        for n in range(want["gl_accounts"])
    ]
    centers = [
        s.add(
            "cmn_cost_center",
            {
                "code": f"CC{100 + n}",
                "name": f"Cost center {100 + n}",
                "legal_entity": entities[n % 2]["sys_id"],
                "valid_from": "2024-01-01",
                "valid_to": "2030-12-31",
                "erp_source": ERP_SOURCE,
                "active": "true",
            },
        )
        for n in range(want["cost_centers"])
    ]
    orders = [
        s.add(
            "sn_shop_purchase_order",
            {
                "erp_po_number": f"PO-{70000 + n}",
                "erp_source": ERP_SOURCE,
                "supplier": suppliers[n % len(suppliers)]["sys_id"] if suppliers else "",
                "total_amount": s.money(100, 9000),
                "state": "ordered",
            },
        )
        for n in range(want["purchase_orders"])
    ]
    for n in range(want["invoices"]):
        invoice = s.add(
            "sn_shop_invoice",
            {
                "supplier": suppliers[n % len(suppliers)]["sys_id"] if suppliers else "",
                "purchase_order": orders[n % len(orders)]["sys_id"] if orders else "",
                "external_invoice_number": f"SUP-{88000 + n}",
                "external_invoice_source": "M3",
                "erp_source": ERP_SOURCE,
                "invoice_date": f"2025-02-{1 + n % 28:02d}",
                "other_charges": "0.00",
                "subtotal": s.money(50, 5000),
                "currency": "USD",
                "state": "approved",
            },
        )
        if accounts and centers:
            s.add(
                "sn_shop_invoice_line",
                {
                    "invoice": invoice["sys_id"],
                    "erp_line_number": "1",
                    "line_description": "Service call parts",
                    "cost_center": centers[n % len(centers)]["sys_id"],
                    "gl_account": accounts[n % len(accounts)]["sys_id"],
                    "line_quantity": "1",
                    "line_unit_price": invoice["subtotal"],
                    "subtotal": invoice["subtotal"],
                    "erp_source": ERP_SOURCE,
                },
            )
    for n in range(want["outbound_invoices"]):
        s.add(
            "sn_spend_intg_outbound_invoice",
            {
                "supplier_invoice_number": f"SUP-{88000 + n}",
                "invoice_date": "2025-03-01",
                "subtotal": s.money(50, 5000),
                "erp_source": ERP_SOURCE,
                "erp_number": "",
                "integration_status": "new",
                "processing_message": "",
            },
        )
    return {name: len(rows) for name, rows in instance.rows.items() if rows}
