"""Where ServiceTitan records land in Acumatica: find by natural key first, then write.

``find`` answers whether a record exists from Acumatica only (never from our ledger),
because it is how an in-doubt write is settled and how a rebuilt state database adopts what
is there. Invoices and payments carry references unique to us (``ST-INV-<id>``,
``ST-PAY-<id>``) and are found by them alone, whatever the state of their customer in our
ledger. A bill's ``VendorRef`` is the vendor's own number, so it is looked up within its
vendor: the vendor's code from our ledger when linked, else the code we would have created
it under (``STV<id>``), asked of Acumatica. Which accounts are already linked to other
records is taken from the ledger: a link by name is a policy, not a question of existence.

Documents get no idempotency from Acumatica: a PUT of an invoice, payment or bill without a
``ReferenceNbr`` creates a new one every time, and ``If-None-Match: *`` cannot help (a new
document has no key to match). Each carries a natural key instead — (customer,
``CustomerOrder`` = ``ST-INV-<id>``), (customer, ``PaymentRef`` = ``ST-PAY-<id>``), (vendor,
``VendorRef``) — and ``find`` looks it up. The runtime calls ``find`` before writing any
record whose earlier attempt did not finish (a crash, a lost answer: the client turns the
latter into ``InDoubtError`` and never repeats a document PUT), so a document is written
again only once Acumatica says it is not there.

Look-ups of records the loader workers handle at the same time go to Acumatica together, one
``$filter`` over all their keys (:class:`~connector.flows.coalesce.Coalescer`): each is made
after its caller asked and answers for that caller alone, so it is as live as one request
per record, at a fraction of the licence's requests.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from decimal import Decimal

from connector.errors import RejectedError
from connector.flows.coalesce import Coalescer
from connector.flows.common import LedgerLink, name_key
from connector.flows.servicetitan_acumatica.mapping import (
    AccountCommand,
    BillCommand,
    InvoiceCommand,
    PaymentCommand,
    account_code,
    account_in_step,
    bill_record,
    customer_record,
    invoice_record,
    payment_record,
    source_id_of,
    vendor_record,
)
from connector.runtime.flow import Found, LoadContext, Outcome, Written
from connector.systems.acumatica import AcumaticaClient
from connector.systems.acumatica import models as acu

#: The accounts our ledger has linked so far: target id → ServiceTitan id.
LedgerOwners = Callable[[], Awaitable[dict[str, str]]]

#: Look-ups one request carries at most: as many as loader workers usually (they are what
#: asks at the same time); the ``$filter`` of 25 keys stays far below any URL limit.
LOOKUP_BATCH = 25
#: How long what ``BillTarget.find`` read may stand for the ``write`` that follows it.
JUST_READ_S = 5.0


class _BusinessAccountTarget(ABC):
    """Customers or vendors: linked by code, else by name; created with an insert-only PUT.

    A link by name goes only to an account no other ServiceTitan record owns: not one
    another record created (its code says so), nor one our ledger (or this pass) already
    linked to another record. Two ServiceTitan records sharing a name must not merge into
    one Acumatica account, whichever run meets the second one.
    """

    kind = ""

    def __init__(
        self, acumatica: AcumaticaClient, linked: LedgerOwners, *, batch: int = 4
    ) -> None:
        self.acumatica = acumatica
        self.linked = linked
        self.batch = min(batch, LOOKUP_BATCH)
        self._by_name: dict[str, str] | None = None
        #: Account code (upper case) → the ServiceTitan id linked to it.
        self._owners: dict[str, str] = {}

    @abstractmethod
    async def _get(
        self, code: str
    ) -> tuple[str, str | None, acu.Contact | None, str | None] | None:
        """(code, name, main contact, status) of the account with this code, or None."""

    @abstractmethod
    async def _names(self) -> dict[str, str]:
        """Every account's name key → code."""

    @abstractmethod
    async def _put(self, command: AccountCommand, *, create: bool) -> None:
        """Create (insert only) or update the account."""

    async def prepare(self) -> None:
        await self._index()

    async def _index(self, *, refresh: bool = True) -> dict[str, str]:
        if refresh or self._by_name is None:
            self._owners = {code.upper(): source for code, source in (await self.linked()).items()}
            self._by_name = await self._names()
        return self._by_name

    async def find(self, command: AccountCommand) -> Found | None:
        existing = await self._get(command.code)
        if existing is not None:
            code, name, contact, status = existing
            return Found(code, matches=account_in_step(command, name, contact, status))
        by_name = (await self._index(refresh=False)).get(name_key(command.name))
        if by_name is not None and await self._get(by_name) is None:
            # The index is a hint from the start of the pass; the account is gone since.
            by_name = None
        if by_name is None:
            return None
        mine = str(command.source_id)
        creator = source_id_of(self.kind, by_name)
        if creator is not None and str(creator) != mine:
            return None
        if self._owners.setdefault(by_name.upper(), mine) != mine:
            return None
        # Linked by name: the account is Acumatica's, nothing of ours is written to it.
        return Found(by_name, matches=True)

    async def write(
        self, command: AccountCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            if source_id_of(self.kind, existing.target_id) != command.source_id:
                return Written(Outcome.UNCHANGED, existing.target_id)
            await self._put(command, create=False)
            return Written(Outcome.UPDATED, existing.target_id)
        await self._put(command, create=True)
        self._owners[command.code.upper()] = str(command.source_id)
        if self._by_name is not None:
            self._by_name.setdefault(name_key(command.name), command.code)
        return Written(Outcome.CREATED, command.code)


class CustomerTarget(_BusinessAccountTarget):
    """Acumatica customers for ServiceTitan customers."""

    kind = "customer"

    def __init__(
        self, acumatica: AcumaticaClient, linked: LedgerOwners, *, batch: int = 4
    ) -> None:
        super().__init__(acumatica, linked, batch=batch)
        # Bound at call time: a flow is also built to list its streams, with no client.
        self._customers = Coalescer(
            lambda keys: self.acumatica.find_customers(keys), size=self.batch
        )

    async def _get(
        self, code: str
    ) -> tuple[str, str | None, acu.Contact | None, str | None] | None:
        found = await self._customers(code)
        if found is None or not found.customer_id:
            return None
        return found.customer_id, found.customer_name, found.main_contact, found.status

    async def _names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        async for page in self.acumatica.pages(acu.Customer, expand=()):
            for customer in page:
                if customer.customer_name and customer.customer_id:
                    names.setdefault(name_key(customer.customer_name), customer.customer_id)
        return names

    async def _put(self, command: AccountCommand, *, create: bool) -> None:
        # Insert-only on create: a customer someone added meanwhile answers 412, and the
        # runtime then looks it up and adopts it instead of overwriting it.
        await self.acumatica.put(
            acu.Customer, customer_record(command, create=create), insert_only=create
        )


class VendorTarget(_BusinessAccountTarget):
    """Acumatica vendors for ServiceTitan vendors."""

    kind = "vendor"

    def __init__(
        self, acumatica: AcumaticaClient, linked: LedgerOwners, *, batch: int = 4
    ) -> None:
        super().__init__(acumatica, linked, batch=batch)
        self._vendors = Coalescer(
            lambda keys: self.acumatica.find_vendors(keys), size=self.batch
        )

    async def _get(
        self, code: str
    ) -> tuple[str, str | None, acu.Contact | None, str | None] | None:
        found = await self._vendors(code)
        if found is None or not found.vendor_id:
            return None
        return found.vendor_id, found.vendor_name, found.main_contact, found.status

    async def _names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        async for page in self.acumatica.pages(acu.Vendor, expand=()):
            for vendor in page:
                if vendor.vendor_name and vendor.vendor_id:
                    names.setdefault(name_key(vendor.vendor_name), vendor.vendor_id)
        return names

    async def _put(self, command: AccountCommand, *, create: bool) -> None:
        await self.acumatica.put(
            acu.Vendor, vendor_record(command, create=create), insert_only=create
        )


def _number(saved_number: str | None, label: str) -> str:
    if not saved_number:
        raise RejectedError(
            f"Acumatica saved {label} but answered without a ReferenceNbr; look the document "
            "up in Acumatica and report this response",
            system="acumatica",
            record=label,
            code="unexpected_response",
        )
    return saved_number


#: Acumatica document statuses after release (payments can be applied to these).
RELEASED = frozenset({"Open", "Closed", "Released"})
INVOICE_TYPE = "Invoice"


class InvoiceTarget:
    """AR invoices for ServiceTitan job invoices, by (customer, ``CustomerOrder``)."""

    def __init__(
        self, acumatica: AcumaticaClient, customers: str, *, release: bool, batch: int = 4
    ) -> None:
        self.acumatica = acumatica
        self.customers = customers
        #: Release invoices once saved (see the ``release_invoices`` option).
        self.release = release
        self._invoices = Coalescer(
            lambda keys: self.acumatica.find_invoices(keys), size=min(batch, LOOKUP_BATCH)
        )

    async def find(self, command: InvoiceCommand) -> Found | None:
        # Our CustomerOrder is unique across customers: looked up without the customer.
        invoice = await self._invoices(command.customer_order)
        if invoice is None or not invoice.reference_nbr:
            return None
        # Saved but not released (an earlier attempt stopped in between): not finished yet.
        return Found(
            invoice.reference_nbr,
            matches=True,
            complete=not self._needs_release(invoice.status),
        )

    def _needs_release(self, status: str | None) -> bool:
        return self.release and status not in RELEASED

    async def write(
        self, command: InvoiceCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            # Only an unfinished invoice is handed back (saved, not released): finish it.
            await self._release(command, existing.target_id)
            return Written(Outcome.UPDATED, existing.target_id, {"released": "yes"})
        customer = await ctx.ensure(self.customers, str(command.customer_id))
        saved = await self.acumatica.put(acu.Invoice, invoice_record(command, customer))
        number = _number(saved.reference_nbr, f"invoice {command.customer_order}")
        detail = _document_detail(number, saved.amount)
        if self._needs_release(saved.status):
            ctx.note("saved", {"invoice": number})
            await self._release(command, number)
            detail["released"] = "yes"
        return Written(Outcome.CREATED, number, detail)

    async def _release(self, command: InvoiceCommand, number: str) -> None:
        """ReleaseInvoice, confirmed by the invoice's status in the look-up the other
        documents share (released = what ``find`` calls complete), else by polling."""

        async def released() -> bool:
            invoice = await self._invoices(command.customer_order)
            return (
                invoice is not None
                and invoice.reference_nbr == number
                and not self._needs_release(invoice.status)
            )

        await self.acumatica.release(acu.Invoice, INVOICE_TYPE, number, confirm=released)


class PaymentTarget:
    """AR payments for ServiceTitan payments, by (customer, ``PaymentRef``), applied to the
    AR invoices of the invoices they paid (posted first, on demand)."""

    def __init__(
        self, acumatica: AcumaticaClient, customers: str, invoices: str, *, batch: int = 4
    ) -> None:
        self.acumatica = acumatica
        self.customers = customers
        self.invoices = invoices
        self._payments = Coalescer(
            lambda keys: self.acumatica.find_payments(keys), size=min(batch, LOOKUP_BATCH)
        )

    async def find(self, command: PaymentCommand) -> Found | None:
        payment = await self._payments(command.payment_ref)
        if payment is None or not payment.reference_nbr:
            return None
        return Found(payment.reference_nbr, matches=True)

    async def write(
        self, command: PaymentCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        customer = await ctx.ensure(self.customers, str(command.customer_id))
        documents = [
            (await ctx.ensure(self.invoices, str(applied.invoice_id)), applied.amount)
            for applied in command.applications
        ]
        saved = await self.acumatica.put(acu.Payment, payment_record(command, customer, documents))
        number = _number(saved.reference_nbr, f"payment {command.payment_ref}")
        detail = _document_detail(number, saved.payment_amount)
        if documents:
            detail["applied_to"] = ",".join(doc for doc, _ in documents)
        return Written(Outcome.CREATED, number, detail)


class BillTarget:
    """AP bills for ServiceTitan inventory bills, by (vendor, ``VendorRef``)."""

    def __init__(
        self, acumatica: AcumaticaClient, link: LedgerLink, vendors: str, *, batch: int = 4
    ) -> None:
        self.acumatica = acumatica
        self.link = link
        self.vendors = vendors
        self._bills = Coalescer(
            lambda keys: self.acumatica.find_bills(keys), size=min(batch, LOOKUP_BATCH)
        )
        #: The vendor ``find`` just found a bill absent under, by source id, for the
        #: ``write`` the runtime calls right after it on the same claimed record.
        self._absent_under: dict[str, tuple[float, str]] = {}

    async def _lookup(self, vendor: str, command: BillCommand) -> Found | None:
        bill = await self._bills((vendor, command.vendor_ref))
        if bill is None or not bill.reference_nbr:
            return None
        return Found(bill.reference_nbr, matches=True)

    async def vendor_of(self, command: BillCommand) -> str | None:
        """The Acumatica vendor the bill is (or would be) on, None when there is none yet."""
        vendor = await self.link(self.vendors, str(command.vendor_id))
        if vendor is None:
            # Not linked in our ledger (a rebuilt state database): the vendor account we
            # create carries the ServiceTitan id in its code, so ask Acumatica for that one.
            account = await self.acumatica.find_vendor(account_code("vendor", command.vendor_id))
            vendor = account.vendor_id if account is not None else None
        return vendor

    async def find(self, command: BillCommand) -> Found | None:
        vendor = await self.vendor_of(command)
        if vendor is None:
            return None
        found = await self._lookup(vendor, command)
        if found is None:
            self._absent_under[command.source_id] = (time.monotonic(), vendor)
        return found

    def _just_found_absent(self, vendor: str, command: BillCommand) -> bool:
        """Whether ``find`` found no such bill under ``vendor`` a moment ago (used once).

        The runtime calls ``find`` and then ``write`` for one claimed record with nothing
        written in between, so that answer is still Acumatica's; only one this young, and
        only under the vendor ``write`` posts to, stands for the look-up ``write`` makes."""
        seen = self._absent_under.pop(command.source_id, None)
        return (
            seen is not None and seen[1] == vendor and time.monotonic() - seen[0] < JUST_READ_S
        )

    async def write(
        self, command: BillCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        vendor = await ctx.ensure(self.vendors, str(command.vendor_id))
        # Unlike our invoice and payment references, the vendor's invoice number is not ours
        # to make unique: on a bill of this vendor already (keyed by hand from the paper
        # copy, or an earlier ServiceTitan bill) it means this bill is in Acumatica. Adopt
        # it, never pay a vendor invoice twice; the audit says so.
        found = None
        if not self._just_found_absent(vendor, command):
            found = await self._lookup(vendor, command)
        if found is not None:
            return Written(Outcome.UNCHANGED, found.target_id, {"adopted": "found in Acumatica"})
        saved = await self.acumatica.put(acu.Bill, bill_record(command, vendor))
        number = _number(saved.reference_nbr, f"bill {command.vendor_ref} of vendor {vendor}")
        return Written(Outcome.CREATED, number, _document_detail(number, saved.amount))


def _document_detail(number: str, amount: Decimal | None) -> dict[str, str]:
    detail = {"ReferenceNbr": number}
    if amount is not None:
        detail["Amount"] = str(amount)
    return detail
