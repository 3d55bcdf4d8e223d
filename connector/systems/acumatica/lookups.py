"""Finding Acumatica records by natural key: the loader's verify-first step.

:class:`NaturalKeyLookups` answers "does the target already hold this record?" before a write
and after one whose answer was lost (an ``InDoubtError``), by a ``$filter`` on the fields the
connector fills from the source (``CustomerID``, ``VendorRef``, ``CustomerOrder``,
``PaymentRef``). Always asked of Acumatica, never of a cache.

The ``find_*s`` forms answer for many keys with one ``$filter`` (``… eq 'a' or … eq 'b'``):
one request for the look-ups of every document a loader batch holds, each as live as alone.
A key matches the way Acumatica compares strings, ignoring case.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import msgspec

from connector.systems.acumatica import models as m
from connector.systems.acumatica.endpoint import E
from connector.systems.acumatica.odata import odata_datetime, odata_string
from connector.systems.acumatica.reads import EntityReads

# Every part of the client logs under the client's name, which log configurations select on.
log = logging.getLogger("connector.systems.acumatica.client")

#: A natural key: one value, or a tuple of values (a bill's vendor and VendorRef).
K = TypeVar("K", str, tuple[str, str])


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

    async def find_customers(self, customer_ids: Sequence[str]) -> dict[str, m.Customer]:
        """The customers with these ``CustomerID`` values, by the id asked for."""
        return await self._find_each(
            m.Customer, customer_ids, lambda c: (c.customer_id,), lambda k: _eq("CustomerID", k)
        )

    async def find_vendors(self, vendor_ids: Sequence[str]) -> dict[str, m.Vendor]:
        """The vendors with these ``VendorID`` values, by the id asked for."""
        return await self._find_each(
            m.Vendor, vendor_ids, lambda v: (v.vendor_id,), lambda k: _eq("VendorID", k)
        )

    async def find_invoices(
        self, references: Sequence[str], *, doc_type: str = "Invoice"
    ) -> dict[str, m.Invoice]:
        """The invoices whose ``CustomerOrder`` is one of ``references`` (ours, unique across
        customers), by the reference asked for."""
        return await self._find_each(
            m.Invoice,
            references,
            lambda i: (i.customer_order,),
            lambda k: _eq("CustomerOrder", k),
            of_type=doc_type,
        )

    async def find_payments(
        self, payment_refs: Sequence[str], *, doc_type: str = "Payment"
    ) -> dict[str, m.Payment]:
        """The payments whose ``PaymentRef`` is one of ``payment_refs``, by the ref asked for."""
        return await self._find_each(
            m.Payment,
            payment_refs,
            lambda p: (p.payment_ref,),
            lambda k: _eq("PaymentRef", k),
            of_type=doc_type,
        )

    async def find_bills(
        self, keys: Sequence[tuple[str, str]], *, doc_type: str = "Bill"
    ) -> dict[tuple[str, str], m.Bill]:
        """The bills for these (vendor, ``VendorRef``) pairs, by the pair asked for."""
        return await self._find_each(
            m.Bill,
            keys,
            lambda b: (b.vendor, b.vendor_ref),
            lambda k: f"({_eq('Vendor', k[0])} and {_eq('VendorRef', k[1])})",
            of_type=doc_type,
        )

    async def _find_each(
        self,
        entity: type[E],
        keys: Sequence[K],
        key_of: Callable[[E], tuple[str | None, ...]],
        condition: Callable[[K], str],
        *,
        of_type: str | None = None,
    ) -> dict[K, E]:
        """One ``$filter`` for every key; per key the record :meth:`_find_one` would pick."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        either = " or ".join(condition(key) for key in wanted)
        where = f"Type eq {odata_string(of_type)} and ({either})" if of_type else either
        found = await self.list(entity, filter=where)
        by_key: dict[tuple[str, ...], list[E]] = {}
        for record in found:
            by_key.setdefault(_folded(key_of(record)), []).append(record)
        answers: dict[K, E] = {}
        for key in wanted:
            matches = by_key.get(_folded(key if isinstance(key, tuple) else (key,)), [])
            if matches:
                answers[key] = self._first(entity, f"{entity.entity} {key}", matches)
        return answers

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
            record
            for record in found
            if (day := getattr(record, attribute)) is not None and start <= day <= end
        ]

    async def _find_one(self, entity: type[E], condition: str) -> E | None:
        found = await self.list(entity, filter=condition)
        return self._first(entity, condition, found) if found else None

    @staticmethod
    def _first(entity: type[E], condition: str, found: list[E]) -> E:
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
        return found[0]


def _folded(values: tuple[str | None, ...]) -> tuple[str, ...]:
    """A key as Acumatica compares it: strings ignore case."""
    return tuple((value or "").casefold() for value in values)


def _eq(field: str, value: str) -> str:
    return f"{field} eq {odata_string(value)}"
