"""Where ServiceTitan ↔ SYSPRO records land: find by natural key first, then write.

Each ``find`` asks the target system only (never our ledger), because it is how an in-doubt
write is settled and how a rebuilt state database adopts what exists. SYSPRO is asked with a
live COMFND query on the natural key (supplier + invoice number, supplier code, PO number,
adjustment reference); SYSPRO posts a business object atomically, so what it finds is
complete. ServiceTitan vendors we create carry the SYSPRO supplier code in ``externalData``;
POs we create carry ``SYSPRO PO <number>`` in the memo and are found through
:class:`CreatedSinceIndex`.

Every SYSPRO call goes through :class:`SysproCycle`: one e.net session per run of the flow
(a polling cycle, a replay), opened on first use and logged off when the run ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import cast

import anyio

from connector.errors import ConfigurationError, PermanentError
from connector.flows.coalesce import Coalescer
from connector.flows.servicetitan_syspro.mapping import (
    SUPPLIER_KEY,
    AdjustmentCommand,
    ExportedCommand,
    Options,
    StPurchaseOrderCommand,
    SupplierCommand,
    SysproPurchaseOrderCommand,
    VendorCommand,
    mirrored_number,
    vendor_id_from_code,
)
from connector.runtime.flow import Found, LoadContext, Outcome, Written
from connector.systems.servicetitan import ServiceTitanClient
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.client import APPLICATION_GUID
from connector.systems.servicetitan.lookup import CreatedSinceIndex
from connector.systems.servicetitan.resources import RESOURCES
from connector.systems.servicetitan.vendors import write_mirrored_vendor
from connector.systems.syspro import SysproClient, SysproConnection
from connector.systems.syspro.models import (
    ApInvoice,
    InventoryAdjustment,
    PostingPeriod,
    PostOptions,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from connector.systems.syspro.xmlout import SYSTEM


class SysproCycle:
    """One e.net session per run of the flow, shared by its targets.

    ``run()`` wraps a run (``Flow.session``); the first SYSPRO call in it logs on, and the
    run's end logs off, whatever happened. A run that never calls SYSPRO takes no licence
    seat. The service may start a webhook drain while a scheduled cycle runs: overlapping
    runs share the session, and the last one to end logs off. The session runs one call at a
    time, so loader workers share it safely.
    """

    def __init__(self, connection: SysproConnection) -> None:
        self.connection = connection
        self._runs = 0
        self._session: AbstractAsyncContextManager[SysproClient] | None = None
        self._client: SysproClient | None = None
        self._lock = anyio.Lock()
        #: Sessions opened so far (one per run, or overlapping runs, that called SYSPRO).
        self.sessions_opened = 0

    @asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        self._runs += 1
        try:
            yield
        finally:
            self._runs -= 1
            if self._runs == 0:
                # Shielded: a cancelled run still gives its licence seat back.
                with anyio.CancelScope(shield=True):
                    async with self._lock:
                        session, self._session, self._client = self._session, None, None
                    if session is not None:
                        await session.__aexit__(None, None, None)

    async def client(self) -> SysproClient:
        """The run's SYSPRO client, logging on at the first call."""
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                if self._runs == 0:
                    raise RuntimeError(
                        "SYSPRO was called outside a run of the flow: FlowRunner opens the "
                        "session (Flow.session); a bug in ml-connector"
                    )
                session = self.connection.session()
                self._client = await session.__aenter__()
                self._session = session
                self.sessions_opened += 1
            return self._client


