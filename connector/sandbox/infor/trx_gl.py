"""GLS200MI/LstVoucherLines: the GL lines a validated batch posted (sheet §4, "post" step).

A client reads them after ``APS455MI/ValidByBatchNo`` to see which accounting strings
the accounting rules chose. The voucher is named the way ``APS450MI/GetHead`` reports it
(``YEA4`` + ``VSER`` + ``VONO``); recode vouchers list their own lines, and the voucher
they re-coded lists the moved amounts too. The sheet names the transaction only, so its
field list is the simulator's reading: the voucher key in, accounting string, amount and
text out, plus each line's journal sequence ``JSNO`` and transaction code ``TRCD``, which
deployed M3 extensions read from this transaction's answer (40 the supplier's liability
line, 41 a cost line, 50 a VAT line: inferred from M3's FGLEDG codes, derived here from
how the sandbox posted the voucher).
"""

from __future__ import annotations

from connector.sandbox.infor.data import Row, Voucher
from connector.sandbox.infor.fields import FIELDS, Field, names
from connector.sandbox.infor.mi import Inputs, MIContext, Transaction, nok

AITS = names("AIT1 AIT2 AIT3 AIT4 AIT5 AIT6 AIT7")
# Fields only this program answers; registered here so the shared catalog stays as it is.
for _extra in (
    Field("JSNO", "N", 10, 0, "Journal sequence number"),
    Field("TRCD", "N", 2, 0, "Transaction code"),
):
    FIELDS.setdefault(_extra.name, _extra)
TRCD_SUPPLIER, TRCD_COST, TRCD_VAT = "40", "41", "50"


def _transaction_code(voucher: Voucher, index: int, line: Row) -> str:
    if voucher.kind == "invoice" and index == 0:
        return TRCD_SUPPLIER  # the posting writes the liability first
    if line.get("VTXT", "").startswith("VAT line"):
        return TRCD_VAT
    return TRCD_COST


def _lst_voucher_lines(ctx: MIContext, inp: Inputs) -> list[Row]:
    divi = ctx.require_division()
    yea4, vser, vono = inp.get("YEA4"), inp.get("VSER"), str(inp.integer("VONO"))
    for voucher in ctx.db.vouchers:
        if (voucher.cono, voucher.divi, voucher.yea4, voucher.vono) != (
            ctx.cono,
            divi,
            yea4,
            vono,
        ) or (vser and voucher.vser != vser):
            continue
        head = {
            "DIVI": divi,
            "YEA4": yea4,
            "VSER": voucher.vser,
            "VONO": vono,
            "ACDT": voucher.head.get("ACDT", ""),
        }
        return [
            head
            | {name: line.get(name, "") for name in AITS}
            | {
                "NLAM": line.get("NLAM", "0"),
                "VTXT": line.get("VTXT", ""),
                "JSNO": str(index + 1),
                "TRCD": _transaction_code(voucher, index, line),
            }
            for index, line in enumerate(voucher.lines)
        ]
    raise nok(
        "WVO0203",
        "VONO",
        f"Voucher {vser or '*'}/{vono} of {yea4} does not exist in "
        f"company {ctx.cono} division {divi}",
    )


def gl_transactions() -> list[Transaction]:
    return [
        Transaction(
            "GLS200MI",
            "LstVoucherLines",
            "List the lines of a GL voucher",
            inputs=names("DIVI YEA4 VSER VONO"),
            mandatory=names("YEA4 VONO"),
            outputs=names("DIVI YEA4 VSER VONO ACDT") + AITS + names("NLAM VTXT JSNO TRCD"),
            handler=_lst_voucher_lines,
        ),
    ]
