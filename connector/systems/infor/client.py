"""M3 operations the flows need: company check, suppliers, items, AP batches, POs, dimensions.

Every write here is a non-idempotent MI GET (sheet §4): the methods never retry a write and
never add without the caller having looked first. The look-ups that make that possible —
``get_supplier``, ``get_item``, ``find_invoice`` (by supplier + supplier invoice number, the
invoice's natural key), ``get_purchase_order`` — are what the loader's "verify first" uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from connector.errors import ConfigurationError, RejectedError
from connector.systems.infor.ap import InvoiceBatches
from connector.systems.infor.mi import FIX_THE_RECORD
from connector.systems.infor.models import (
    AccountingId,
    Item,
    Supplier,
    convert,
)
from connector.systems.infor.orders import PurchaseOrders
from connector.systems.infor.paging import ListQuery

#: CRS620MI/LstByNumber requires a starting SUNO: "!" sorts before every digit and letter.
SUPPLIERS = ListQuery("CRS620MI", "LstByNumber", ("SUNO",), inputs={"SUNO": "!"})
#: What CRS620MI/AddSupplier needs besides SUNO/SUNM (sheet §4), copied from a template.
SUPPLIER_TEMPLATE_FIELDS = (
    "SUTY",
    "CSCD",
    "ECAR",
    "LNCD",
    "DTFM",
    "MEPF",
    "SUCL",
    "QUCL",
    "ORTY",
    "TEDL",
    "MODL",
    "TEAF",
    "TEPA",
    "DT4T",
    "DTCD",
    "CUCD",
    "CRTP",
    "TEPY",
    "PYME",
    "ATPR",
    "ACRF",
    "REGR",
    "VTCD",
)
ITEMS = ListQuery("MMS200MI", "LstItmByItm", ("ITNO",))


class M3Client(InvoiceBatches, PurchaseOrders):
    """One M3 company/division, through MI REST. Built by ``open_connection``. Purchase
    orders are in :mod:`~connector.systems.infor.orders`."""

    # -- startup ------------------------------------------------------------------------
    async def validate_company(self) -> None:
        """Stop with a clear message unless CONO and DIVI exist and the account may use them.

        Raises ConfigurationError naming the company or division for every refusal: an
        unknown or unauthorized company (``XAU0008``), an unknown division (M3 checks the
        ``divi`` option on any call, so even the company look-up may refuse it).
        """
        where = f"company {self.company} division {self.division}"
        try:
            rows = await self.mi.call(
                "MNS095MI", "Get", {"CONO": self.company}, write=False, record=where
            )
            divisions = await self.mi.call(
                "MNS100MI",
                "GetBasicData",
                {"CONO": self.company, "DIVI": self.division},
                write=False,
                record=where,
            )
        except RejectedError as exc:
            # The record-level advice ("fix the source record") is wrong here: it is the config.
            reason = exc.message.removesuffix(FIX_THE_RECORD).rstrip()
            setting = "`division`" if exc.field == "DIVI" else "`company` and `division`"
            raise ConfigurationError(
                f"{reason} The configured company/division cannot be used: check {setting} in "
                "the config against MNS095MI/Lst and MNS100MI/LstDivisions",
                system="infor",
                record=where,
            ) from exc
        if not rows:
            raise ConfigurationError(
                f"M3 company {self.company} was not found; check `company` in the config",
                system="infor",
            )
        if not divisions:
            raise ConfigurationError(
                f"M3 division {self.division} does not exist in company {self.company}; "
                "check `division` in the config",
                system="infor",
            )

    # -- suppliers ----------------------------------------------------------------------
    async def get_supplier(self, suno: str) -> Supplier | None:
        rows = await self._get(
            "CRS620MI", "GetBasicData", {"SUNO": suno}, "SUNO", f"supplier {suno}"
        )
        return convert(rows[0], Supplier) if rows else None

    async def suppliers(self) -> AsyncIterator[Supplier]:
        async for row in self.reader.rows(SUPPLIERS):
            yield convert(row, Supplier)

    async def supplier_template(self, suno: str) -> dict[str, str]:
        """The AddSupplier fields of supplier ``suno``, for new suppliers to copy."""
        rows = await self._get(
            "CRS620MI", "GetBasicData", {"SUNO": suno}, "SUNO", f"supplier {suno}"
        )
        if not rows:
            raise ConfigurationError(
                f"template supplier {suno} does not exist in M3 company {self.company}; create "
                "it or name another one in the flow's options.supplier_template",
                system="infor",
            )
        return {f: rows[0][f] for f in SUPPLIER_TEMPLATE_FIELDS if rows[0].get(f)}

    async def add_supplier(self, fields: Mapping[str, str]) -> None:
        """CRS620MI/AddSupplier. Caller supplies the mandatory set (from a template supplier)."""
        await self.mi.call(
            "CRS620MI", "AddSupplier", fields, write=True, record=f"supplier {fields.get('SUNO')}"
        )

    async def update_supplier(self, suno: str, fields: Mapping[str, str]) -> None:
        """CRS620MI/UpdSupplier: change the given fields of supplier ``suno`` only."""
        await self.mi.call(
            "CRS620MI",
            "UpdSupplier",
            {"SUNO": suno, **fields},
            write=True,
            record=f"supplier {suno}",
        )

    # -- items --------------------------------------------------------------------------
    async def get_item(self, itno: str) -> Item | None:
        rows = await self._get("MMS200MI", "Get", {"ITNO": itno}, "ITNO", f"item {itno}")
        return convert(rows[0], Item) if rows else None

    async def items(self) -> AsyncIterator[Item]:
        async for row in self.reader.rows(ITEMS):
            yield convert(row, Item)

    async def items_changed_since(self, date: str) -> AsyncIterator[Item]:
        """Items changed on or after ``date`` (yyyyMMdd), via MMS200MI/LstItmByChgDate."""
        # The list is ordered by (LMDT, LMTS, ITNO): a restart without LMTS would begin at the
        # day's first change again, and a day with more changes than a page would never end.
        query = ListQuery(
            "MMS200MI", "LstItmByChgDate", ("LMDT", "LMTS", "ITNO"), inputs={"LMDT": date}
        )
        async for row in self.reader.rows(query):
            yield convert(row, Item)

    async def add_item(self, fields: Mapping[str, str]) -> None:
        """MMS200MI/AddItmViaItmTyp: a new item from an item type's template."""
        await self.mi.call(
            "MMS200MI", "AddItmViaItmTyp", fields, write=True, record=f"item {fields.get('ITNO')}"
        )

    # -- accounting dimensions ----------------------------------------------------------
    async def accounting_ids(self, dimension: int) -> list[AccountingId]:
        """Values of accounting dimension ``dimension`` (1 = account; cost center: per company)."""
        query = ListQuery("CRS630MI", "LstAccountID", ("AITM",), inputs={"AITP": str(dimension)})
        return [convert(row, AccountingId) async for row in self.reader.rows(query)]
