"""PPS200MI: purchase orders (MPHEAD/MPLINE). Key ``PUNO`` (+ ``PNLI``, ``PNLS``).

The published 15.x metadata has no ``LstHead`` and no ``AddHead``: heads are found with
``SearchHead`` (an ``SQRY`` query: ``PUNO:[1000050 TO *]`` restarts a scan after a key,
``LMDT:[20240601 TO *]`` finds changed orders) and ``AddHead`` sits behind the
``pps200_addhead`` knob. ``AddLine`` (PUNO, ITNO, ORQA mandatory) is confirmed.
"""

from __future__ import annotations

from decimal import Decimal

from connector.sandbox.infor.data import PurchaseOrder, Row
from connector.sandbox.infor.fields import names
from connector.sandbox.infor.knobs import InforKnobs
from connector.sandbox.infor.mi import Inputs, MIContext, Transaction, nok
from connector.sandbox.infor.search import QueryError, compile_query
from connector.sandbox.infor.trx_suppliers import CURRENCIES

AUDIT = names("LMDT LMTS CHNO CHID RGDT RGTM")
HEAD_OUTPUTS = (
    names("CONO PUNO SUNO ORTY FACI WHLO PUDT DWDT CUCD BUYE TEPY YRE1 OURR PUSL PUST LNAM") + AUDIT
)
LINE_OUTPUTS = (
    names(
        "CONO PUNO PNLI PNLS ITNO PITD ORQA PUPR PUUN PPUN LNAM DWDT PUSL PUST SUNO FACI "
        "WHLO VTCD COCE"
    )
    + AUDIT
)
HEAD_UPDATABLE = names("PUDT DWDT TEPY YRE1 BUYE OURR")
NEW_STATUS = "20"
CENT = Decimal("0.01")


def _order(ctx: MIContext, puno: str) -> PurchaseOrder:
    order = ctx.book.purchase_orders.get(puno)
    if order is None:
        raise nok("WPU0203", "PUNO", f"Purchase order {puno} does not exist in company {ctx.cono}")
    return order


def _get_head(ctx: MIContext, inp: Inputs) -> list[Row]:
    return [_order(ctx, inp.get("PUNO")).head]


def _get_line(ctx: MIContext, inp: Inputs) -> list[Row]:
    order = _order(ctx, inp.get("PUNO"))
    wanted = (str(inp.integer("PNLI")), str(inp.integer("PNLS")))
    for line in order.lines:
        if "PNLI" not in inp or (line["PNLI"], line["PNLS"]) == wanted:
            return [line]
    raise nok(
        "WPN0203", "PNLI", f"Line {wanted[0]}/{wanted[1]} does not exist on PO {inp.get('PUNO')}"
    )


def _lst_line(ctx: MIContext, inp: Inputs) -> list[Row]:
    return sorted(
        _order(ctx, inp.get("PUNO")).lines, key=lambda ln: (int(ln["PNLI"]), int(ln["PNLS"]))
    )


def _search_head(ctx: MIContext, inp: Inputs) -> list[Row]:
    try:
        matches = compile_query(inp.get("SQRY"), ("PUNO", "SUNO", "YRE1"))
    except QueryError as exc:
        raise nok("XSE0001", "SQRY", str(exc)) from None
    orders = ctx.book.purchase_orders
    return [orders[k].head for k in sorted(orders) if matches(orders[k].head)]


def _add_head(ctx: MIContext, inp: Inputs) -> list[Row]:
    supplier = ctx.book.suppliers.get(inp.get("SUNO"))
    if supplier is None:
        raise nok(
            "WSU0203", "SUNO", f"Supplier {inp.get('SUNO')} does not exist in company {ctx.cono}"
        )
    currency = inp.get("CUCD") or supplier.get("CUCD", "")
    if currency not in CURRENCIES:
        raise nok("WCU0203", "CUCD", f"Currency {currency} does not exist")
    puno = inp.get("PUNO") or ctx.db.take_puno()
    if puno in ctx.book.purchase_orders:
        raise nok("WPU0103", "PUNO", f"Purchase order {puno} already exists")
    head: Row = {
        "CONO": ctx.cono,
        "ORTY": "PP1",
        "FACI": "F01",
        "WHLO": "W01",
        "PUDT": inp.get("DWDT"),
        "TEPY": supplier.get("TEPY", ""),
        "PUSL": NEW_STATUS,
        "PUST": NEW_STATUS,
        "LNAM": "0",
    }
    head.update({name: value for name, value in inp.items() if name != "CONO"})
    head["PUNO"], head["CUCD"] = puno, currency
    ctx.db.stamp(head, created=True)
    ctx.book.purchase_orders[puno] = PurchaseOrder(head)
    return [{"PUNO": puno}]


