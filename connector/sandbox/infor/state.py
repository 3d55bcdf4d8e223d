"""``GET /_sandbox/state`` for the Infor simulator: every record, with its company.

Values are the stored (unpadded) M3 strings. Invoice batches carry what a test needs to
spot a duplicate or a wrong posting at a glance: supplier, invoice number, amount, date,
correlation id, status and voucher, plus lines; vouchers carry their accounting strings
(AIT1 account, AIT2 cost center), recodes included.
"""

from __future__ import annotations

from typing import Any

from connector.sandbox.infor.data import InvoiceBatch, M3Database, Row
from connector.sandbox.infor.fields import names

_HIDDEN_PREFIXES = ("TARGET_", "NUMBER_")


def _public(row: Row) -> dict[str, str]:
    return {k: v for k, v in row.items() if not k.startswith(_HIDDEN_PREFIXES)}


def _batch(batch: InvoiceBatch) -> dict[str, Any]:
    head = batch.head
    rendered: dict[str, Any] = {
        "INBN": str(batch.inbn),
        "CONO": batch.cono,
        "DIVI": batch.divi,
        "kind": batch.kind,
        "status": batch.status,
    }
    for name in names(
        "SUNO SPYN SINO IVDT ACDT CUAM CUCD CORI PUNO SUPA IBHE VONO YEA4 VSER LMDT CHNO"
    ):
        rendered[name] = head.get(name, "")
    if batch.kind == "recode":
        rendered["target"] = {
            k[len("TARGET_") :]: v for k, v in head.items() if k.startswith("TARGET_")
        }
    rendered["lines"] = [_public(line) for line in batch.lines if batch.kind == "invoice"]
    rendered["recodes"] = [_public(line) for line in batch.lines if batch.kind == "recode"]
    return rendered


def render_state(db: M3Database, tenant: str) -> dict[str, Any]:
    """The whole database as plain JSON-able data, grouped by entity, with counts."""
    books = sorted(db.books.items())
    entities: dict[str, list[Any]] = {
        "suppliers": [_public(r) for _, b in books for _, r in sorted(b.suppliers.items())],
        "items": [_public(r) for _, b in books for _, r in sorted(b.items.items())],
        "master_data_duplicates": [_public(r) for _, b in books for r in b.duplicates],
        "purchase_orders": [
            {**_public(order.head), "lines": [_public(line) for line in order.lines]}
            for _, b in books
            for _, order in sorted(b.purchase_orders.items())
        ],
        "invoice_batches": [_batch(batch) for _, batch in sorted(db.batches.items())],
        "vouchers": [
            {
                "CONO": v.cono,
                "DIVI": v.divi,
                "YEA4": v.yea4,
                "VSER": v.vser,
                "VONO": v.vono,
                "INBN": str(v.inbn),
                "kind": v.kind,
                **{k: v.head.get(k, "") for k in names("SUNO SPYN SINO IVDT CUAM CUCD CORI")},
                "lines": [_public(line) for line in v.lines],
            }
            for v in db.vouchers
        ],
        "accounting_identities": [
            {"CONO": cono, **_public(row)}
            for cono, b in books
            for _, row in sorted(b.accounting.items())
        ],
    }
    return {
        "system": "infor",
        "tenant": tenant,
        "user": db.user,
        "default_company": {"CONO": db.default_cono, "DIVI": db.default_divi},
        "companies": [
            {
                "CONO": c.cono,
                "name": c.name,
                "country": c.country,
                "currency": c.currency,
                "divisions": sorted(c.divisions),
                "authorized": c.authorized,
            }
            for c in sorted(db.companies.values(), key=lambda c: int(c.cono))
        ],
        "entities": entities,
        "counts": {name: len(rows) for name, rows in entities.items()},
    }
