"""Where ``ifs-servicetitan`` records land: a live look-up by natural key, then a write.

* **ServiceTitan GL accounts** are found by ``number`` in the chart, read whole and live
  on every look-up (a chart is a few hundred rows at most; ServiceTitan cannot filter it
  by number).
* **ServiceTitan purchase orders** take no external data, so the IFS order number travels
  in the memo (``IFS PO P100231``) and an index of every PO's memo, built once per pass,
  answers the look-up; every miss is confirmed live by reading the POs created since
  (:class:`~connector.systems.servicetitan.lookup.CreatedSinceIndex`).
* **IFS vouchers** are external loads named after the ServiceTitan document
  (``ST-INV-88812``). :meth:`VoucherTarget.find` asks IFS for the load's rows: none = absent;
  rows not yet turned into a voucher = present but unfinished, and the write then posts
  only the rows still missing (each row's text carries its ``#n``) and runs the load's
  actions — rows are never posted twice. Every action sends the load's ETag in
  ``If-Match``; a concurrent change (412) is re-read and re-applied by the client once,
  then is a conflict the processor retries on its next pass.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from connector.errors import MappingError, RejectedError
from connector.flows.common import CENT
from connector.flows.ifs_servicetitan.mapping import (
    TAX_ZONE,
    GlAccountCommand,
    StPurchaseOrderCommand,
    VoucherCommand,
    VoucherRowCommand,
    mirrored_order_no,
    row_marker,
)
from connector.runtime.flow import Found, LoadContext, Outcome, Written
from connector.systems.ifs import IfsClient
from connector.systems.ifs import models as ifs
from connector.systems.servicetitan import ServiceTitanClient
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.lookup import CreatedSinceIndex
from connector.systems.servicetitan.resources import RESOURCES

#: The state of external voucher rows that a voucher was created from.
VOUCHER_CREATED = "Updated"


class GlAccountTarget:
    """ServiceTitan GL accounts for IFS accounts; IFS owns the name once linked."""

    def __init__(self, client: ServiceTitanClient) -> None:
        self.client = client

    async def _by_number(self, number: str) -> st.GLAccount | None:
        async for account in self.client.records(RESOURCES["gl_accounts"]):
            if account.number == number:
                found: st.GLAccount = account
                return found
        return None

    async def find(self, command: GlAccountCommand) -> Found | None:
        account = await self._by_number(command.number)
        if account is None:
            return None
        return Found(str(account.id), matches=account.name == command.name and account.active)

    async def write(
        self, command: GlAccountCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        record = f"GL account {command.number} (from IFS)"
        resource = RESOURCES["gl_accounts"]
        if existing is not None:
            changes = st.GLAccountUpdate(name=command.name, active=True)
            await self.client.update(resource, int(existing.target_id), changes, record=record)
            return Written(Outcome.UPDATED, existing.target_id, {"number": command.number})
        new = st.GLAccountCreate(name=command.name, number=command.number, type=command.type)
        account_id = await self.client.create(resource, new, record=record)
        return Written(Outcome.CREATED, str(account_id), {"number": command.number})


class PurchaseOrderTarget:
    """ServiceTitan purchase orders for IFS ones, found by the memo ``IFS PO <no>``.

    Created once and never updated: IFS owns the order (a change after creation goes to
    review). The tax is the order's subtotal at the mapped tax zone's combined rate.
    """

    def __init__(self, client: ServiceTitanClient) -> None:
        self.client = client
        self._by_order = CreatedSinceIndex(
            client, ("purchase_orders",), lambda po: mirrored_order_no(po.summary)
        )
        self._rates: dict[int, Decimal] | None = None

    async def prepare(self) -> None:
        self._rates = None
        await self._by_order.rebuild()

    async def find(self, command: StPurchaseOrderCommand) -> Found | None:
        po_id = await self._by_order.get(command.order_no)
        return Found(str(po_id), matches=True) if po_id is not None else None

    async def _rate(self, command: StPurchaseOrderCommand) -> Decimal:
        if self._rates is None:
            self._rates = {
                zone.id: sum((Decimal(str(r.tax_rate or 0)) for r in zone.rates or ()), Decimal(0))
                async for zone in self.client.records(RESOURCES["tax_zones"])
            }
        rate = self._rates.get(command.tax_zone_id)
        if rate is None:
            raise MappingError(
                f"IFS purchase order {command.order_no}: tax zone {command.tax_zone_id} does "
                "not exist in ServiceTitan. Correct it: ml-connector review resolve --mapping "
                f"{TAX_ZONE} <TaxLiability>=<tax zone id>",
                record=f"IFS purchase order {command.order_no}",
                mapping_kind=TAX_ZONE,
                mapping_key=str(command.tax_zone_id),
            )
        return rate

    async def write(
        self, command: StPurchaseOrderCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        tax = (command.subtotal * await self._rate(command) / 100).quantize(CENT)
        po_id = await self.client.create_purchase_order(
            st.PurchaseOrderCreate(
                vendor_id=command.vendor_id,
                type_id=command.type_id,
                business_unit_id=command.business_unit_id,
                inventory_location_id=command.location_id,
                ship_to=st.ShipTo(description="Main warehouse"),
                date=command.date,
                required_on=command.required_on,
                tax=float(tax),
                items=[
                    st.PurchaseOrderItemCreate(
                        sku_id=line.sku_id,
                        description=line.description,
                        vendor_part_number=line.vendor_part_number,
                        quantity=float(line.quantity),
                        cost=float(line.cost),
                    )
                    for line in command.lines
                ],
                memo=command.memo,
            ),
            record=f"IFS purchase order {command.order_no}",
        )
        self._by_order.add(command.order_no, po_id)
        return Written(Outcome.CREATED, str(po_id), {"OrderNo": command.order_no, "tax": str(tax)})


def _amount(value: float | None) -> Decimal | None:
    return Decimal(str(value)).quantize(CENT) if value else None


class VoucherTarget:
    """IFS external voucher loads for ServiceTitan documents (module docstring)."""

    def __init__(self, client: IfsClient) -> None:
        self.ifs = client

    async def find(self, command: VoucherCommand) -> Found | None:
        if not command.rows:
            return None
        rows = await self.ifs.find_voucher_rows(command.load_id)
        if not rows:
            return None
        complete = all(row.objstate == VOUCHER_CREATED for row in rows)
        there = Counter(
            (r.account, r.code_b, _amount(r.debet_amount), _amount(r.credit_amount)) for r in rows
        )
        wanted = Counter((r.account, r.cost_center, r.debit, r.credit) for r in command.rows)
        return Found(command.load_id, matches=there == wanted, complete=complete)

    async def write(
        self, command: VoucherCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if not command.rows:
            return Written(Outcome.UNCHANGED, "", {"posted": "nothing to post"})
        present: set[int] = set()
        if existing is not None:
            for loaded in await self.ifs.find_voucher_rows(command.load_id):
                number = row_marker(loaded.text)
                if number is not None:
                    present.add(number)
        missing = [row for row in command.rows if row.number not in present]
        for row in missing:
            await self.ifs.create(
                ifs.ExternalVoucherRow,
                self._new_row(command, row),
                record=f"{command.reference} row #{row.number}",
            )
        if missing:
            ctx.note("rows_loaded", {"LoadId": command.load_id, "rows": str(len(missing))})
        load = await self.ifs.find_load(command.load_id)
        if load is None:
            raise RejectedError(
                f"IFS holds rows under load {command.load_id} for {command.reference} but no "
                "external load of that id: create the load in IFS (External Voucher Load "
                "Information), then replay the record",
                system="ifs",
                record=command.reference,
                code="load_missing",
            )
        keys = load.key_values()
        await self.ifs.run_action(ifs.ExternalLoad, keys, "DoCheckTransactions", etag=load.etag)
        await self.ifs.run_action(ifs.ExternalLoad, keys, "DoCreateVoucher")
        return Written(
            Outcome.CREATED,
            command.load_id,
            {
                "LoadId": command.load_id,
                "rows": str(len(command.rows)),
                "finished": "yes" if existing is not None else "no",
            },
        )

    def _new_row(self, command: VoucherCommand, row: VoucherRowCommand) -> ifs.WriteBody:
        debit = float(row.debit) if row.debit is not None else None
        credit = float(row.credit) if row.credit is not None else None
        return ifs.NewExternalVoucherRow(
            company=self.ifs.company,
            load_id=command.load_id,
            account=row.account,
            correction=False,
            transaction_date=command.transaction_date,
            voucher_type=command.voucher_type,
            code_b=row.cost_center,
            currency_code=command.currency,
            currency_debet_amount=debit,
            currency_credit_amount=credit,
            debet_amount=debit,
            credit_amount=credit,
            text=row.text,
        )