class SupplierTarget:
    """SYSPRO suppliers for ServiceTitan vendors (APSSSP), by code.

    A supplier ``ST<id>`` belongs to ServiceTitan: a renamed or deactivated vendor renames it
    or puts it on hold. A supplier a vendor was made from (``linked``) belongs to SYSPRO and
    is never changed from here.
    """

    def __init__(self, syspro: SysproCycle, options: Options) -> None:
        self.syspro = syspro
        self.options = options

    async def find(self, command: SupplierCommand) -> Found | None:
        client = await self.syspro.client()
        row = await client.find_supplier(command.code)
        if row is None:
            return None
        on_hold = row.on_hold.upper() == "Y"
        in_step = (row.supplier_name, on_hold) == (command.name, not command.active)
        return Found(command.code, matches=command.linked or in_step)

    async def write(
        self, command: SupplierCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if command.linked and existing is None:
            # SYSPRO owns this supplier: a vendor made from it never recreates it.
            raise PermanentError(
                f"vendor {command.vendor_id} was made from SYSPRO supplier {command.code}, "
                "which no longer exists in SYSPRO; deactivate the vendor in ServiceTitan or "
                "restore the supplier in SYSPRO, then replay the record",
                record=f"vendor {command.vendor_id}",
            )
        client = await self.syspro.client()
        if existing is not None:
            await client.update_supplier(
                Supplier(code=command.code, name=command.name, on_hold=not command.active)
            )
            return Written(Outcome.UPDATED, command.code)
        options = self.options
        await client.add_supplier(
            Supplier(
                code=command.code,
                name=command.name,
                short_name=command.name[:20].upper(),
                on_hold=not command.active,
                branch=options.supplier_branch or None,
                terms_code=options.supplier_terms_code or None,
                currency=options.supplier_currency or None,
            )
        )
        return Written(Outcome.CREATED, command.code)


class VendorTarget:
    """ServiceTitan vendors for SYSPRO suppliers: stamped with the supplier code.

    ``find`` is live: the vendor an ``ST<id>`` code names (a supplier made from it), else the
    vendor whose ``externalData`` carries the code (one we created). Vendors are linked by
    code only: a vendor entered by hand in both systems becomes a second ServiceTitan vendor,
    to be merged by a person.
    """

    def __init__(self, client: ServiceTitanClient) -> None:
        self.client = client

    async def find(self, command: VendorCommand) -> Found | None:
        own_id = vendor_id_from_code(command.code)
        if own_id is not None:
            vendor: st.Vendor | None = await self.client.get(RESOURCES["vendors"], own_id)
            if vendor is None:
                # Never a new vendor for a supplier ServiceTitan's own vendor made.
                raise PermanentError(
                    f"SYSPRO supplier {command.code} was made from ServiceTitan vendor {own_id}, "
                    "which no longer exists; link the supplier to another vendor by hand "
                    "(or put it on hold in SYSPRO), then replay the record",
                    record=f"supplier {command.code}",
                )
            # ServiceTitan's own vendor: it owns the data, nothing is written back.
            return Found(str(own_id), matches=True)
        stamped: list[st.Vendor] = await self.client.find_by_external_data(
            RESOURCES["vendors"], APPLICATION_GUID, SUPPLIER_KEY, [command.code]
        )
        if not stamped:
            return None
        match = min(stamped, key=lambda v: v.id)
        in_step = (match.name, match.active) == (command.name, command.active)
        return Found(str(match.id), matches=in_step)

    async def write(
        self, command: VendorCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        created, vendor_id = await write_mirrored_vendor(
            self.client,
            None if existing is None else existing.target_id,
            name=command.name,
            active=command.active,
            key=SUPPLIER_KEY,
            code=command.code,
            origin=f"SYSPRO supplier {command.code}",
        )
        return Written(Outcome.CREATED if created else Outcome.UPDATED, str(vendor_id))


class ApInvoiceTarget:
    """SYSPRO AP invoices (APSTIN) for ServiceTitan job invoices.

    Natural key: supplier + invoice number (``find_ap_invoice``). An invoice under that key
    that another document posted (its ``TransactionReference`` names another source) is not
    ours: ``find`` answers absent, and APSTIN refuses the post as a duplicate — a dead letter
    for a person, never a second invoice.
    """

    def __init__(self, syspro: SysproCycle, options: Options) -> None:
        self.syspro = syspro
        self.post_options = PostOptions(posting_period=_period(options.posting_period))
        self._supplier_known: set[str] = set()

    async def find(self, command: ApInvoice) -> Found | None:
        client = await self.syspro.client()
        row = await client.find_ap_invoice(command.supplier, command.invoice)
        if row is None or row.reference.strip() not in ("", command.reference):
            return None
        return Found(f"{command.supplier}/{command.invoice}", matches=True)

    async def write(self, command: ApInvoice, existing: Found | None, ctx: LoadContext) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        client = await self.syspro.client()
        await self._check_supplier(client, command.supplier)
        posted = await client.post_ap_invoice(command, self.post_options)
        return Written(
            Outcome.CREATED,
            f"{command.supplier}/{command.invoice}",
            {"journal": str(posted.journal), "period": f"{posted.year}-{posted.month:02d}"},
        )

    async def _check_supplier(self, client: SysproClient, code: str) -> None:
        """The clearing supplier is configuration: its absence stops the stream, not each
        invoice (checked once per process)."""
        if code in self._supplier_known:
            return
        if await client.find_supplier(code) is None:
            raise ConfigurationError(
                f"supplier {code}, which ServiceTitan job invoices are posted against, does "
                "not exist in SYSPRO: create it (AP supplier maintenance), or set "
                "options.invoice_supplier of flow servicetitan-syspro to an existing supplier",
                system=SYSTEM,
            )
        self._supplier_known.add(code)


class SysproPurchaseOrderTarget:
    """SYSPRO purchase orders (PORTOI) for ServiceTitan ones, numbered ``ST<id>``.

    The number is sent, never left to SYSPRO, so ``find_purchase_order`` is the natural-key
    lookup. Created once: SYSPRO owns the order afterwards (a later change in ServiceTitan
    goes to review with its diff).
    """

    def __init__(self, syspro: SysproCycle, vendor_stream: str) -> None:
        self.syspro = syspro
        self.vendor_stream = vendor_stream

    async def find(self, command: SysproPurchaseOrderCommand) -> Found | None:
        if command.mirrors is not None:
            return Found(command.mirrors, matches=True)
        client = await self.syspro.client()
        if await client.find_purchase_order(command.number) is None:
            return None
        return Found(command.number, matches=True)

    async def write(
        self, command: SysproPurchaseOrderCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        if command.canceled or command.order_date is None:
            ctx.note("not_written", {"reason": "canceled in ServiceTitan before SYSPRO had it"})
            return Written(Outcome.UNCHANGED, "")
        supplier = await ctx.ensure(self.vendor_stream, str(command.vendor_id))
        client = await self.syspro.client()
        number = await client.post_purchase_order(
            PurchaseOrder(
                number=command.number,
                supplier=supplier,
                order_date=command.order_date,
                warehouse=command.warehouse,
                reference=f"ServiceTitan PO {command.source_id}",
                lines=tuple(
                    PurchaseOrderLine(
                        line=line.line,
                        stock_code=line.stock_code,
                        quantity=line.quantity,
                        price=line.price,
                    )
                    for line in command.lines
                ),
            )
        )
        if number != command.number:
            raise PermanentError(
                f"SYSPRO created purchase order {command.source_id} as {number}, not "
                f"{command.number} as sent; every later lookup would miss it. Cancel {number} in "
                "SYSPRO, allow manual PO numbers for PORTOI, then replay the record",
                system=SYSTEM,
                record=f"purchase order {command.source_id}",
            )
        return Written(Outcome.CREATED, number, {"supplier": supplier})


class AdjustmentTarget:
    """SYSPRO inventory movements (INVTMA) for a ServiceTitan adjustment, one per line.

    Each line's reference (``STADJ<id>/<n>``, with stock code and warehouse) is its natural
    key: ``find`` answers complete when every line is there, unfinished when some are (an
    earlier attempt cut short), and ``write`` posts only the missing ones.
    """

    def __init__(self, syspro: SysproCycle) -> None:
        self.syspro = syspro

    async def _missing(self, client: SysproClient, command: AdjustmentCommand) -> list[int]:
        missing = []
        for index, line in enumerate(command.lines):
            rows = await client.find_inventory_adjustments(
                line.reference, stock_code=line.stock_code, warehouse=line.warehouse
            )
            if not rows:
                missing.append(index)
        return missing

    async def find(self, command: AdjustmentCommand) -> Found | None:
        target_id = f"STADJ{command.source_id}"
        if not command.lines:
            return Found(target_id, matches=True)
        missing = await self._missing(await self.syspro.client(), command)
        if len(missing) == len(command.lines):
            return None
        return Found(target_id, matches=True, complete=not missing)

    async def write(
        self, command: AdjustmentCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        target_id = f"STADJ{command.source_id}"
        if existing is not None and existing.complete:
            return Written(Outcome.UNCHANGED, existing.target_id)
        client = await self.syspro.client()
        missing = (
            await self._missing(client, command)
            if existing is not None
            else list(range(len(command.lines)))
        )
        journals = []
        for index in missing:
            line = command.lines[index]
            posted = await client.post_inventory_adjustment(
                InventoryAdjustment(
                    warehouse=line.warehouse,
                    stock_code=line.stock_code,
                    quantity=line.quantity,
                    reference=line.reference,
                    notation=line.notation,
                )
            )
            journals.append(str(posted.journal))
        return Written(Outcome.CREATED, target_id, {"journals": ",".join(journals)})


class StPurchaseOrderTarget:
    """ServiceTitan purchase orders for SYSPRO ones, found by the memo ``SYSPRO PO <n>``.

    ServiceTitan cannot filter POs by memo or take external data on one, so an index of every
    PO's memo (built once per pass, misses confirmed live: :class:`CreatedSinceIndex`) is the
    natural-key lookup. Created once, never updated: SYSPRO owns the order.
    """

    def __init__(self, client: ServiceTitanClient, vendor_stream: str) -> None:
        self.client = client
        self.vendor_stream = vendor_stream
        self._by_number = CreatedSinceIndex(
            client, ("purchase_orders",), lambda po: mirrored_number(po.summary)
        )
        self._sku_by_code = CreatedSinceIndex(
            client, ("materials", "equipment"), lambda item: (item.code or "").strip().upper()
        )

    async def prepare(self) -> None:
        await self._by_number.rebuild()

    async def find(self, command: StPurchaseOrderCommand) -> Found | None:
        po_id = await self._by_number.get(command.number)
        return Found(str(po_id), matches=True) if po_id is not None else None

    async def write(
        self, command: StPurchaseOrderCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        record = f"SYSPRO purchase order {command.number}"
        vendor_id = await ctx.ensure(self.vendor_stream, command.supplier)
        items = []
        for line in command.lines:
            sku_id = await self._sku_by_code.get(line.code.strip().upper())
            if sku_id is None:
                raise PermanentError(
                    f"{record}: ServiceTitan has no material or equipment coded {line.code} "
                    f"(mapped from SYSPRO stock code {line.description}); correct the "
                    "syspro_stock_to_st mapping, then replay the record",
                    record=record,
                )
            items.append(
                st.PurchaseOrderItemCreate(
                    sku_id=sku_id,
                    description=line.description,
                    vendor_part_number="",
                    quantity=float(line.quantity),
                    cost=float(line.cost),
                )
            )
        po_id = await self.client.create_purchase_order(
            st.PurchaseOrderCreate(
                vendor_id=int(vendor_id),
                type_id=command.type_id,
                business_unit_id=command.business_unit_id,
                inventory_location_id=command.location_id,
                ship_to=st.ShipTo(description=command.memo),
                date=command.date,
                required_on=command.date,
                items=items,
                memo=command.memo,
            ),
            record=record,
        )
        self._by_number.add(command.number, po_id)
        return Written(Outcome.CREATED, str(po_id), {"PurchaseOrder": command.number})


class ExportedTarget:
    """ServiceTitan invoices marked exported once SYSPRO AP holds them (``markasexported``).

    ``find`` reads the invoice's ``syncStatus`` live; marking it twice is harmless. Both go
    through a :class:`Coalescer`: loader workers' concurrent lookups become one ``ids=`` read
    and their marks one ``markasexported`` array, so a thousand invoices cost tens of
    requests against ServiceTitan's 60 per second, not two thousand.
    """

    #: Invoices per read (the API's ``ids`` limit) and per markasexported call.
    BATCH = 50

    def __init__(self, client: ServiceTitanClient) -> None:
        self.client = client
        self._read = Coalescer(self._invoices, size=self.BATCH)
        self._mark = Coalescer(self._mark_exported, size=self.BATCH)

    async def _invoices(self, ids: Sequence[int]) -> dict[int, st.Invoice]:
        found: list[st.Invoice] = await self.client.get_by_ids(RESOURCES["invoices"], ids)
        return {invoice.id: invoice for invoice in found}

    async def _mark_exported(self, marks: Sequence[tuple[int, str]]) -> dict[tuple[int, str], bool]:
        await self.client.mark_invoices_exported(dict(marks), record=f"{len(marks)} invoice(s)")
        return dict.fromkeys(marks, True)

    async def find(self, command: ExportedCommand) -> Found | None:
        invoice = await self._read(command.invoice_id)
        if invoice is None:
            raise PermanentError(
                f"ServiceTitan invoice {command.invoice_id}, posted to SYSPRO as "
                f"{command.supplier}/{command.invoice}, no longer exists; check the AP invoice "
                "in SYSPRO",
                record=f"invoice {command.invoice_id}",
            )
        if invoice.sync_status == "Exported":
            return Found(str(command.invoice_id), matches=True)
        return None

    async def write(
        self, command: ExportedCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        # ServiceTitan shows the SYSPRO AP invoice (supplier/invoice) as the export id.
        await self._mark((command.invoice_id, f"{command.supplier}/{command.invoice}"))
        return Written(Outcome.UPDATED, str(command.invoice_id), {"syncStatus": "Exported"})


def _period(value: str) -> PostingPeriod:
    if value not in ("C", "P", "B"):
        raise ConfigurationError(
            f"options.posting_period of flow servicetitan-syspro is {value!r}; use C (current "
            "period), P (previous) or B (by invoice date)"
        )
    return cast(PostingPeriod, value)
