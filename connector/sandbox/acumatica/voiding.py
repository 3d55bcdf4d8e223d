"""Actions that undo AP/AR documents, as the Bills and Adjustments, Checks and Payments and
Payments and Applications screens describe them, reduced to what a client observes:

* ``ReverseBill`` — a released bill (or credit adjustment) gets a new, unreleased debit
  adjustment with the same vendor and lines; a debit adjustment is reversed by a bill.
* ``ReleaseRetainage`` — only bills entered with retainage have any to release; the
  Default endpoint's Bill carries no retainage fields, so every bill answers 422 saying so.
* ``VoidCheck`` / ``VoidPayment`` — a released check or payment becomes Voided, a voiding
  document (``Voided Check`` / ``Voided Payment``, same number, released) records it, and
  the bills or invoices it paid get their balances back. Unreleased ones are deleted
  instead, as the screens say.
* Card payments: ``CardOperation`` records a transaction processed outside Acumatica
  (``TranType`` AUT authorize, AAC authorize and capture, PAC capture authorized, CDT
  refund, VDG void); ``CaptureCreditCardPayment`` captures an authorization; a captured
  payment is released. ``VoidCardPayment`` voids the card transaction and the payment.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.acumatica.action_call import ActionCall
from connector.sandbox.acumatica.store import Record

#: What reverses what on the Bills and Adjustments screen.
_REVERSING_TYPE = {"Bill": "Debit Adj.", "Credit Adj.": "Debit Adj.", "Debit Adj.": "Bill"}
#: Card transaction types, by the code CardOperation takes.
CARD_TRANSACTIONS = {
    "AUT": "Authorize Only", "AAC": "Authorize and Capture", "PAC": "Capture Authorized",
    "CDT": "Refund", "VDG": "Void",
}  # fmt: skip
_LINE_FIELDS = (
    "Account",
    "Subaccount",
    "Branch",
    "InventoryID",
    "TransactionDescription",
    "Qty",
    "UnitCost",
    "ExtendedCost",
    "UOM",
)


def reverse_bill(call: ActionCall) -> Record:
    doc_type = str(call.values.get("Type"))
    if not call.record.released:
        raise call.refuse(
            f"{call.label} is not released; only a released document can be "
            "reversed (delete it instead)."
        )
    reversing = _REVERSING_TYPE.get(doc_type)
    if reversing is None:
        raise call.refuse(f"A {doc_type} cannot be reversed; reverse its application instead.")
    lines = [
        {k: row[k] for k in _LINE_FIELDS if row.get(k) is not None}
        for row in call.values.get("Details") or []
    ]
    patch: dict[str, Any] = {
        "Type": reversing,
        "Vendor": call.values.get("Vendor"),
        "Description": f"Reversal of {doc_type} {call.values.get('ReferenceNbr')}",
        "Details": lines,
    }
    for name in ("BranchID", "Terms", "CurrencyID"):
        if call.values.get(name) is not None:
            patch[name] = call.values[name]
    return call.tenant.upsert(
        "Bill", patch, insert_only=True, update_only=False, branch=call.branch, rules=call.rules
    )


def release_retainage(call: ActionCall) -> Record:
    raise call.refuse(
        f"{call.label} has no unreleased retainage: it was not entered with retainage.", "Amount"
    )


def void_check(call: ActionCall) -> Record:
    return _void(call, "Voided Check")


def void_payment(call: ActionCall) -> Record:
    return _void(call, "Voided Payment")


def _void(call: ActionCall, voiding_type: str) -> Record:
    if call.values.get("Status") == "Voided":
        raise call.refuse(f"{call.label} is already voided.")
    if not call.record.released:
        raise call.refuse(f"{call.label} is not released; delete it instead of voiding it.")
    call.tenant.void(call.entity, call.record)
    amount = -float(call.values.get("PaymentAmount") or 0.0)
    values = {
        **{k: v for k, v in call.values.items() if not isinstance(v, list)},
        "id": str(uuid.uuid4()),
        "Type": voiding_type,
        "Status": "Closed",
        "PaymentAmount": amount,
        "Description": f"Void of {call.label}",
    }
    return call.tenant.insert_system_document(call.entity, values)


def card_operation(call: ActionCall) -> Record:
    code = str(call.params.get("TranType") or "").upper()
    if code not in CARD_TRANSACTIONS:
        raise call.refuse(
            f"'TranType' must be one of {', '.join(CARD_TRANSACTIONS)}; got "
            f"{call.params.get('TranType')!r}.",
            "PaymentMethod",
        )
    number = call.params.get("TranNbr")
    if not number:
        raise call.refuse(
            "'TranNbr' cannot be empty: give the processing center's transaction number.",
            "PaymentMethod",
        )
    _record(call, code, str(number), call.params.get("AuthNumber"), call.params.get("OrigTranNbr"))
    if code == "VDG":
        return _void_card(call)
    if code in ("AAC", "PAC"):
        return _captured(call)
    return call.tenant.save(call.entity, call.record)


def capture(call: ActionCall) -> Record:
    rows = _transactions(call)
    authorized = [r for r in rows if r.get("TranType") == CARD_TRANSACTIONS["AUT"]]
    captured = {
        r.get("OrigTranNbr")
        for r in rows
        if r.get("TranType") in (CARD_TRANSACTIONS["PAC"], CARD_TRANSACTIONS["AAC"])
    }
    pending = [r for r in authorized if r.get("TranNbr") not in captured]
    if not pending:
        raise call.refuse(f"{call.label} has no authorized card transaction to capture.")
    source = pending[-1]
    _record(call, "PAC", f"{source['TranNbr']}-C", source.get("AuthNbr"), source["TranNbr"])
    return _captured(call)


def void_card(call: ActionCall) -> Record:
    if not _transactions(call):
        raise call.refuse(f"{call.label} has no card transaction to void.")
    last = _transactions(call)[-1]
    _record(call, "VDG", f"{last.get('TranNbr')}-V", last.get("AuthNbr"), last.get("TranNbr"))
    return _void_card(call)


def _void_card(call: ActionCall) -> Record:
    if call.record.released:
        return _void(call, "Voided Payment")
    call.values["Status"] = "Voided"
    return call.tenant.save(call.entity, call.record)


def _captured(call: ActionCall) -> Record:
    if call.record.released:
        return call.tenant.save(call.entity, call.record)
    return call.tenant.release_record(call.entity, call.record)


def _transactions(call: ActionCall) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = call.values.setdefault("CreditCardTransactionInfo", [])
    return rows


def _record(call: ActionCall, code: str, number: str, auth: Any, original: Any) -> None:
    _transactions(call).append(
        {
            "id": str(uuid.uuid4()),
            "TranType": CARD_TRANSACTIONS[code],
            "TranNbr": number,
            "AuthNbr": auth,
            "OrigTranNbr": original,
            "TranDate": datetime.now(UTC).replace(microsecond=0).isoformat(),
        }
    )
