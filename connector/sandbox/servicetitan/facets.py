"""What generated rows need, beyond their schema, for every documented filter to work.

Two hooks per resource, both deterministic:

* :func:`enrich` runs once on freshly generated rows and makes their visible links
  consistent with the seeded tenant (a credit memo applied to one of its customer's
  invoices, a lead at one of its customer's locations, a project holding the jobs that
  name it), adding private ``_fields`` for what the model does not show;
* :func:`overlay` runs on every read and adds private fields read live from the tenant
  (a lead's customer city, a project's technicians), so a filter sees current data.

Private fields are looked up by :mod:`.filtering` like visible ones and dropped from replies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connector.sandbox.servicetitan import relations
from connector.sandbox.servicetitan.wire import Record, parse_ticks

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.store import Store

Enrich = Callable[["Store", list[Record]], None]
Overlay = Callable[["Store", Record], Record]

#: Transfer types of the inventory module, with the ids ``transferTypeIds`` takes.
TRANSFER_TYPES = {"Warehouse to Truck": 1, "Truck to Warehouse": 2, "Truck to Truck": 3}
#: Names of client-specific pricing rate sheets, which ``searchTerm`` searches.
RATE_SHEETS = (
    "Commercial Accounts", "Property Managers", "Members Club", "Builders", "Schools",
    "Government", "Senior Discount", "Realtors", "Hospitals", "Restaurants",
    "Multi-family", "Churches",
)  # fmt: skip
#: Lead capture sources; ``isCaptureSourceForm`` picks the web-form ones.
CAPTURE_SOURCES = ("Form", "Phone", "Email", "Form")


def _day(stamp: Any) -> str | None:
    return stamp[:10] if isinstance(stamp, str) else None


# -- accounting ---------------------------------------------------------------------------


def _credit_memos(store: Store, rows: list[Record]) -> None:
    """Two memos in three are applied to an invoice of their own customer."""
    invoices = store.table("invoices").all()
    for index, memo in enumerate(rows):
        customer = memo.get("customer") or {}
        own = [inv for inv in invoices if inv["customer"]["id"] == customer.get("id")]
        if index % 3 == 2 or not own:
            memo["appliedTo"] = []
            memo["balance"] = memo.get("total")
            continue
        invoice = own[index % len(own)]
        memo["location"] = invoice.get("location") or memo.get("location")
        memo["businessUnit"] = invoice.get("businessUnit") or memo.get("businessUnit")
        memo["appliedTo"] = [
            {
                "appliedId": memo["id"] * 10 + 1,
                "appliedTo": invoice["id"],
                "appliedAmount": memo.get("total"),
                "appliedOn": _day(memo.get("createdOn")) or memo.get("date"),
                "appliedBy": memo.get("createdBy"),
                "appliedToReferenceNumber": invoice["referenceNumber"],
            }
        ]
        memo["balance"] = 0.0


def _transactions(store: Store, index: int) -> list[Record]:
    """One to three posted documents of the tenant: an invoice, a payment, a bill."""
    invoices = store.table("invoices").all()
    payments = store.table("payments").all()
    bills = store.table("ap_bills").all()
    found: list[Record] = []
    if invoices:
        invoice = invoices[index % len(invoices)]
        found.append(
            {
                "type": "Invoice",
                "postedOn": invoice.get("invoiceDate"),
                "businessUnitId": (invoice.get("businessUnit") or {}).get("id"),
                "customerName": (invoice.get("customer") or {}).get("name"),
                "locationName": (invoice.get("location") or {}).get("name"),
                "refNumber": invoice.get("referenceNumber"),
            }
        )
    if payments and index % 2 == 0:
        payment = payments[index % len(payments)]
        found.append(
            {
                "type": "Payment",
                "postedOn": payment.get("date"),
                "businessUnitId": (payment.get("businessUnit") or {}).get("id"),
                "customerName": (payment.get("customer") or {}).get("name"),
                "refNumber": payment.get("referenceNumber"),
            }
        )
    if bills and index % 3 == 0:
        bill = bills[index % len(bills)]
        places = [item.get("inventoryLocation") or {} for item in bill.get("items", [])]
        found.append(
            {
                "type": "Bill",
                "postedOn": bill.get("billDate"),
                "businessUnitId": (bill.get("businessUnit") or {}).get("id"),
                "vendorName": (bill.get("vendor") or {}).get("name"),
                "inventoryLocationName": next((p.get("name") for p in places if p), None),
                "refNumber": bill.get("referenceNumber"),
            }
        )
    return found


def _journal_entries(store: Store, rows: list[Record]) -> None:
    """An entry holds the transactions it posts; an empty one holds none."""
    for index, entry in enumerate(rows):
        found = [] if entry.get("isEmpty") else _transactions(store, index)
        entry["isEmpty"] = not found
        # Private, one list per filter: the entry model does not list its transactions.
        entry["_transactionType"] = [t["type"] for t in found]
        entry["_transactionPostedOn"] = [t["postedOn"] for t in found if t.get("postedOn")]
        entry["_serviceAgreementId"] = []
        for name in (
            "businessUnitId", "customerName", "locationName", "vendorName",
            "inventoryLocationName", "refNumber",
        ):  # fmt: skip
            entry[f"_{name}"] = [t[name] for t in found if t.get(name) is not None]


# -- crm ----------------------------------------------------------------------------------


def _leads(store: Store, rows: list[Record]) -> None:
    """One lead in four has no customer yet; the others sit at a location of theirs."""
    for index, lead in enumerate(rows):
        lead["captureSource"] = CAPTURE_SOURCES[index % len(CAPTURE_SOURCES)]
        customer = store.table("customers").get(lead.get("customerId") or -1)
        if index % 4 == 3 or customer is None:
            lead["customerId"] = lead["locationId"] = None
            continue
        places = customer.get("_locations") or []
        lead["locationId"] = places[index % len(places)]["id"] if places else None


def _lead_overlay(store: Store, lead: Record) -> Record:
    customer = store.table("customers").get(lead.get("customerId") or -1)
    has_job = customer is not None and any(
        job["customerId"] == customer["id"] for job in store.table("jobs").all()
    )
    address = (customer or {}).get("address") or {}
    return {
        "_customerCity": address.get("city"),
        "_customerState": address.get("state"),
        "_customerZip": address.get("zip"),
        "_customerCreatedOn": (customer or {}).get("createdOn"),
        "_customerModifiedOn": (customer or {}).get("modifiedOn"),
        "_withoutCustomer": customer is None or lead.get("locationId") is None,
        "_isProspect": not has_job,
        "_isCaptureSourceForm": lead.get("captureSource") == "Form",
    }


# -- inventory and pricebook --------------------------------------------------------------


def _transfers(store: Store, rows: list[Record]) -> None:
    names = list(TRANSFER_TYPES)
    for index, transfer in enumerate(rows):
        transfer["transferType"] = names[index % len(names)]
        transfer["_transferTypeId"] = TRANSFER_TYPES[transfer["transferType"]]


def _rate_sheets(store: Store, rows: list[Record]) -> None:
    for index, sheet in enumerate(rows):
        sheet["_name"] = RATE_SHEETS[index % len(RATE_SHEETS)]


# -- jpm ----------------------------------------------------------------------------------


def _created_with_modified(store: Store, rows: list[Record]) -> None:
    """Statuses that were never edited: created when last modified (the model shows only
    ``modifiedOn``; ``createdOnOrAfter`` reads this)."""
    for row in rows:
        row["_createdOn"] = row.get("modifiedOn")


def _segment_items(store: Store, rows: list[Record]) -> None:
    """A segment's items form a tree: the first is a root, the others its children."""
    for index, item in enumerate(rows):
        root = rows[0]
        item["parentId"] = None if index == 0 else root["id"]
        item["path"] = item["code"] if index == 0 else f"{root['code']}/{item['code']}"


