"""SyteLine master data for the flow: the site check, vendors (``SLVendors``) and items
(``SLItems``), each looked up live by its key and read whole by bookmark paging."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from connector.errors import ConfigurationError
from connector.systems.infor.auth import SYSTEM
from connector.systems.infor.lines import LineItem, LineSupplier
from connector.systems.infor.syteline.base import SyteLineCalls
from connector.systems.infor.syteline.ido import INSERT, Item, change, quote
from connector.systems.infor.syteline.values import VEND_NUM, expand, iso_time, text, wire_time

VENDOR_PROPS = ("VendNum", "Name", "Stat", "CurrCode", "RecordDate")
ITEM_PROPS = ("Item", "Description", "UM", "Stat", "ProductCode", "RecordDate")
T = TypeVar("T")

#: SLItems needs a product code; ServiceTitan pricebook kinds map to these (they must exist
#: in the site's product code table).
PRODUCT_CODES = {"material": "MATERIAL", "equipment": "EQUIPMENT"}
#: How the kind is recognised again when an item is read back.
KINDS = {code: kind for kind, code in PRODUCT_CODES.items()}


def _supplier(item: Item) -> LineSupplier:
    return LineSupplier(
        code=text(item.get("VendNum")),
        name=text(item.get("Name")),
        active=item.get("Stat") != "I",
        currency=text(item.get("CurrCode")) or "USD",
        changed=iso_time(item.get("RecordDate")),
        version=item.get("_ItemId") or "",
    )


def _item(item: Item) -> LineItem:
    return LineItem(
        code=text(item.get("Item")),
        description=text(item.get("Description")),
        kind=KINDS.get(text(item.get("ProductCode")), "material"),
        unit=text(item.get("UM")) or "EA",
        active=item.get("Stat") == "A",
        changed=iso_time(item.get("RecordDate")),
        version=item.get("_ItemId") or "",
    )


class MasterData(SyteLineCalls):
    async def validate(self) -> None:
        """The configuration answers and holds the configured site (``company``)."""
        site = await self._one(
            "SLSites", ("Site", "SiteName"), f"Site = {quote(self.site)}", f"site {self.site}"
        )
        if site is None:
            raise ConfigurationError(
                f"SyteLine configuration {self.ido.config!r} has no site {self.site!r}: set "
                "company of this Infor system to the site the configuration opens",
                system=SYSTEM,
                record=f"site {self.site}",
            )

    # -- vendors ------------------------------------------------------------------------
    async def get_supplier(self, code: str) -> LineSupplier | None:
        key = expand(code, VEND_NUM, "supplier")
        found = await self._one(
            "SLVendors", VENDOR_PROPS, f"VendNum = {quote(key)}", f"supplier {code}"
        )
        return _supplier(found) if found is not None else None

    async def write_supplier(self, supplier: LineSupplier, existing: LineSupplier | None) -> None:
        record = f"supplier {supplier.code}"
        key = expand(supplier.code, VEND_NUM, "supplier")
        values: dict[str, str | None] = {
            "Name": supplier.name[:60],
            "Stat": "A" if supplier.active else "I",
        }
        if existing is None:
            values = {"VendNum": key, **values, "CurrCode": supplier.currency}
            await self.ido.update(
                "SLVendors", [change(INSERT, values)], refresh=False, record=record
            )
            return
        version = existing.version or (await self._vendor_version(key, record))
        await self._update_locked(
            "SLVendors", version, values, record, lambda: self._vendor_row(key, record)
        )

    async def _vendor_row(self, key: str, record: str) -> Item | None:
        return await self._one("SLVendors", ("VendNum",), f"VendNum = {quote(key)}", record)

    async def _vendor_version(self, key: str, record: str) -> str:
        row = await self._vendor_row(key, record)
        return (row or {}).get("_ItemId") or ""

    def suppliers(self, changed_since: str | None = None) -> AsyncIterator[LineSupplier]:
        return self._list("SLVendors", VENDOR_PROPS, "VendNum", changed_since, _supplier)

    # -- items --------------------------------------------------------------------------
    async def get_item(self, code: str) -> LineItem | None:
        found = await self._one("SLItems", ITEM_PROPS, f"Item = {quote(code)}", f"item {code}")
        return _item(found) if found is not None else None

    async def write_item(self, item: LineItem, existing: LineItem | None) -> None:
        record = f"item {item.code}"
        values: dict[str, str | None] = {
            "Description": item.description[:40],
            "UM": item.unit,
            "Stat": "A" if item.active else "O",
        }
        if existing is None:
            values = {
                "Item": item.code,
                **values,
                "ProductCode": PRODUCT_CODES.get(item.kind, PRODUCT_CODES["material"]),
            }
            await self.ido.update("SLItems", [change(INSERT, values)], refresh=False, record=record)
            return

        async def current() -> Item | None:
            return await self._one("SLItems", ("Item",), f"Item = {quote(item.code)}", record)

        version = existing.version or ((await current()) or {}).get("_ItemId") or ""
        await self._update_locked("SLItems", version, values, record, current)

    def items(self, changed_since: str | None = None) -> AsyncIterator[LineItem]:
        return self._list("SLItems", ITEM_PROPS, "Item", changed_since, _item)

    async def _list(
        self,
        ido: str,
        props: tuple[str, ...],
        key: str,
        since: str | None,
        convert: Callable[[Item], T],
    ) -> AsyncIterator[T]:
        where = f"RecordDate >= {quote(wire_time(since))}" if since else None
        async for row in self.reader.items(ido, props, (key,), where):
            yield convert(row)
