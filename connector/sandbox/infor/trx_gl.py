"""GLS200MI/LstVoucherLines: the GL lines a validated batch posted (sheet §4, "post" step).

A client reads them after ``APS455MI/ValidByBatchNo`` to see which accounting strings
the accounting rules chose. The voucher is named the way ``APS450MI/GetHead`` reports it
(``YEA4`` + ``VSER`` + ``VONO``); recode vouchers list their own lines, and the voucher
they re-coded lists the moved amounts too. The sheet names the transaction only, so its
field list is the simulator's reading: the voucher key in, accounting string, amount and
text out.
"""

from __future__ import annotations

from connector.sandbox.infor.data import Row
from connector.sandbox.infor.fields import names
from connector.sandbox.infor.mi import Inputs, MIContext, Transaction, nok

AITS = names("AIT1 AIT2 AIT3 AIT4 AIT5 AIT6 AIT7")


def _lst_voucher_lines(ctx: MIContext, inp: Inputs) -> list[Row]:
    divi = ctx.require_division()
    yea4, vser, vono = inp.get("YEA4"), inp.get("VSER"), str(inp.integer("VONO"))
    for voucher in ctx.db.vouchers:
        if (voucher.cono, voucher.divi, voucher.yea4, voucher.vono) != (
            ctx.cono, divi, yea4, vono
        ) or (vser and voucher.vser != vser):
            continue
        head = {"DIVI": divi, "YEA4": yea4, "VSER": voucher.vser, "VONO": vono,
                "ACDT": voucher.head.get("ACDT", "")}
        return [
            head | {name: line.get(name, "") for name in AITS}
            | {"NLAM": line.get("NLAM", "0"), "VTXT": line.get("VTXT", "")}
            for line in voucher.lines
        ]
    raise nok("WVO0203", "VONO", f"Voucher {vser or '*'}/{vono} of {yea4} does not exist in "
              f"company {ctx.cono} division {divi}")


def gl_transactions() -> list[Transaction]:
    return [
        Transaction(
            "GLS200MI",
            "LstVoucherLines",
            "List the lines of a GL voucher",
            inputs=names("DIVI YEA4 VSER VONO"),
            mandatory=names("YEA4 VONO"),
            outputs=names("DIVI YEA4 VSER VONO ACDT") + AITS + names("NLAM VTXT"),
            handler=_lst_voucher_lines,
        ),
    ]
