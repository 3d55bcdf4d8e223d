"""Where ServiceTitan ↔ M3 records land: find by natural key first, then write.

Each target answers ``find`` from the target system only (never from our ledger), because
``find`` is how an in-doubt write is settled and how a rebuilt state database adopts what
exists. M3 is asked directly (by supplier, item, order or supplier invoice number).
ServiceTitan vendors we create carry the M3 supplier number in ``externalData`` and are
found by it. ServiceTitan cannot filter materials or purchase orders by our key, so those
targets keep an index built once per pass (:class:`CreatedSinceIndex`) and confirm every miss
live, by reading what was created since the index was built — a create whose reply was
lost, in this process or another, is found before anything is created again.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

from connector.errors import ConfigurationError, RejectedError
from connector.flows.common import LedgerLink, name_key
from connector.flows.servicetitan_infor.ap_steps import ApSteps, missing_lines
from connector.flows.servicetitan_infor.mapping import (
    ApDocument,
    ItemCommand,
    M3PurchaseOrderCommand,
    MaterialCommand,
    Options,
    StPurchaseOrderCommand,
    SupplierCommand,
    VendorCommand,
    cori_prefix,
    iso_date,
    mirrored_puno,
    vendor_id_from_suno,
)
from connector.runtime.flow import (
    Found,
    LoadContext,
    Outcome,
    Reconciliation,
    TargetDocument,
    Written,
)
from connector.systems.infor import M3Client, ledger
from connector.systems.infor.mi import Row
from connector.systems.infor.models import InvoiceHead, Supplier
from connector.systems.servicetitan import ServiceTitanClient
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.client import APPLICATION_GUID
from connector.systems.servicetitan.lookup import CreatedSinceIndex
from connector.systems.servicetitan.resources import RESOURCES
from connector.systems.servicetitan.vendors import write_mirrored_vendor

#: Where we stamp the M3 supplier number on ServiceTitan vendors we create.
SUNO_KEY = "m3.suno"


#: How long what ``ApTarget.find`` read may stand for the ``write`` that follows it.
JUST_READ_S = 5.0

#: M3 supplier status: 20 approved (usable), 90 blocked.
SUPPLIER_ACTIVE, SUPPLIER_BLOCKED = "20", "90"


class SupplierTarget:
    """M3 suppliers for ServiceTitan vendors.

    A supplier created from a ServiceTitan vendor (its number is ``ST<id>``) belongs to
    ServiceTitan: a renamed or deactivated vendor renames or blocks it (CRS620MI/UpdSupplier).
    A supplier M3 already had, linked by code or name, belongs to M3 and is never changed.
    """

    def __init__(self, m3: M3Client, options: Options) -> None:
        self.m3 = m3
        self.options = options
        self._by_name: dict[str, str] | None = None
        self._template: dict[str, str] | None = None

    async def prepare(self) -> None:
        await self._index()

    async def _index(self, *, refresh: bool = True) -> dict[str, str]:
        if refresh or self._by_name is None:
            self._by_name = {name_key(s.SUNM): s.SUNO async for s in self.m3.suppliers() if s.SUNM}
        return self._by_name

    async def find(self, command: SupplierCommand) -> Found | None:
        for suno in filter(None, (command.linked_suno, command.suno)):
            supplier = await self.m3.get_supplier(suno)
            if supplier is not None:
                return Found(suno, matches=not _owned(command, suno) or _in_step(command, supplier))
        by_name = (await self._index(refresh=False)).get(name_key(command.name))
        if by_name is not None and await self.m3.get_supplier(by_name) is None:
            by_name = None  # gone since the index was read
        # A name match links only to a supplier no other vendor owns: two ServiceTitan vendors
        # that share a name must not merge into one M3 supplier.
        other_owner = vendor_id_from_suno(by_name) if by_name else None
        if by_name and (other_owner is None or other_owner == command.vendor_id):
            return Found(by_name, matches=True)
        return None

    async def write(
        self, command: SupplierCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            await self.m3.update_supplier(
                existing.target_id, {"SUNM": command.name, "STAT": _status(command)}
            )
            return Written(Outcome.UPDATED, existing.target_id)
        fields = dict(await self._template_fields())
        fields.update({"SUNO": command.suno, "SUNM": command.name})
        if not command.active:
            fields["STAT"] = SUPPLIER_BLOCKED
        await self.m3.add_supplier(fields)
        if self._by_name is not None:
            self._by_name[name_key(command.name)] = command.suno
        return Written(Outcome.CREATED, command.suno)

    async def _template_fields(self) -> dict[str, str]:
        """AddSupplier's mandatory fields, copied from the configured template supplier."""
        if self._template is None:
            self._template = await self.m3.supplier_template(self.options.supplier_template)
        return self._template


