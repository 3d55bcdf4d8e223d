"""MMS200MI: items (MITMAS). Key ``ITNO`` (A15); ``LstItmByChgDate`` is the incremental read."""

from __future__ import annotations

from connector.sandbox.infor.data import Row
from connector.sandbox.infor.fields import names
from connector.sandbox.infor.knobs import InforKnobs
from connector.sandbox.infor.mi import Inputs, MIContext, Transaction, nok

ITEM_OUTPUTS = names(
    "CONO ITNO ITDS FUDS STAT ITTY UNMS ITGR ITCL RESP MABU PRVG ITNE PUUN "
    "SALE PUPR LMDT LMTS CHNO CHID RGDT RGTM"
)
ITEM_STATUSES = frozenset({"10", "20", "50", "80", "90"})
#: Fields an item inherits from its item type when AddItmViaItmTyp creates it.
TYPE_DEFAULTS = names("UNMS ITGR ITCL RESP MABU PRVG PUUN STAT")
BASIC_MANDATORY = names("STAT ITNO ITDS RESP UNMS ITTY MABU PRVG")
BASIC_OPTIONAL = names("CONO FUDS ITGR ITCL PUUN ITNE SALE PUPR")


def _item(ctx: MIContext, itno: str) -> Row:
    row = ctx.book.items.get(itno)
    if row is None:
        raise nok(
            "WIT0203",
            "ITNO",
            f"Item {itno} does not exist in company {ctx.cono}; add it with "
            "MMS200MI/AddItmViaItmTyp or check the company (cono)",
        )
    return row


def _get(ctx: MIContext, inp: Inputs) -> list[Row]:
    return [_item(ctx, inp.get("ITNO"))]


def _lst_by_item(ctx: MIContext, inp: Inputs) -> list[Row]:
    start = inp.get("ITNO")
    return [ctx.book.items[k] for k in sorted(ctx.book.items) if k >= start]


def _change_key(row: Row) -> tuple[str, int, str]:
    return (row.get("LMDT", "0"), int(row.get("LMTS") or "0"), row["ITNO"])


def _lst_by_change_date(ctx: MIContext, inp: Inputs) -> list[Row]:
    start = (inp.get("LMDT", "0"), inp.integer("LMTS"), inp.get("ITNO"))
    rows = sorted(ctx.book.items.values(), key=_change_key)
    return [row for row in rows if _change_key(row) >= start]


def _store_new_item(ctx: MIContext, row: Row) -> None:
    ctx.db.stamp(row, created=True)
    itno = row["ITNO"]
    if itno in ctx.book.items:
        if not ctx.knobs.master_add_duplicates:
            raise nok("WIT0103", "ITNO", f"Item {itno} already exists in company {ctx.cono}")
        ctx.book.duplicates.append({"TABLE": "MITMAS", **row})
        return
    ctx.book.items[itno] = row


def _item_type(ctx: MIContext, itty: str) -> Row:
    row = ctx.book.item_types.get(itty)
    if row is None:
        raise nok(
            "WIT0303",
            "ITTY",
            f"Item type {itty} does not exist; known: {', '.join(sorted(ctx.book.item_types))}",
        )
    return row


def _next_item_number(ctx: MIContext, prefix: str) -> str:
    taken = [k for k in ctx.book.items if k.startswith(prefix) and k[len(prefix) :].isdigit()]
    number = max((int(k[len(prefix) :]) for k in taken), default=0) + 1
    return f"{prefix}{number:05d}"


def _add_via_item_type(ctx: MIContext, inp: Inputs) -> list[Row]:
    item_type = _item_type(ctx, inp.get("ITTY"))
    row: Row = {"CONO": ctx.cono, "SALE": "1"}
    row.update({name: item_type[name] for name in TYPE_DEFAULTS})
    row.update({name: value for name, value in inp.items() if name != "CONO"})
    row.setdefault("ITNO", _next_item_number(ctx, item_type["NUMBER_PREFIX"]))
    _store_new_item(ctx, row)
    return [{"ITNO": row["ITNO"]}]


def _add_basic(ctx: MIContext, inp: Inputs) -> list[Row]:
    _item_type(ctx, inp.get("ITTY"))
    if inp.get("STAT") not in ITEM_STATUSES:
        raise nok("WST0203", "STAT", f"Item status {inp.get('STAT')} is not valid")
    row: Row = {"CONO": ctx.cono, "SALE": "1"}
    row.update({name: value for name, value in inp.items() if name != "CONO"})
    _store_new_item(ctx, row)
    return []


def _update_basic(ctx: MIContext, inp: Inputs) -> list[Row]:
    row = _item(ctx, inp.get("ITNO"))
    if "STAT" in inp and inp.get("STAT") not in ITEM_STATUSES:
        raise nok("WST0203", "STAT", f"Item status {inp.get('STAT')} is not valid")
    row.update({name: value for name, value in inp.items() if name not in ("CONO", "ITNO")})
    ctx.db.stamp(row, created=False)
    return []


def _basic_enabled(knobs: InforKnobs) -> bool:
    return knobs.mms200_additmbasic


def item_transactions() -> list[Transaction]:
    return [
        Transaction(
            "MMS200MI",
            "Get",
            "Get item",
            inputs=names("CONO ITNO"),
            mandatory=names("ITNO"),
            outputs=ITEM_OUTPUTS,
            handler=_get,
        ),
        Transaction(
            "MMS200MI",
            "GetItmBasic",
            "Get item basic data",
            inputs=names("CONO ITNO"),
            mandatory=names("ITNO"),
            outputs=ITEM_OUTPUTS,
            handler=_get,
        ),
        Transaction(
            "MMS200MI",
            "LstItmByItm",
            "List items by item number",
            inputs=names("CONO ITNO"),
            mandatory=(),
            outputs=ITEM_OUTPUTS,
            handler=_lst_by_item,
        ),
        Transaction(
            "MMS200MI",
            "LstItmByChgDate",
            "List items changed since a date",
            inputs=names("CONO LMDT LMTS ITNO"),
            mandatory=(),
            outputs=ITEM_OUTPUTS,
            handler=_lst_by_change_date,
        ),
        Transaction(
            "MMS200MI",
            "AddItmViaItmTyp",
            "Add item via item type",
            inputs=names("CONO ITTY ITDS ITNO FUDS ITNE"),
            mandatory=names("ITTY ITDS"),
            outputs=names("ITNO"),
            handler=_add_via_item_type,
        ),
        Transaction(
            "MMS200MI",
            "AddItmBasic",
            "Add item basic",
            inputs=BASIC_MANDATORY + BASIC_OPTIONAL,
            mandatory=BASIC_MANDATORY,
            outputs=(),
            handler=_add_basic,
            available=_basic_enabled,
        ),
        Transaction(
            "MMS200MI",
            "UpdItmBasic",
            "Update item basic data",
            inputs=names("CONO ITNO ITDS FUDS STAT ITGR ITCL RESP PUUN ITNE PUPR"),
            mandatory=names("ITNO"),
            outputs=(),
            handler=_update_basic,
        ),
    ]