def _project_overlay(store: Store, project: Record) -> Record:
    """A project's jobs are the jobs naming it; through them its invoices, appointments,
    technicians, customer and completion."""
    jobs = [job for job in store.table("jobs").all() if job.get("projectId") == project["id"]]
    view: Record = {
        "jobIds": [job["id"] for job in jobs],
        "_invoiceId": [job["invoiceId"] for job in jobs if job.get("invoiceId")],
        "_appointmentId": [job["firstAppointmentId"] for job in jobs],
        "_technicianId": [t for job in jobs for t in relations.technician_ids(job)],
    }
    if jobs:
        view["customerId"] = jobs[0]["customerId"]
        view["locationId"] = jobs[0]["locationId"]
        done = [job.get("completedOn") for job in jobs]
        if all(isinstance(stamp, str) for stamp in done):
            view["actualCompletionDate"] = max(done, key=lambda s: parse_ticks(s) or 0)
    return view


ENRICH: dict[tuple[str, str], Enrich] = {
    ("accounting", "credit-memos"): _credit_memos,
    ("accounting", "journal-entries"): _journal_entries,
    ("crm", "leads"): _leads,
    ("inventory", "transfers"): _transfers,
    ("pricebook", "clientspecificpricing"): _rate_sheets,
    ("jpm", "project-statuses"): _created_with_modified,
    ("jpm", "project-substatuses"): _created_with_modified,
    ("jpm", "work-breakdown-structure/segments/items"): _segment_items,
    ("jpm", "work-breakdown-structure/projects/segments/items"): _segment_items,
}
OVERLAY: dict[tuple[str, str], Overlay] = {
    ("crm", "leads"): _lead_overlay,
    ("jpm", "projects"): _project_overlay,
}


def enrich(module: str, key: str, store: Store, rows: list[Record]) -> None:
    """Complete freshly generated rows of one resource (in place)."""
    hook = ENRICH.get((module, key))
    if hook is not None:
        hook(store, rows)


def overlay(module: str, key: str, store: Store, rows: list[Record]) -> list[Record]:
    """The rows with the live fields of their resource added (copies; rows unchanged)."""
    hook = OVERLAY.get((module, key))
    if hook is None:
        return rows
    return [row | hook(store, row) for row in rows]
