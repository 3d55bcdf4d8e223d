"""Document arithmetic: line amounts, totals, balances, statuses and payment applications.

These are the computations the Bills and Adjustments, Invoices and Memos and Payments and
Applications screens perform on save, reduced to what a client can observe through the API.
"""

from __future__ import annotations

from typing import Any

from connector.sandbox.acumatica.rules import derive_other
from connector.sandbox.acumatica.store import Record, Table
from connector.sandbox.acumatica.values import FieldError

#: Half a cent: amounts closer than this are equal.
CENT_TOLERANCE = 0.005

InvoiceKey = tuple[str, str]


def invoice_key(doc_type: Any, number: Any) -> InvoiceKey:
    """The lookup key of an invoice (Type, ReferenceNbr), case-insensitive like the table."""
    return (str(doc_type or "").casefold(), str(number or "").casefold())


class Applications:
    """What each payment applies to each invoice, kept current as payments are saved."""

    def __init__(self) -> None:
        self._by_invoice: dict[InvoiceKey, dict[str, float]] = {}
        self._by_payment: dict[str, set[InvoiceKey]] = {}

    def record(self, payment_id: str, rows: list[dict[str, Any]]) -> set[InvoiceKey]:
        """Replace a payment's applications; returns every invoice whose balance may change."""
        touched = self._by_payment.pop(payment_id, set())
        for key in touched:
            self._by_invoice.get(key, {}).pop(payment_id, None)
        current: set[InvoiceKey] = set()
        for row in rows:
            key = invoice_key(row.get("DocType"), row.get("ReferenceNbr"))
            amounts = self._by_invoice.setdefault(key, {})
            amounts[payment_id] = amounts.get(payment_id, 0.0) + float(row.get("AmountPaid") or 0)
            current.add(key)
        if current:
            self._by_payment[payment_id] = current
        return touched | current

    def applied(self, key: InvoiceKey, exclude: str | None = None) -> float:
        """The total applied to an invoice by all payments except ``exclude``."""
        return sum(
            amount
            for payment_id, amount in self._by_invoice.get(key, {}).items()
            if payment_id != exclude
        )


def line_amounts(entity: str, row: dict[str, Any]) -> None:
    """Fill a Bill line's ExtendedCost/Amount or an Invoice line's ExtendedPrice/Amount."""
    qty = row.get("Qty")
    quantity = 1.0 if qty is None else float(qty)
    if entity == "Bill":
        if row.get("UnitCost") is not None:
            row["ExtendedCost"] = round(quantity * float(row["UnitCost"]), 2)
        elif row.get("ExtendedCost") is None and row.get("Amount") is not None:
            row["ExtendedCost"] = row["Amount"]
        row["Amount"] = row.get("ExtendedCost") or 0.0
    else:
        if row.get("UnitPrice") is not None:
            row["ExtendedPrice"] = round(quantity * float(row["UnitPrice"]), 2)
            row["Amount"] = round(row["ExtendedPrice"] - float(row.get("DiscountAmount") or 0), 2)
        row.setdefault("Amount", 0.0)


def derive(entity: str, values: dict[str, Any], released: bool, applied: float) -> None:
    """Totals, balance and status of a document; ``applied`` is what payments cover of it."""
    if entity in ("Bill", "Invoice"):
        rows = values.get("Details") or []
        for row in rows:
            line_amounts(entity, row)
            if "BranchID" in values:
                row.setdefault("Branch", values["BranchID"])
        if "Details" in values:
            values["Amount"] = round(sum((float(r.get("Amount") or 0.0) for r in rows), 0.0), 2)
        values.setdefault("Amount", 0.0)
        values["Balance"] = round(float(values["Amount"]) - applied, 2)
        open_amount = values["Balance"]
    elif entity == "Payment":
        total = sum(float(r.get("AmountPaid") or 0.0) for r in values.get("DocumentsToApply") or [])
        values["AppliedToDocuments"] = round(total, 2)
        values["AvailableBalance"] = round(float(values.get("PaymentAmount") or 0) - total, 2)
        open_amount = values["AvailableBalance"]
    else:
        derive_other(entity, values, released)
        return
    if values.get("Status") == "Voided":
        return  # a voided payment keeps that status (the Void action)
    if not released:
        values["Status"] = "On Hold" if values.get("Hold") else "Balanced"
    else:
        values["Status"] = "Open" if open_amount > CENT_TOLERANCE else "Closed"


def application_errors(
    payment: dict[str, Any],
    invoices: Table,
    applications: Applications,
    require_release: bool,
) -> list[FieldError]:
    """Errors of a payment's DocumentsToApply; fills DocType, AmountPaid and PaymentAmount
    where the client left them out (defaults the real screen applies)."""
    errors: list[FieldError] = []
    applied_here: dict[InvoiceKey, float] = {}
    total = 0.0
    for index, row in enumerate(payment.get("DocumentsToApply") or []):
        path: tuple[str | int, ...] = ("DocumentsToApply", index)
        row.setdefault("DocType", "Invoice")
        number = row.get("ReferenceNbr")
        label = f"{row['DocType']} {number}"
        key = invoice_key(row["DocType"], number)
        invoice = invoices.find(key) if number else None
        problem = _problem(invoice, number, label, payment, require_release)
        if problem is not None or invoice is None:
            errors.append(FieldError((*path, "ReferenceNbr"), problem or label))
            continue
        open_balance = (
            float(invoice.values.get("Amount") or 0.0)
            - applications.applied(key, exclude=payment["id"])
            - applied_here.get(key, 0.0)
        )
        amount = row.get("AmountPaid")
        if amount is None:
            amount = row["AmountPaid"] = round(max(open_balance, 0.0), 2)
        if amount > open_balance + CENT_TOLERANCE:
            errors.append(
                FieldError(
                    (*path, "AmountPaid"),
                    f"'AmountPaid' {amount} exceeds the "
                    f"open balance {open_balance:.2f} of {label}.",
                )
            )
        applied_here[key] = applied_here.get(key, 0.0) + amount
        total += amount
    payment_amount = payment.get("PaymentAmount")
    if payment_amount is None:
        payment["PaymentAmount"] = round(total, 2)
    elif total > payment_amount + CENT_TOLERANCE:
        errors.append(
            FieldError(
                ("PaymentAmount",),
                f"The applications total {total:.2f}, more "
                f"than the payment amount {payment_amount:.2f}; lower them or "
                "raise PaymentAmount.",
            )
        )
    return errors


def _problem(
    invoice: Record | None,
    number: Any,
    label: str,
    payment: dict[str, Any],
    require_release: bool,
) -> str | None:
    if not number:
        return "'ReferenceNbr' cannot be empty; name the invoice to apply the payment to."
    if invoice is None:
        return f"'Reference Nbr.' cannot be found in the system: no {label} exists."
    customer = invoice.values.get("Customer")
    if customer != payment.get("CustomerID"):
        return (
            f"{label} belongs to customer {customer}, not {payment.get('CustomerID')}; "
            "apply it from that customer's payment."
        )
    if require_release and not invoice.released:
        return f"{label} is not released; release it (ReleaseInvoice) before applying it."
    return None
