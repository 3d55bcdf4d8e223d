"""CRS620MI: suppliers (CIDMAS). Key ``SUNO``; Add on an existing key fails (WSU0103)."""

from __future__ import annotations

from connector.sandbox.infor.data import Row
from connector.sandbox.infor.fields import names
from connector.sandbox.infor.mi import Inputs, MIContext, Transaction, nok
from connector.sandbox.infor.search import QueryError, compile_query

CURRENCIES = frozenset({"USD", "CAD", "EUR", "GBP", "SEK", "MXN"})

#: Mandatory on AddSupplier, as seen in deployed clients and the published metadata.
ADD_MANDATORY = names(
    "SUNO SUNM SUTY CSCD ECAR LNCD DTFM MEPF SUCL QUCL ORTY TEDL MODL TEAF "
    "TEPA DT4T DTCD CUCD CRTP TEPY PYME ATPR ACRF"
)
ADD_OPTIONAL = names("CONO VTCD VRNO TINO PRSU REGR STAT PHNO ADR1 TOWN PONO")
SUPPLIER_OUTPUTS = (
    names("CONO")
    + ADD_MANDATORY
    + names("VTCD VRNO TINO PRSU REGR STAT PHNO ADR1 TOWN PONO LMDT LMTS CHNO CHID RGDT RGTM")
)
SUPPLIER_STATUSES = frozenset({"10", "20", "90"})


def _supplier(ctx: MIContext, suno: str) -> Row:
    row = ctx.book.suppliers.get(suno)
    if row is None:
        raise nok(
            "WSU0203",
            "SUNO",
            f"Supplier {suno} does not exist in company {ctx.cono}; add it with "
            "CRS620MI/AddSupplier or check the company (cono)",
        )
    return row


def _get_basic_data(ctx: MIContext, inp: Inputs) -> list[Row]:
    return [_supplier(ctx, inp.get("SUNO"))]


def _lst_by_number(ctx: MIContext, inp: Inputs) -> list[Row]:
    start = inp.get("SUNO")
    return [ctx.book.suppliers[k] for k in sorted(ctx.book.suppliers) if k >= start]


def _search_supplier(ctx: MIContext, inp: Inputs) -> list[Row]:
    try:
        matches = compile_query(inp.get("SQRY"), ("SUNO", "SUNM"))
    except QueryError as exc:
        raise nok("XSE0001", "SQRY", str(exc)) from None
    rows = (ctx.book.suppliers[k] for k in sorted(ctx.book.suppliers))
    return [row for row in rows if matches(row)]


def _check_codes(ctx: MIContext, inp: Inputs, suno: str) -> None:
    if "CUCD" in inp and inp.get("CUCD") not in CURRENCIES:
        raise nok("WCU0203", "CUCD", f"Currency {inp.get('CUCD')} does not exist")
    if "STAT" in inp and inp.get("STAT") not in SUPPLIER_STATUSES:
        raise nok("WST0103", "STAT", f"Supplier status {inp.get('STAT')} must be 10, 20 or 90")
    if "REGR" in inp and inp.get("REGR") not in ctx.book.accounting_rules:
        raise nok(
            "WRE0203",
            "REGR",
            f"Accounting template {inp.get('REGR')} does not exist; known: "
            f"{', '.join(sorted(ctx.book.accounting_rules))}",
        )
    payee = inp.get("PRSU")
    if payee and payee != suno and payee not in ctx.book.suppliers:
        raise nok("WPR0203", "PRSU", f"Payee {payee} is not a supplier in company {ctx.cono}")


def _add_supplier(ctx: MIContext, inp: Inputs) -> list[Row]:
    suno = inp.get("SUNO")
    _check_codes(ctx, inp, suno)
    row: Row = {"CONO": ctx.cono, "STAT": "20", "PRSU": suno}
    row.update({name: value for name, value in inp.items() if name != "CONO"})
    ctx.db.stamp(row, created=True)
    if suno in ctx.book.suppliers:
        if not ctx.knobs.master_add_duplicates:
            raise nok("WSU0103", "SUNO", f"Supplier {suno} already exists")
        ctx.book.duplicates.append({"TABLE": "CIDMAS", **row})
        return []
    ctx.book.suppliers[suno] = row
    return []


def _upd_supplier(ctx: MIContext, inp: Inputs) -> list[Row]:
    suno = inp.get("SUNO")
    row = _supplier(ctx, suno)
    _check_codes(ctx, inp, suno)
    row.update({name: value for name, value in inp.items() if name not in ("CONO", "SUNO")})
    ctx.db.stamp(row, created=False)
    return []


def supplier_transactions() -> list[Transaction]:
    updatable = tuple(n for n in ADD_MANDATORY + ADD_OPTIONAL if n not in ("SUNO", "CONO"))
    return [
        Transaction(
            "CRS620MI",
            "GetBasicData",
            "Get supplier basic data",
            inputs=names("CONO SUNO"),
            mandatory=names("SUNO"),
            outputs=SUPPLIER_OUTPUTS,
            handler=_get_basic_data,
        ),
        Transaction(
            # The metadata marks SUNO mandatory: a scan starts from the lowest key wanted.
            "CRS620MI",
            "LstByNumber",
            "List suppliers in supplier number order",
            inputs=names("CONO SUNO"),
            mandatory=names("SUNO"),
            outputs=SUPPLIER_OUTPUTS,
            handler=_lst_by_number,
        ),
        Transaction(
            "CRS620MI",
            "SearchSupplier",
            "Search suppliers",
            inputs=names("SQRY"),
            mandatory=names("SQRY"),
            outputs=SUPPLIER_OUTPUTS,
            handler=_search_supplier,
        ),
        Transaction(
            "CRS620MI",
            "AddSupplier",
            "Add supplier",
            inputs=ADD_MANDATORY + ADD_OPTIONAL,
            mandatory=ADD_MANDATORY,
            outputs=(),
            handler=_add_supplier,
        ),
        Transaction(
            "CRS620MI",
            "UpdSupplier",
            "Update supplier",
            inputs=names("CONO SUNO") + updatable,
            mandatory=names("SUNO"),
            outputs=(),
            handler=_upd_supplier,
        ),
    ]
