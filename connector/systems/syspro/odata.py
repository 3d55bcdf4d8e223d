"""Polling SYSPRO through its read-only OData service.

``GET {odata_url}/{Table}`` with Basic auth (the operator's code and password; the OData
service maps the operator to its own SQL login). Incremental reads ask for rows whose
timestamp column is at or after a point — ``InvoiceDate``/``PostDate`` as the product pages
suggest, or the ``TimeStamp`` row version — ordered by that column, with ``$select`` set to
the record type's fields. The caller restarts a little before its cursor and dedupes: ``ge``,
not ``gt``, so rows sharing the cursor's value are never skipped.

Pages are ``$top``/``$skip``; an ``@odata.nextLink`` is followed when the server sends one
(it caps a page at 5,000 rows whatever ``$top`` says). String literals are quoted by
:func:`odata_string`, never pasted into ``$filter``.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import msgspec
from yarl import URL

from connector.errors import ConfigurationError, RejectedError
from connector.http.client import HttpClient
from connector.systems.syspro.models import ApInvoiceRecord
from connector.systems.syspro.xmlout import SYSTEM

T = TypeVar("T", bound=msgspec.Struct)

#: The service's cap on rows per request.
MAX_PAGE_SIZE = 5000
Since = dt.datetime | dt.date | int


class _Page(msgspec.Struct):
    value: list[Any]
    next_link: str | None = msgspec.field(default=None, name="@odata.nextLink")


def odata_string(value: str) -> str:
    """``value`` as an OData string literal: in single quotes, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def odata_literal(value: Since) -> str:
    """A date-time (aware), date or row version as a ``$filter`` literal."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{value!r} has no time zone; pass an aware datetime")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(int(value))


class SysproOData:
    """Reads company tables as typed records (see the module docstring)."""

    def __init__(self, http: HttpClient, odata_url: str, *, page_size: int = MAX_PAGE_SIZE):
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, not {page_size}")
        self.http = http
        self.odata_url = odata_url.rstrip("/")
        self.page_size = page_size

    def __repr__(self) -> str:
        return f"SysproOData(url={self.odata_url!r}, page_size={self.page_size})"

    async def changed_since(
        self, record_type: type[T], column: str, since: Since | None
    ) -> AsyncIterator[T]:
        """Rows of ``record_type``'s table with ``column ge since`` (all when None), oldest
        first."""
        condition = None if since is None else f"{column} ge {odata_literal(since)}"
        async for row in self.rows(record_type, condition, order_by=column):
            yield row

    async def ap_invoices_dated(
        self, supplier: str, start: dt.date, end: dt.date
    ) -> AsyncIterator[ApInvoiceRecord]:
        """The AP invoices of ``supplier`` dated (``InvoiceDate``) ``start``..``end``."""
        condition = (
            f"Supplier eq {odata_string(supplier)} and InvoiceDate ge {odata_literal(start)} "
            f"and InvoiceDate le {odata_literal(end)}"
        )
        async for row in self.rows(ApInvoiceRecord, condition, order_by="Invoice"):
            yield row

    async def ap_invoice(self, supplier: str, invoice: str) -> ApInvoiceRecord | None:
        """The AP invoice ``invoice`` of ``supplier``, or None (a read that needs no e.net
        session, so no licence seat)."""
        condition = f"Supplier eq {odata_string(supplier)} and Invoice eq {odata_string(invoice)}"
        async for row in self.rows(ApInvoiceRecord, condition):
            return row
        return None

    async def rows(
        self, record_type: type[T], condition: str | None = None, *, order_by: str | None = None
    ) -> AsyncIterator[T]:
        """Every row of ``record_type``'s table matching ``condition`` (an OData $filter)."""
        table: str = getattr(record_type, "table")  # noqa: B009 - a ClassVar of the record type
        params: dict[str, str] = {
            "$select": ",".join(f.encode_name for f in msgspec.structs.fields(record_type)),
            "$top": str(self.page_size),
        }
        if condition:
            params["$filter"] = condition
        if order_by:
            params["$orderby"] = order_by
        url: URL | None = URL(f"{self.odata_url}/{table}").with_query(params)
        skip = 0
        # Rows received for the current $top: a server may split one $top into several
        # nextLink pages, and only a short *total* means the set is exhausted.
        batch = 0
        while url is not None:
            page = await self._page(url, table)
            for value in page.value:
                yield self._record(value, record_type, table)
            skip += len(page.value)
            batch += len(page.value)
            if page.next_link:
                url = URL(page.next_link, encoded=True)
                self._same_service(url)
            elif batch < self.page_size:
                url = None
            else:
                batch = 0
                url = URL(f"{self.odata_url}/{table}").with_query(params | {"$skip": str(skip)})

    async def _page(self, url: URL, table: str) -> _Page:
        response = await self.http.request("GET", url, idempotent=True, record=f"{table} poll")
        return response.json(_Page)

    def _same_service(self, url: URL) -> None:
        # A nextLink elsewhere would carry our Basic credentials to another host.
        if not str(url).startswith(self.odata_url):
            raise ConfigurationError(
                f"SYSPRO OData sent a nextLink outside {self.odata_url} ({url.host}{url.path}); "
                "check odata_url in the config against the service's own base address",
                system=SYSTEM,
            )

    @staticmethod
    def _record(value: Any, record_type: type[T], table: str) -> T:
        if isinstance(value, dict):
            # SYSPRO dates are calendar dates; OData carries them as midnight date-times.
            for name in _date_fields(record_type):
                if isinstance(value.get(name), str):
                    value[name] = value[name][:10]
        try:
            return msgspec.convert(value, record_type, strict=False)
        except msgspec.ValidationError as exc:
            raise RejectedError(
                f"a {table} row from SYSPRO OData does not fit the connector's model ({exc}); "
                "report it with this message",
                system=SYSTEM,
                record=f"{table} poll",
                code="unexpected_response",
            ) from None


def _date_fields(record_type: type[msgspec.Struct]) -> list[str]:
    """Wire names of the fields typed ``date`` (not ``datetime``) in ``record_type``."""
    return [
        f.encode_name
        for f in msgspec.structs.fields(record_type)
        if f.type is dt.date or dt.date in typing.get_args(f.type)
    ]