def _add_line(ctx: MIContext, inp: Inputs) -> list[Row]:
    order = _order(ctx, inp.get("PUNO"))
    item = ctx.book.items.get(inp.get("ITNO"))
    if item is None:
        raise nok("WIT0203", "ITNO", f"Item {inp.get('ITNO')} does not exist in company {ctx.cono}")
    taken = {(ln["PNLI"], ln["PNLS"]) for ln in order.lines}
    pnli = inp.integer("PNLI") or max((int(p) for p, _ in taken), default=0) + 10
    pnls = inp.integer("PNLS")
    if (str(pnli), str(pnls)) in taken:
        raise nok(
            "WPN0103", "PNLI", f"Line {pnli}/{pnls} already exists on PO {order.head['PUNO']}"
        )
    price = inp.decimal("PUPR", Decimal(item.get("PUPR") or "0"))
    line: Row = {
        "CONO": ctx.cono,
        "SUNO": order.head["SUNO"],
        "FACI": order.head.get("FACI", ""),
        "WHLO": order.head.get("WHLO", ""),
        "DWDT": order.head.get("DWDT", ""),
        "PITD": item.get("ITDS", ""),
        "PUUN": item.get("PUUN", ""),
        "PUSL": NEW_STATUS,
        "PUST": NEW_STATUS,
    }
    line.update({name: value for name, value in inp.items() if name != "CONO"})
    line.update(
        {
            "PNLI": str(pnli),
            "PNLS": str(pnls),
            "PUPR": str(price),
            "LNAM": str((inp.decimal("ORQA") * price).quantize(CENT)),
        }
    )
    ctx.db.stamp(line, created=True)
    order.lines.append(line)
    order.head["LNAM"] = str(sum((Decimal(ln["LNAM"]) for ln in order.lines), Decimal(0)))
    ctx.db.stamp(order.head, created=False)
    return []


def _upd_head(ctx: MIContext, inp: Inputs) -> list[Row]:
    order = _order(ctx, inp.get("PUNO"))
    order.head.update({name: value for name, value in inp.items() if name in HEAD_UPDATABLE})
    ctx.db.stamp(order.head, created=False)
    return []


def _add_head_enabled(knobs: InforKnobs) -> bool:
    return knobs.pps200_addhead


def po_transactions() -> list[Transaction]:
    return [
        Transaction(
            "PPS200MI",
            "GetHead",
            "Get purchase order head",
            inputs=names("CONO PUNO"),
            mandatory=names("PUNO"),
            outputs=HEAD_OUTPUTS,
            handler=_get_head,
        ),
        Transaction(
            "PPS200MI",
            "GetLine",
            "Get purchase order line",
            inputs=names("CONO PUNO PNLI PNLS"),
            mandatory=names("PUNO"),
            outputs=LINE_OUTPUTS,
            handler=_get_line,
        ),
        Transaction(
            "PPS200MI",
            "LstLine",
            "List purchase order lines",
            inputs=names("CONO PUNO"),
            mandatory=names("PUNO"),
            outputs=LINE_OUTPUTS,
            handler=_lst_line,
        ),
        Transaction(
            "PPS200MI",
            "SearchHead",
            "Search purchase order heads",
            inputs=names("SQRY"),
            mandatory=names("SQRY"),
            outputs=HEAD_OUTPUTS,
            handler=_search_head,
        ),
        Transaction(
            "PPS200MI",
            "AddHead",
            "Add purchase order head",
            inputs=names("CONO SUNO DWDT PUNO ORTY FACI WHLO PUDT CUCD BUYE TEPY YRE1 OURR"),
            mandatory=names("SUNO DWDT"),
            outputs=names("PUNO"),
            handler=_add_head,
            available=_add_head_enabled,
        ),
        Transaction(
            "PPS200MI",
            "AddLine",
            "Add purchase order line",
            inputs=names(
                "CONO PUNO ITNO ORQA PNLI PNLS FACI WHLO SUNO DWDT PITD PUPR PUUN PPUN "
                "VTCD COCE OURR"
            ),
            mandatory=names("PUNO ITNO ORQA"),
            outputs=(),
            handler=_add_line,
        ),
        Transaction(
            "PPS200MI",
            "UpdHead",
            "Update purchase order head",
            inputs=names("CONO PUNO") + HEAD_UPDATABLE,
            mandatory=names("PUNO"),
            outputs=(),
            handler=_upd_head,
        ),
    ]
