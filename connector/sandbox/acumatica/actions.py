"""Every action the Default endpoint documents for the served entities, by name.

Document actions live in :mod:`.voiding` and :mod:`.orders`; here are the release actions,
the contact and cost actions of partners and items, and custom actions. A custom action
(``POST /{Entity}/{actionName}`` with any other name) runs a screen action by its name:
the endpoint's own actions under their names, and on documents with a ``Hold`` box the
screen's Hold and Remove Hold (``putOnHold``/``Hold``, ``releaseFromHold``/``RemoveHold``).
Any other name is not an action of the screen: 500 with the PXException the real system
raises.
"""

from __future__ import annotations

from typing import Final

from connector.sandbox.acumatica import orders, voiding
from connector.sandbox.acumatica.action_call import Action, ActionCall
from connector.sandbox.acumatica.schema import fields_of
from connector.sandbox.acumatica.store import Record


class UnknownAction(Exception):
    """A custom action the entity's screen does not have."""


def release(call: ActionCall) -> Record:
    return call.tenant.release_record(call.entity, call.record)


def create_contact(call: ActionCall) -> Record:
    """CreateContactFromCustomer/Vendor: a new contact of the account, listed in Contacts."""
    last = call.params.get("LastName")
    if not last:
        raise call.refuse("'LastName' cannot be empty: a contact needs a last name.", "MainContact")
    contacts = call.values.setdefault("Contacts", [])
    number = 1 + max((int(c.get("ContactID") or 0) for c in contacts), default=100)
    first = call.params.get("FirstName")
    contact = {
        name: call.params[name]
        for name in (
            "FirstName",
            "LastName",
            "JobTitle",
            "Phone1Type",
            "Phone1",
            "Phone2Type",
            "Phone2",
            "Email",
            "ContactClass",
        )
        if call.params.get(name) is not None
    }
    contact["DisplayName"] = f"{first} {last}" if first else str(last)
    contact["ContactID"] = number
    contacts.append({"ContactID": number, "Contact": contact})
    return call.tenant.save(call.entity, call.record)


def update_standard_cost(call: ActionCall) -> Record:
    """Update Standard Cost: a standard-cost stock item's pending cost becomes current."""
    if call.values.get("ValuationMethod") != "Standard":
        raise call.refuse(
            f"{call.label} is valued at {call.values.get('ValuationMethod')} "
            "cost; only standard-cost items have a standard cost to update.",
            "ValuationMethod",
        )
    pending = call.values.get("PendingStdCost")
    if pending is None:
        raise call.refuse(f"{call.label} has no pending standard cost.", "PendingStdCost")
    call.values["LastStdCost"] = call.values.get("CurrentStdCost")
    call.values["CurrentStdCost"] = pending
    call.values["PendingStdCost"] = None
    return call.tenant.save(call.entity, call.record)


def update_cost(call: ActionCall) -> Record:
    """Update Cost of a non-stock item: its pending cost becomes the current cost."""
    pending = call.values.get("PendingCost")
    if pending is None:
        raise call.refuse(f"{call.label} has no pending cost.", "PendingCost")
    call.values["LastCost"] = call.values.get("CurrentCost")
    call.values["CurrentCost"] = pending
    call.values["PendingCost"] = None
    call.values["PendingCostDate"] = None
    return call.tenant.save(call.entity, call.record)


ACTIONS: Final[dict[str, dict[str, Action]]] = {
    "Bill": {
        "ReleaseBill": release,
        "ReverseBill": voiding.reverse_bill,
        "ReleaseRetainage": voiding.release_retainage,
    },
    "Invoice": {"ReleaseInvoice": release},
    "Payment": {
        "ReleasePayment": release,
        "VoidPayment": voiding.void_payment,
        "CaptureCreditCardPayment": voiding.capture,
        "VoidCardPayment": voiding.void_card,
        "CardOperation": voiding.card_operation,
    },
    "Check": {"ReleaseCheck": release, "VoidCheck": voiding.void_check},
    "JournalTransaction": {"ReleaseJournalTransaction": release},
    "Customer": {"CreateContactFromCustomer": create_contact},
    "Vendor": {"CreateContactFromVendor": create_contact},
    "StockItem": {"UpdateStandardCostStockItem": update_standard_cost},
    "NonStockItem": {"UpdateStandardCostNonStockItem": update_cost},
    "SalesOrder": {
        "CancelSalesOrder": orders.cancel,
        "ReopenSalesOrder": orders.reopen,
        "OpenSalesOrder": orders.open_order,
        "PrepareSalesInvoice": orders.prepare_invoice,
        "ReleaseFromCreditHoldSalesOrder": orders.release_credit_hold,
        "SalesOrderCreateShipment": orders.create_shipment,
        "SalesOrderCreateReceipt": orders.create_receipt,
        "AutoRecalculateDiscounts": orders.recalculate_discounts,
        "RecalculatePricesDiscounts": orders.recalculate_prices,
    },
}


def _hold(on: bool) -> Action:
    def act(call: ActionCall) -> Record:
        if call.record.released or call.values.get("Status") not in (
            "On Hold",
            "Balanced",
            "Open",
            "Pending Approval",
        ):
            raise call.refuse(
                f"{call.label} is {call.values.get('Status')}; only an "
                "unreleased document can be put on or taken off hold."
            )
        call.values["Hold"] = on
        return call.tenant.save(call.entity, call.record)

    return act


_HOLD_NAMES = {"putonhold": True, "hold": True, "releasefromhold": False, "removehold": False}


def named(entity: str, action: str) -> Action | None:
    """The documented action of ``entity`` called ``action`` (None: a custom action)."""
    return ACTIONS.get(entity, {}).get(action)


def custom(entity: str, action: str) -> Action:
    """The screen action a custom action names; :class:`UnknownAction` when there is none."""
    for name, handler in ACTIONS.get(entity, {}).items():
        if name.casefold() == action.casefold():
            return handler
    hold = _HOLD_NAMES.get(action.casefold())
    if hold is not None and "Hold" in fields_of(entity):
        return _hold(hold)
    raise UnknownAction(f"The action '{action}' is not found on the {entity} screen.")
