"""Finding Acumatica records by natural key: the loader's verify-first step.

:class:`NaturalKeyLookups` answers "does the target already hold this record?" before a write
and after one whose answer was lost (an ``InDoubtError``), by a ``$filter`` on the fields the
connector fills from the source (``CustomerID``, ``VendorRef``, ``CustomerOrder``,
``PaymentRef``). Always asked of Acumatica, never of a cache.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging

import msgspec

from connector.systems.acumatica import models as m
from connector.systems.acumatica.endpoint import E
from connector.systems.acumatica.odata import odata_datetime, odata_string
from connector.systems.acumatica.reads import EntityReads

# Every part of the client logs under the client's name, which log configurations select on.
log = logging.getLogger("connector.systems.acumatica.client")


class NaturalKeyLookups(EntityReads):
    """``find_*``: one record by its natural key, or None."""

    async def find_customer(self, customer_id: str) -> m.Customer | None:
        """The customer with this ``CustomerID``, or None."""
        return await self._find_one(m.Customer, f"CustomerID eq {odata_string(customer_id)}")

    async def find_vendor(self, vendor_id: str) -> m.Vendor | None:
        """The vendor with this ``VendorID``, or None."""
        return await self._find_one(m.Vendor, f"VendorID eq {odata_string(vendor_id)}")

    async def find_bill(
        self, vendor: str, vendor_ref: str, *, doc_type: str = "Bill"
    ) -> m.Bill | None:
        """The bill of ``vendor`` with the vendor's invoice number ``vendor_ref``, or None."""
        return await self._find_one(
            m.Bill,
            f"Type eq {odata_string(doc_type)} and Vendor eq {odata_string(vendor)} "
            f"and VendorRef eq {odata_string(vendor_ref)}",
        )

    async def find_invoice(
        self,
        customer: str | None,
        reference: str,
        *,
        by: str = "CustomerOrder",
        doc_type: str = "Invoice",
    ) -> m.Invoice | None:
        """The invoice whose ``by`` field (``CustomerOrder``, where the connector puts the
        source's invoice number, or ``Description``) equals ``reference``; of ``customer``
        only, when given (None: a reference unique across customers, such as ours)."""
        if by not in ("CustomerOrder", "Description"):
            raise ValueError(f"find_invoice by {by!r}: use CustomerOrder or Description")
        of_customer = "" if customer is None else f" and Customer eq {odata_string(customer)}"
        return await self._find_one(
            m.Invoice,
            f"Type eq {odata_string(doc_type)}{of_customer} and {by} eq {odata_string(reference)}",
        )

    async def find_payment(
        self, customer_id: str | None, payment_ref: str, *, doc_type: str = "Payment"
    ) -> m.Payment | None:
        """The payment with ``PaymentRef`` ``payment_ref`` (of ``customer_id`` only, when
        given), or None."""
        of_customer = (
            "" if customer_id is None else f" and CustomerID eq {odata_string(customer_id)}"
        )
        return await self._find_one(
            m.Payment,
            f"Type eq {odata_string(doc_type)}{of_customer} "
            f"and PaymentRef eq {odata_string(payment_ref)}",
        )

    # -- documents of a period, by the prefix the connector gives its references -----------
    async def invoices_dated(
        self, start: dt.date, end: dt.date, prefix: str, *, doc_type: str = "Invoice"
    ) -> builtins.list[m.Invoice]:
        """Invoices dated ``start``..``end`` whose ``CustomerOrder`` starts with ``prefix``."""
        return await self._dated(m.Invoice, "Date", start, end, doc_type, "CustomerOrder", prefix)

    async def payments_dated(
        self, start: dt.date, end: dt.date, prefix: str, *, doc_type: str = "Payment"
    ) -> builtins.list[m.Payment]:
        """Payments applied ``start``..``end`` whose ``PaymentRef`` starts with ``prefix``."""
        return await self._dated(
            m.Payment, "ApplicationDate", start, end, doc_type, "PaymentRef", prefix
        )

    async def bills_dated(
        self, start: dt.date, end: dt.date, prefix: str, *, doc_type: str = "Bill"
    ) -> builtins.list[m.Bill]:
        """Bills dated ``start``..``end`` whose ``Description`` starts with ``prefix`` (a
        bill's ``VendorRef`` is the vendor's number, so our mark is in its description)."""
        return await self._dated(m.Bill, "Date", start, end, doc_type, "Description", prefix)

    async def _dated(
        self,
        entity: type[E],
        date_field: str,
        start: dt.date,
        end: dt.date,
        doc_type: str,
        prefix_field: str,
        prefix: str,
    ) -> builtins.list[E]:
        # A document date is a day Acumatica stores as midnight in the instance's zone, so
        # the filter reaches a day beyond each end and the day itself decides (the models
        # keep the day as written, see .values).
        first = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), dt.UTC)
        after = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(), dt.UTC)
        found = await self.list(
            entity,
            filter=(
                f"Type eq {odata_string(doc_type)} "
                f"and startswith({prefix_field},{odata_string(prefix)}) "
                f"and {date_field} ge {odata_datetime(first)} "
                f"and {date_field} lt {odata_datetime(after)}"
            ),
        )
        attribute = next(
            f.name for f in msgspec.structs.fields(entity) if f.encode_name == date_field
        )
        return [
            record for record in found
            if (day := getattr(record, attribute)) is not None and start <= day <= end
        ]

    async def _find_one(self, entity: type[E], condition: str) -> E | None:
        found = await self.list(entity, filter=condition)
        if len(found) > 1:
            # Someone (or an earlier bug) created duplicates: adopt the first, in key order,
            # and say so, because the others need a person's attention.
            log.warning(
                "acumatica: %d %s records match %s (%s); adopting %s",
                len(found),
                entity.entity,
                condition,
                ", ".join(record.describe() for record in found),
                found[0].describe(),
            )
        return found[0] if found else None
