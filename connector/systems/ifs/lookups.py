"""Finding IFS rows by natural key, and listing the code-part values of a company.

:class:`NaturalKeyLookups` answers "does IFS already hold this?" before a write and after
one whose answer was lost (an ``InDoubtError``). Always asked of IFS, never of a cache.
"""

from __future__ import annotations

import datetime as dt

from yarl import URL

from connector.systems.ifs import models as m
from connector.systems.ifs.odata import key_predicate, literal
from connector.systems.ifs.problems import refusal
from connector.systems.ifs.reads import ProjectionReads, decode, decode_raw


class NaturalKeyLookups(ProjectionReads):
    """``find_*`` and the code-part lists: rows by the keys the connector derives."""

    async def find_purchase_order(self, order_no: str) -> m.PurchaseOrder | None:
        """The purchase order ``order_no`` (its supplier expanded), or None."""
        return await self.get(m.PurchaseOrder, order_no, expand=["VendorNoRef"])

    async def purchase_order_lines(self, order_no: str) -> list[m.PurchaseOrderLine]:
        """The lines of one purchase order, in line order."""
        return await self.list(m.PurchaseOrderLine, filter=f"OrderNo eq {literal(order_no)}")

    async def find_supplier(self, supplier_id: str) -> m.Supplier | None:
        return await self.get(m.Supplier, supplier_id)

    async def find_account(self, account: str, company: str | None = None) -> m.Account | None:
        return await self.get(m.Account, company or self.company, account)

    async def find_code_part(
        self, part: str, value: str, company: str | None = None
    ) -> m.CodePartValue | None:
        """The value ``value`` of code part ``part`` (``"B"`` … ``"J"``: cost center, …)."""
        name = _code_part(part)
        label = f"{name} {value}"
        url = URL(
            f"{self.api_root}/{name}Handling.svc/{name}Set"
            f"{key_predicate(('Company', name), (company or self.company, value))}",
            encoded=True,
        )
        response = await self._transport.read(url, label)
        if response.status == 404:
            return None
        if response.status != 200:
            raise refusal(response, label, write=False)
        return decode(response, m.CodePartValue, label)

    async def code_part_values(
        self, part: str, company: str | None = None
    ) -> list[m.CodePartValue]:
        """Every value of code part ``part`` (``"B"``: the cost centers) in the company, for
        an implementer filling mapping tables."""
        name = _code_part(part)
        label = f"{name}Set list"
        url: URL | None = URL(f"{self.api_root}/{name}Handling.svc/{name}Set", encoded=True)
        query: dict[str, str] | None = {
            "$filter": f"Company eq {literal(company or self.company)}",
            "$orderby": name,
        }
        found: list[m.CodePartValue] = []
        while url is not None:
            response = await self._transport.read(url, label, params=query)
            if response.status != 200:
                raise self._list_refused(response, label)
            page = decode(response, m.Page, label)
            found.extend(decode_raw(response, raw, m.CodePartValue, label) for raw in page.value)
            url = URL(f"{self.api_root}/{page.next_link}", encoded=True) if page.next_link else None
            query = None
        return found

    async def find_load(self, load_id: str, company: str | None = None) -> m.ExternalLoad | None:
        return await self.get(m.ExternalLoad, company or self.company, load_id)

    async def find_voucher_rows(
        self, load_id: str, company: str | None = None
    ) -> list[m.ExternalVoucherRow]:
        """The external voucher rows posted under ``load_id`` (the natural key the connector
        derives from the source document), in record order; empty when there are none."""
        condition = (
            f"Company eq {literal(company or self.company)} and LoadId eq {literal(load_id)}"
        )
        return await self.list(m.ExternalVoucherRow, filter=condition)

    async def voucher_rows_dated(
        self, prefix: str, start: dt.date, end: dt.date, company: str | None = None
    ) -> list[m.ExternalVoucherRow]:
        """The external voucher rows dated (``TransactionDate``) ``start``..``end`` whose load
        id starts with ``prefix`` — every load the connector posted in a period, in pages."""
        condition = (
            f"Company eq {literal(company or self.company)} "
            f"and startswith(LoadId,{literal(prefix)}) "
            f"and TransactionDate ge {literal(start)} "
            f"and TransactionDate le {literal(end)}"
        )
        return await self.list(m.ExternalVoucherRow, filter=condition)


def _code_part(part: str) -> str:
    """``"b"`` → ``"CodeB"``; code parts are the letters B to J."""
    letter = part.upper()
    if len(letter) != 1 or letter not in "BCDEFGHIJ":
        raise ValueError(f"code part {part!r}: use one letter from B to J")
    return f"Code{letter}"
