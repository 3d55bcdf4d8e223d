"""Rules of the documents beyond AR/AP invoices and payments: credit terms, sales orders,
GL batches and AP checks, reduced (like :mod:`.documents`) to what a client can observe.

Credit terms follow the Bills and Adjustments and Invoices and Memos help: a new document
takes the ``Terms`` of its vendor or customer, and its ``DueDate`` is the document date plus
the terms' days, unless the client sent those fields itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connector.sandbox.acumatica.schema import TERMS
from connector.sandbox.acumatica.store import Table
from connector.sandbox.acumatica.values import FieldError, parse_datetime

#: Half a cent: amounts closer than this are equal.
CENT_TOLERANCE = 0.005

#: Statuses after which a document is read-only (voided payments and checks).
FINAL_STATUSES = ("Voided",)
#: Sales order statuses set by actions, which saving the order keeps.
ORDER_ACTION_STATUSES = ("Canceled", "Shipping", "Completed", "Invoiced")

#: Which partner a document takes its credit terms from: (its field, the partner entity).
_TERMS_FROM = {"Bill": ("Vendor", "Vendor"), "Invoice": ("Customer", "Customer")}


def apply_terms(entity: str, values: dict[str, Any], tables: dict[str, Table]) -> None:
    """Default a new bill's or invoice's Terms from its partner, then its DueDate from them."""
    source = _TERMS_FROM.get(entity)
    if source is None:
        return
    field, partner_entity = source
    partner_id = values.get(field)
    if "Terms" not in values and isinstance(partner_id, str) and partner_id:
        partner = tables[partner_entity].find((partner_id.casefold(),))
        if partner is not None and partner.values.get("Terms"):
            values["Terms"] = partner.values["Terms"]
    days = TERMS.get(str(values.get("Terms") or ""))
    date = parse_datetime(str(values.get("Date") or ""))
    if "DueDate" not in values and days is not None and date is not None:
        values["DueDate"] = (date + timedelta(days=days)).isoformat()


def derive_other(entity: str, values: dict[str, Any], released: bool) -> None:
    """Totals and status of a sales order, GL batch or check (other entities: nothing)."""
    if entity == "SalesOrder":
        _sales_order(values)
    elif entity == "JournalTransaction":
        rows = values.get("Details") or []
        values["Status"] = "Posted" if released else "On Hold" if values.get("Hold") else "Balanced"
        for row in rows:
            row.setdefault("DebitAmount", 0.0)
            row.setdefault("CreditAmount", 0.0)
    elif entity == "Check":
        applied = sum(float(r.get("AmountPaid") or 0.0) for r in values.get("Details") or [])
        unapplied = round(float(values.get("PaymentAmount") or 0.0) - applied, 2)
        values["UnappliedBalance"] = unapplied
        if values.get("Status") in FINAL_STATUSES:
            return
        if released:
            values["Status"] = "Open" if unapplied > CENT_TOLERANCE else "Closed"
        else:
            values["Status"] = "On Hold" if values.get("Hold") else "Balanced"


def _sales_order(values: dict[str, Any]) -> None:
    total = quantity = 0.0
    for row in values.get("Details") or []:
        qty = float(row.get("OrderQty") or 0.0)
        if row.get("UnitPrice") is not None:
            row["ExtendedPrice"] = round(qty * float(row["UnitPrice"]), 2)
        row["Amount"] = round(
            float(row.get("ExtendedPrice") or 0.0) - float(row.get("DiscountAmount") or 0.0), 2
        )
        row.setdefault("OpenQty", qty)
        total += row["Amount"]
        quantity += qty
    values["OrderTotal"] = round(total, 2)
    values["OrderedQty"] = quantity
    if values.get("Status") not in ORDER_ACTION_STATUSES:
        values["Status"] = "On Hold" if values.get("Hold") else "Open"
        values["CreditHold"] = False


def credit_hold(order: dict[str, Any], customers: Table) -> None:
    """An open order over its customer's credit limit goes on Credit Hold (the credit
    verification of the Sales Orders screen) until released from it; a release approves
    the total it was given for (``_creditApproved``), so only a larger one holds it again."""
    customer = customers.find((str(order.get("CustomerID") or "").casefold(),))
    limit = float((customer.values.get("CreditLimit") or 0.0) if customer else 0.0)
    total = float(order.get("OrderTotal") or 0.0)
    approved = float(order.get("_creditApproved") or 0.0)
    if order.get("Status") == "Open" and limit > 0 and total > max(limit, approved):
        order["Status"] = "Credit Hold"
        order["CreditHold"] = True


def check_applications(check: dict[str, Any], bills: Table) -> list[FieldError]:
    """Errors of a check's Details (the bills it pays); fills DocType, AmountPaid and
    PaymentAmount where the client left them out, as the Checks and Payments screen does."""
    errors: list[FieldError] = []
    total = 0.0
    for index, row in enumerate(check.get("Details") or []):
        path: tuple[str | int, ...] = ("Details", index)
        row.setdefault("DocType", "Bill")
        number = row.get("ReferenceNbr")
        bill = bills.find((str(row["DocType"]).casefold(), str(number or "").casefold()))
        label = f"{row['DocType']} {number}"
        if bill is None or not number:
            errors.append(
                FieldError(
                    (*path, "ReferenceNbr"),
                    f"'Reference Nbr.' cannot be found in the system: no {label} exists.",
                )
            )
            continue
        if bill.values.get("Vendor") != check.get("Vendor"):
            errors.append(
                FieldError(
                    (*path, "ReferenceNbr"),
                    f"{label} belongs to vendor "
                    f"{bill.values.get('Vendor')}, not {check.get('Vendor')}.",
                )
            )
            continue
        if not bill.released:
            errors.append(
                FieldError(
                    (*path, "ReferenceNbr"),
                    f"{label} is not released; release it (ReleaseBill) before paying it.",
                )
            )
            continue
        balance = float(bill.values.get("Balance") or 0.0)
        if balance <= CENT_TOLERANCE:
            errors.append(
                FieldError(
                    (*path, "ReferenceNbr"),
                    f"{label} is closed: it has no open balance left to pay.",
                )
            )
            continue
        amount = row.setdefault("AmountPaid", balance)
        if amount > balance + CENT_TOLERANCE:
            errors.append(
                FieldError(
                    (*path, "AmountPaid"),
                    f"'AmountPaid' {amount} exceeds the open balance {balance:.2f} of {label}.",
                )
            )
        row["Balance"] = round(balance - amount, 2)
        total += amount
    check.setdefault("PaymentAmount", round(total, 2))
    return errors


def paid_by_checks(checks: Table, bill: dict[str, Any]) -> float:
    """What released checks have paid of ``bill`` (its Balance is Amount minus this)."""
    key = (str(bill.get("Type", "")).casefold(), str(bill.get("ReferenceNbr", "")).casefold())
    return round(
        sum(
            float(row.get("AmountPaid") or 0.0)
            for check in checks.records.values()
            if check.released and check.values.get("Status") not in FINAL_STATUSES
            for row in check.values.get("Details") or []
            if (str(row.get("DocType", "")).casefold(), str(row.get("ReferenceNbr", "")).casefold())
            == key
        ),
        2,
    )


def release_errors(entity: str, values: dict[str, Any], label: str) -> list[FieldError]:
    """Why a document cannot be released yet: a GL batch must have lines and balance."""
    if entity != "JournalTransaction":
        return []
    rows = values.get("Details") or []
    debit = sum(float(r.get("DebitAmount") or 0.0) for r in rows)
    credit = sum(float(r.get("CreditAmount") or 0.0) for r in rows)
    if not rows:
        return [FieldError(("Details",), f"{label} has no lines to post.")]
    if abs(debit - credit) > CENT_TOLERANCE:
        return [
            FieldError(
                ("Details",),
                f"{label} is out of balance: debits {debit:.2f}, "
                f"credits {credit:.2f}; correct the lines before releasing it.",
            )
        ]
    return []