def _owned(command: SupplierCommand, suno: str) -> bool:
    """Whether the supplier was created from this vendor (ServiceTitan owns its data)."""
    return command.linked_suno is None and vendor_id_from_suno(suno) == command.vendor_id


def _status(command: SupplierCommand) -> str:
    return SUPPLIER_ACTIVE if command.active else SUPPLIER_BLOCKED


def _in_step(command: SupplierCommand, supplier: Supplier) -> bool:
    active = supplier.STAT in ("", SUPPLIER_ACTIVE)
    return (supplier.SUNM, active) == (command.name, command.active)


class VendorTarget:
    """ServiceTitan vendors for M3 suppliers: linked by code, else by name; M3 owns name.

    ``find`` is live: the vendor a supplier number points at (a supplier we created from a
    ServiceTitan vendor), else the vendor stamped with the supplier number in
    ``externalData`` (one we created), else — a policy, not a question of existence — an
    unstamped vendor of the same name, from an index of names checked live before use.
    """

    def __init__(self, client: ServiceTitanClient) -> None:
        self.client = client
        self._by_name: dict[str, list[int]] | None = None
        #: Vendors linked in this process: one vendor never stands for two suppliers.
        self._claimed: set[int] = set()

    async def prepare(self) -> None:
        await self._names()

    async def _names(self, *, refresh: bool = True) -> dict[str, list[int]]:
        if refresh or self._by_name is None:
            names: dict[str, list[int]] = {}
            async for vendor in self.client.records(RESOURCES["vendors"]):
                names.setdefault(name_key(vendor.name), []).append(vendor.id)
            self._by_name = names
        return self._by_name

    def _unclaimed(self, vendor: st.Vendor) -> bool:
        """Free for a link by name: not stamped with (or linked to) another M3 supplier."""
        stamped = any(d.key == SUNO_KEY for d in vendor.external_data or ())
        return not stamped and vendor.id not in self._claimed

    async def _live(self, command: VendorCommand) -> st.Vendor | None:
        linked_id = vendor_id_from_suno(command.suno)
        if linked_id is not None:
            vendor: st.Vendor | None = await self.client.get(RESOURCES["vendors"], linked_id)
            if vendor is not None:
                return vendor
        stamped = await self.client.find_by_external_data(
            RESOURCES["vendors"], APPLICATION_GUID, SUNO_KEY, [command.suno]
        )
        if stamped:
            first: st.Vendor = min(stamped, key=lambda v: int(v.id))
            return first
        for vendor_id in (await self._names(refresh=False)).get(name_key(command.name), []):
            candidate = await self.client.get(RESOURCES["vendors"], vendor_id)
            if (
                candidate is not None
                and name_key(candidate.name) == name_key(command.name)
                and self._unclaimed(candidate)
            ):
                found: st.Vendor = candidate
                return found
        return None

    async def find(self, command: VendorCommand) -> Found | None:
        match = await self._live(command)
        if match is None:
            return None
        self._claimed.add(match.id)
        # A supplier we created from this vendor belongs to ServiceTitan: never written back.
        st_origin = vendor_id_from_suno(command.suno) == match.id
        in_step = (match.name, match.active) == (command.name, command.active)
        return Found(str(match.id), matches=st_origin or in_step)

    async def write(
        self, command: VendorCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        created, vendor_id = await write_mirrored_vendor(
            self.client,
            None if existing is None else existing.target_id,
            name=command.name,
            active=command.active,
            key=SUNO_KEY,
            code=command.suno,
            origin=f"M3 supplier {command.suno}",
        )
        self._claimed.add(vendor_id)
        return Written(Outcome.CREATED if created else Outcome.UPDATED, str(vendor_id))


class ItemTarget:
    """M3 items for ServiceTitan pricebook items, by item number (= pricebook code)."""

    def __init__(self, m3: M3Client) -> None:
        self.m3 = m3

    async def find(self, command: ItemCommand) -> Found | None:
        item = await self.m3.get_item(command.itno)
        return Found(command.itno, matches=True) if item is not None else None

    async def write(
        self, command: ItemCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        await self.m3.add_item(
            {
                "ITTY": command.item_type,
                "ITNO": command.itno,
                "ITDS": command.description,
                "FUDS": command.full_description,
            }
        )
        return Written(Outcome.CREATED, command.itno)


class MaterialTarget:
    """ServiceTitan materials for M3 items; existing pricebook codes are linked, never changed."""

    def __init__(self, client: ServiceTitanClient) -> None:
        self.client = client
        self._codes = CreatedSinceIndex(
            client, ("materials", "equipment"), lambda item: (item.code or "").strip().upper()
        )

    async def prepare(self) -> None:
        await self._codes.rebuild()

    async def find(self, command: MaterialCommand) -> Found | None:
        found = await self._codes.get(command.itno.upper())
        return Found(str(found), matches=True) if found is not None else None

    async def write(
        self, command: MaterialCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        new_id = await self.client.create(
            RESOURCES["materials"],
            st.MaterialCreate(
                code=command.itno,
                description=command.description,
                display_name=command.description,
                active=command.active,
            ),
            record=f"material {command.itno}",
        )
        self._codes.add(command.itno.upper(), new_id)
        return Written(Outcome.CREATED, str(new_id))


def _same_document(head: InvoiceHead, command: ApDocument) -> bool:
    """Whether a batch with the document's supplier invoice number stands for *this*
    document: stamped with its CORI, or keyed by hand in M3 (no CORI), which is adopted.
    A batch another source document stamped is a different invoice with the same number."""
    return head.CORI in ("", command.cori)


class ApTarget(ApSteps):
    """M3 supplier-invoice batches for AP bills and job invoices (see ``write``).

    With ``ap_coding = "recode"`` a document is finished only once its voucher is re-coded:
    invoice batch staged → lines added → validated → recode batch (AddHeadRecode) staged →
    recode lines added → recode validated. Each step is read back from M3 (the batches listed
    by supplier invoice number, their lines, the voucher's lines), so a crash between any two
    calls resumes at the step M3 shows, and nothing is added twice.
    """

    def __init__(
        self,
        m3: M3Client,
        options: Options,
        link: LedgerLink,
        vendor_stream: str,
        m3_order_of: Callable[[int], Awaitable[str | None]],
    ) -> None:
        self.m3 = m3
        self.options = options
        self.link = link
        self.vendor_stream = vendor_stream
        #: The M3 order a ServiceTitan PO copies, if it is such a copy.
        self.m3_order_of = m3_order_of
        #: Configured suppliers seen to exist: checked once per pass (``prepare`` forgets
        #: them), not once per invoice; a refusal naming the supplier forgets it too.
        self._known_suppliers: set[str] = set()
        #: What ``find`` just read for a document, by CORI, for the ``write`` the runtime
        #: calls right after it on the same claimed record (see ``_looked_up``).
        self._just_read: dict[str, tuple[float, list[InvoiceHead]]] = {}

    async def prepare(self) -> None:
        self._known_suppliers.clear()
        self._just_read.clear()

    @property
    def _recoding(self) -> bool:
        return self.options.ap_coding == "recode"

    async def _supplier_exists(self, suno: str) -> bool:
        if suno not in self._known_suppliers and await self.m3.get_supplier(suno) is not None:
            self._known_suppliers.add(suno)
        return suno in self._known_suppliers

    async def _supplier(self, command: ApDocument) -> str | None:
        if command.fixed_suno:
            return command.fixed_suno
        return await self.link(self.vendor_stream, str(command.vendor_id))

    async def _batches(self, suno: str, command: ApDocument) -> list[InvoiceHead]:
        heads = await self.m3.find_invoice(suno, command.sino)
        # LstInvBySupInv may omit the status: ask GetHead for any batch that does not say.
        result = []
        for head in heads:
            if not head.SUPA and not head.VONO:
                head = await self.m3.get_head(head.INBN) or head
            result.append(head)
        return result

    async def find(self, command: ApDocument) -> Found | None:
        """Present = a validated batch of this document (see ``_same_document``) exists;
        complete = that, and (recode coding) its voucher re-coded or needing no move."""
        with self.m3.document():
            return await self._find(command)

    async def _find(self, command: ApDocument) -> Found | None:
        suno = await self._supplier(command)
        if suno is None:
            return None  # its supplier was never linked, so the document cannot be in M3
        heads = await self._batches(suno, command)
        self._just_read[command.cori] = (time.monotonic(), heads)
        for head in heads:
            if not head.recode and head.validated and _same_document(head, command):
                complete = not self._recoding or await self._recoded(command, head, heads)
                if complete:
                    del self._just_read[command.cori]  # no write follows
                return Found(head.INBN, matches=True, complete=complete)
        return None

    async def read_back(self, command: ApDocument) -> TargetDocument | None:
        """The posted batch of this document by supplier + supplier invoice number, with
        the amount M3 holds (CUAM), for reconciliation; None if it is not posted."""
        suno = await self._supplier(command)
        if suno is None:
            return None
        for head in await self._batches(suno, command):
            if head.validated and _same_document(head, command):
                return TargetDocument(head.INBN, Decimal(head.CUAM or "0"))
        return None

    def reconciliation(self, kind: str) -> Reconciliation[ApDocument]:
        """AP documents of ``kind`` reconcile by supplier invoice number (SINO) and amount
        (CUAM). The period's batches of ours are listed in one paged read (by invoice date
        and CORI prefix); only a document the list lacks is looked up by its key."""
        prefix = cori_prefix(kind)

        async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
            return [
                TargetDocument(
                    head.INBN,
                    Decimal(head.CUAM or "0"),
                    source_id=head.CORI.removeprefix(prefix),
                    date=iso_date(head.IVDT),
                    number=head.SINO,
                )
                async for head in ledger.stamped_invoices(
                    self.m3, prefix, start.strftime("%Y%m%d"), end.strftime("%Y%m%d")
                )
            ]

        return Reconciliation(
            date=lambda c: iso_date(c.invoice_date),
            amount=lambda c: c.amount,
            number=lambda c: c.sino,
            read_back=self.read_back,
            listing=listing,
        )

    async def _looked_up(self, suno: str, command: ApDocument) -> list[InvoiceHead]:
        """The batches of this document: what ``find`` read a moment ago, else read now.

        The runtime calls ``find`` and then ``write`` for one claimed record with nothing
        written in between (one process holds the state; the record is claimed), so the
        answer ``find`` just got is still M3's; reading it again would double the pre-check.
        Only an answer this young is used, and only once: never a cached "absent" from an
        earlier attempt or pass.
        """
        seen = self._just_read.pop(command.cori, None)
        if seen is not None and time.monotonic() - seen[0] < JUST_READ_S:
            return seen[1]
        return await self._batches(suno, command)

    async def write(self, command: ApDocument, existing: Found | None, ctx: LoadContext) -> Written:
        """Head, lines, validation (then, with recode coding, the recode batch) — resuming
        whatever an earlier attempt left.

        Every step looks at M3 first: a batch of ours (by CORI) already staged is reused, lines
        already added are not added again, a validated batch is adopted. So an AddHead whose
        reply was lost never turns into a second batch on the next attempt.
        """
        with self.m3.document():
            return await self._write(command, existing, ctx)

    async def _write(
        self, command: ApDocument, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None and existing.complete:
            self._just_read.pop(command.cori, None)
            return Written(Outcome.UNCHANGED, existing.target_id)
        if existing is None and command.purchase_order_id is not None:
            puno = await self.m3_order_of(command.purchase_order_id)
            if puno is not None:
                # The order is M3's own: M3 matches the supplier's invoice to it, so posting
                # ServiceTitan's bill too would put the same purchase in AP twice.
                self._just_read.pop(command.cori, None)
                ctx.note("not_posted", {"reason": f"bill of M3 order {puno}; M3 invoices it"})
                return Written(Outcome.UNCHANGED, f"M3 PO {puno}")
        suno = command.fixed_suno or await ctx.ensure(self.vendor_stream, str(command.vendor_id))
        if command.fixed_suno and not await self._supplier_exists(suno):
            raise ConfigurationError(
                f"supplier {suno}, which ServiceTitan job invoices are booked against, does not "
                f"exist in M3 company {self.m3.company}: create it, or set "
                "options.invoice_supplier to an existing supplier",
                system="infor",
            )
        record = f"{command.kind} {command.source_id}"
        heads = await self._looked_up(suno, command)
        invoices = [b for b in heads if not b.recode]
        done = next((b for b in invoices if b.validated and _same_document(b, command)), None)
        wrote = done is None
        if done is None:
            done = await self._post(command, suno, invoices, record, ctx)
        detail = {"INBN": done.INBN, "VONO": done.VONO, "YEA4": done.YEA4}
        if self._recoding:
            recode_inbn, recoded_now = await self._recode(command, done, heads, record, ctx)
            if recode_inbn:
                detail["recode_INBN"] = recode_inbn
            wrote = wrote or recoded_now
        return Written(Outcome.CREATED if wrote else Outcome.UNCHANGED, done.INBN, detail)

    async def _post(
        self,
        command: ApDocument,
        suno: str,
        invoices: list[InvoiceHead],
        record: str,
        ctx: LoadContext,
    ) -> InvoiceHead:
        """Stage (or resume) this document's invoice batch, add its missing lines, validate."""
        taken = next((b for b in invoices if b.validated), None)
        if taken is not None:
            raise RejectedError(
                f"M3 already holds supplier {suno}'s invoice number {command.sino!r} as batch "
                f"{taken.INBN}, posted from {taken.CORI}; {record} carries the same number. "
                "Correct the reference number of one of them in ServiceTitan, then replay "
                f"{record}.",
                system="infor",
                record=record,
            )
        mine = next((b for b in invoices if b.CORI == command.cori), None)
        if mine is None:
            inbn = await self._add_head(
                {
                    "SUNO": suno,
                    "SPYN": suno,
                    "IVDT": command.invoice_date,
                    "ACDT": command.invoice_date,
                    "DUDT": command.due_date,
                    "SINO": command.sino,
                    "CUCD": command.currency,
                    "CUAM": str(command.amount),
                    "CORI": command.cori,
                },
                record=record,
            )
            ctx.note("batch_added", {"INBN": inbn})
            staged: list[Row] = []  # a batch just opened has no lines: no need to ask
        else:
            inbn = mine.INBN
            staged = await self.m3.lines(inbn)
        wanted: list[dict[str, str]] = []
        # Item numbers by SKU for this document: its lines repeat a few items, and each
        # ``ensure`` reads the ledger while the other documents wait for this one's AddLines.
        items: dict[str, str] = {}
        for line in command.lines:
            fields = {"RDTP": self.options.ap_line_type, "NLAM": str(line.amount)}
            if self.options.ap_coding == "addline":
                fields["AIT1"] = line.account
                fields[f"AIT{self.options.cost_center_ait}"] = line.cost_center
            if line.sku is not None:
                kind, _, sku_id = line.sku.partition(":")
                if line.sku not in items:
                    stream = "equipment_to_m3" if kind == "equipment" else "materials_to_m3"
                    items[line.sku] = await ctx.ensure(stream, sku_id)
                fields["ITNO"] = items[line.sku]
            wanted.append(fields)
        missing = missing_lines(wanted, staged)
        if missing:
            await self.m3.add_lines(
                inbn,
                [wanted[i] for i in missing],
                records=[f"{record} line {i + 1}" for i in missing],
            )
        await self.m3.validate_batch(inbn, record=record)
        return await self._validated(inbn, record, "")


class M3PurchaseOrderTarget:
    """M3 purchase orders for ServiceTitan ones, under the order number ``ST<id>``.

    The order number is derived from the source, so ``PPS200MI/GetHead`` is the natural-key
    look-up, and lines carry their numbers (``PNLI`` 10, 20, …), so "already added" is a
    question M3 answers line by line. Complete = the head and every line are there.
    """

    def __init__(self, m3: M3Client, vendor_stream: str) -> None:
        self.m3 = m3
        self.vendor_stream = vendor_stream

    async def _missing_lines(self, command: M3PurchaseOrderCommand) -> list[int]:
        present = {line.PNLI for line in await self.m3.purchase_order_lines(command.puno)}
        return [line.number for line in command.lines if str(line.number) not in present]

    async def find(self, command: M3PurchaseOrderCommand) -> Found | None:
        if command.mirrors is not None:
            return Found(command.mirrors, matches=True)
        if await self.m3.get_purchase_order(command.puno) is None:
            return None
        if command.canceled or not await self._missing_lines(command):
            return Found(command.puno, matches=True)
        # A head without all its lines is an earlier attempt cut short: not "found", so the
        # doubt stays open until ``write`` has added the rest.
        return None

    async def write(
        self, command: M3PurchaseOrderCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        """Head if M3 lacks it, then the lines M3 lacks; never an order twice.

        A head or line whose reply was lost is found here on the next attempt (by PUNO, by
        PNLI) and not added again. A PO changed in ServiceTitan after it reached M3 only gains
        lines it did not have: M3 owns the order from then on (noted in the audit trail).
        """
        if command.mirrors is not None:
            return Written(Outcome.UNCHANGED, command.mirrors, {"mirrors": command.mirrors})
        record = f"purchase order {command.source_id}"
        head = await self.m3.get_purchase_order(command.puno)
        if command.canceled:
            if head is None:
                ctx.note("not_written", {"reason": "canceled in ServiceTitan"})
                return Written(Outcome.UNCHANGED, "")
            ctx.note(
                "not_written",
                {"reason": "canceled in ServiceTitan after M3 had it: cancel it in M3 by hand"},
            )
            return Written(Outcome.UNCHANGED, head.PUNO)
        if head is None:
            await self._add_head(command, ctx, record)
            missing = {line.number for line in command.lines}
        else:
            missing = set(await self._missing_lines(command))
        for line in command.lines:
            if line.number in missing:
                kind, _, sku_id = line.sku.partition(":")
                stream = "equipment_to_m3" if kind == "equipment" else "materials_to_m3"
                await self.m3.add_purchase_order_line(
                    command.puno,
                    {
                        "PNLI": str(line.number),
                        "ITNO": await ctx.ensure(stream, sku_id),
                        "ORQA": _plain(line.quantity),
                        "PUPR": _plain(line.price),
                        "PITD": line.description,
                    },
                    record=f"{record} line {line.number}",
                )
        # Without a ledger entry (``existing``), lines added to a head already in M3 finish an
        # earlier attempt of ours: the order is new all the same.
        if head is None or (existing is None and missing):
            return Written(Outcome.CREATED, command.puno, {"PUNO": command.puno})
        if missing:
            return Written(Outcome.UPDATED, command.puno, {"lines_added": str(len(missing))})
        if existing is not None:
            ctx.note(
                "not_written",
                {"reason": "changed in ServiceTitan after M3 had it; M3 keeps it as sent"},
            )
        return Written(Outcome.UNCHANGED, command.puno)

    async def _add_head(
        self, command: M3PurchaseOrderCommand, ctx: LoadContext, record: str
    ) -> None:
        suno = await ctx.ensure(self.vendor_stream, str(command.vendor_id))
        puno = await self.m3.add_purchase_order(
            {
                "PUNO": command.puno,
                "SUNO": suno,
                "ORTY": command.order_type,
                "FACI": command.facility,
                "WHLO": command.warehouse,
                "PUDT": command.order_date,
                "DWDT": command.delivery_date,
                "CUCD": command.currency,
            },
            record=record,
        )
        if puno != command.puno:
            # Looked up by the number we asked for, an order under another number would be
            # invisible to every later check, and the next attempt would add a second one.
            raise RejectedError(
                f"M3 created {record} as order {puno}, not {command.puno} as asked: this M3 "
                f"assigns PO numbers itself. Delete order {puno} in M3, allow manual numbers "
                f"for order type {command.order_type}, then replay the record.",
                system="infor",
                record=record,
            )
        ctx.note("po_added", {"PUNO": puno, "SUNO": suno})


class StPurchaseOrderTarget:
    """ServiceTitan purchase orders for M3 ones, found by the memo ``M3 PO <PUNO>``.

    ServiceTitan takes no external data on a PO and cannot filter its list by it, so the memo
    carries the M3 order number and an index of every PO's memo (built once per pass, every
    miss confirmed live: :class:`CreatedSinceIndex`) is the natural-key look-up. Created once and
    never updated: M3 owns the order.
    """

    def __init__(self, client: ServiceTitanClient, vendor_stream: str, item_stream: str) -> None:
        self.client = client
        self.vendor_stream = vendor_stream
        self.item_stream = item_stream
        self._by_puno = CreatedSinceIndex(
            client, ("purchase_orders",), lambda po: mirrored_puno(po.summary)
        )

    async def prepare(self) -> None:
        await self._by_puno.rebuild()

    async def find(self, command: StPurchaseOrderCommand) -> Found | None:
        po_id = await self._by_puno.get(command.puno)
        return Found(str(po_id), matches=True) if po_id is not None else None

    async def write(
        self, command: StPurchaseOrderCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        vendor_id = await ctx.ensure(self.vendor_stream, command.suno)
        items = [
            st.PurchaseOrderItemCreate(
                sku_id=int(await ctx.ensure(self.item_stream, line.itno)),
                description=line.description,
                vendor_part_number="",
                quantity=float(line.quantity),
                cost=float(line.cost),
            )
            for line in command.lines
        ]
        po_id = await self.client.create_purchase_order(
            st.PurchaseOrderCreate(
                vendor_id=int(vendor_id),
                type_id=command.type_id,
                business_unit_id=command.business_unit_id,
                inventory_location_id=command.location_id,
                ship_to=st.ShipTo(description=command.ship_to),
                date=command.date,
                required_on=command.required_on,
                items=items,
                memo=command.memo,
            ),
            record=f"M3 purchase order {command.puno}",
        )
        self._by_puno.add(command.puno, po_id)
        return Written(Outcome.CREATED, str(po_id), {"PUNO": command.puno})


def _plain(value: Decimal) -> str:
    """A decimal as M3 reads it: ``.`` separator, no exponent, no trailing zeros."""
    return format(value.normalize(), "f")
