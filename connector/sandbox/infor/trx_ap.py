"""APS450MI (supplier invoice batches) and APS455MI (validation, the irreversible step).

``AddHead`` opens a new batch with a new ``INBN`` on every call: there is no idempotency,
so a retried ``AddHead`` leaves a second staged batch. ``AddLine`` stages lines; AIT fields
are refused there unless the ``addline_ait`` knob says this version takes them. The ledger
uniqueness payee + supplier + supplier invoice number + accounting year bites only at
``APS455MI/ValidByBatchNo``, which also checks that the lines add up to ``CUAM`` and then
posts a voucher (``VONO``/``YEA4``/``VSER``). Recode batches (``AddHeadRecode`` +
``AddLineRecode``) move amounts between accounting strings of an existing voucher; their
head (``IBTP`` "RC") carries the re-coded invoice's supplier and number, so
``LstInvBySupInv`` lists them beside the invoice batch.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connector.sandbox.infor.data import SUPA_BY_STATUS, InvoiceBatch, Row, Voucher
from connector.sandbox.infor.fields import names
from connector.sandbox.infor.mi import Inputs, MIContext, MIError, Transaction, nok
from connector.sandbox.infor.trx_suppliers import CURRENCIES

AITS = names("AIT1 AIT2 AIT3 AIT4 AIT5 AIT6 AIT7")
VOUCHER_SERIES = "AP"
CENT = Decimal("0.01")
HEAD_INPUTS = names(
    "DIVI SUNO IVDT IBTP SINO SPYN CUCD TEPY PYME CUAM VTAM ACDT APCD DUDT PUNO CORI"
)
HEAD_OUTPUTS = names(
    "DIVI INBN IBTP SUNO SPYN SINO IVDT ACDT DUDT CUCD CUAM VTAM TEPY PYME "
    "PUNO CORI SUPA IBHE YEA4 VSER VONO LMDT LMTS CHNO CHID RGDT RGTM"
)
#: AddLine's inputs in the published metadata: no AIT fields (accounting comes from the rules).
LINE_INPUTS = names("DIVI INBN RDTP NLAM VTA1 VTA2 VTCD PUNO PNLI PNLS IVQA PUUN GRPR ITNO CHGT")
LINE_OUTPUTS = (
    names("INBN TRNO RDTP NLAM VTA1 VTA2 VTCD PUNO PNLI PNLS IVQA GRPR ITNO CHGT")
    + AITS
    + names("ACQT VTXT IBLE")
)
#: IBTP tells a recode batch ("RC") from an invoice batch: both are listed by supplier
#: invoice number, as FAPIBH holds both.
LIST_OUTPUTS = names("DIVI INBN IBTP SUNO SPYN SINO IVDT CUAM CUCD CORI SUPA YEA4 VSER VONO")


def _batch(ctx: MIContext, inp: Inputs) -> InvoiceBatch:
    inbn = inp.integer("INBN")
    batch = ctx.db.batches.get(inbn)
    if batch is None or batch.cono != ctx.cono or (ctx.divi and batch.divi != ctx.divi):
        where = f"company {ctx.cono}" + (f" division {ctx.divi}" if ctx.divi else "")
        raise nok(
            "WIB0203",
            "INBN",
            f"Invoice batch {inp.get('INBN')} does not exist in {where}; use the INBN that "
            "AddHead returned, with the same cono/divi",
        )
    return batch


def _open_batch(ctx: MIContext, inp: Inputs, kind: str) -> InvoiceBatch:
    batch = _batch(ctx, inp)
    if batch.status == "validated":
        raise nok(
            "WIB0303", "INBN", f"Invoice batch {batch.inbn} is already validated; it is closed"
        )
    if batch.kind != kind:
        other = "AddLine" if batch.kind == "invoice" else "AddLineRecode"
        raise nok(
            "WIB0403",
            "INBN",
            f"Invoice batch {batch.inbn} is a {batch.kind} batch; add its lines with {other}",
        )
    return batch


def _active_supplier(ctx: MIContext, suno: str, field_name: str) -> Row:
    row = ctx.book.suppliers.get(suno)
    if row is None:
        raise nok(
            "WSU0203",
            field_name,
            f"Supplier {suno} does not exist in company {ctx.cono}; create it first "
            "(CRS620MI/AddSupplier) or check cono",
        )
    if row.get("STAT") != "20":
        raise nok("WSU0303", field_name, f"Supplier {suno} has status {row.get('STAT')}, not 20")
    return row


def _add_head(ctx: MIContext, inp: Inputs) -> list[Row]:
    divi = ctx.require_division()
    suno = inp.get("SUNO")
    supplier = _active_supplier(ctx, suno, "SUNO")
    payee = inp.get("SPYN") or supplier.get("PRSU") or suno
    if payee != suno:
        _active_supplier(ctx, payee, "SPYN")
    currency = inp.get("CUCD") or supplier.get("CUCD", "")
    if currency not in CURRENCIES:
        raise nok("WCU0203", "CUCD", f"Currency {currency} does not exist")
    puno = inp.get("PUNO")
    if puno and puno not in ctx.book.purchase_orders:
        raise nok("WPU0203", "PUNO", f"Purchase order {puno} does not exist in {ctx.cono}")
    invoice_date = inp.get("IVDT")
    due = dt.datetime.strptime(invoice_date, "%Y%m%d").date() + dt.timedelta(days=30)
    inbn = ctx.db.take_inbn()
    head: Row = {
        "DIVI": divi,
        "INBN": str(inbn),
        "SPYN": payee,
        "CUCD": currency,
        "TEPY": supplier.get("TEPY", ""),
        "ACDT": invoice_date,
        "DUDT": due.strftime("%Y%m%d"),
        "CUAM": "0",
        "SUPA": SUPA_BY_STATUS["staged"],
    }
    head.update({name: value for name, value in inp.items() if name != "DIVI"})
    head["SPYN"], head["CUCD"] = payee, currency
    ctx.db.stamp(head, created=True)
    ctx.db.add_batch(InvoiceBatch(inbn, ctx.cono, divi, "invoice", head))
    return [{"INBN": str(inbn)}]


def _add_line(ctx: MIContext, inp: Inputs) -> list[Row]:
    batch = _open_batch(ctx, inp, "invoice")
    line_type = inp.integer("RDTP")
    if not 1 <= line_type <= 8:
        raise nok("WRD0103", "RDTP", f"Invoice line type {inp.get('RDTP')} is not valid (1-8)")
    # M3 checks every accounting identity a line names against CRS630 (as on recode).
    _known_identities(ctx, inp)
    line: Row = {"INBN": str(batch.inbn), "TRNO": str(len(batch.lines) + 1)}
    line.update({name: value for name, value in inp.items() if name not in ("DIVI", "INBN")})
    if line_type == 1:
        _match_po_line(ctx, inp, line)
    elif "NLAM" not in inp:
        raise MIError(
            "MandatoryInputFieldNotFound",
            "XMA0001",
            "NLAM",
            f"Net line amount NLAM is mandatory on a line of type {line_type}",
        )
    ctx.db.stamp(line, created=True)
    batch.lines.append(line)
    return [{"TRNO": line["TRNO"]}]


def _match_po_line(ctx: MIContext, inp: Inputs, line: Row) -> None:
    order = ctx.book.purchase_orders.get(inp.get("PUNO"))
    if order is None:
        raise nok(
            "WPU0203",
            "PUNO",
            f"Purchase order {inp.get('PUNO') or '(blank)'} does not "
            f"exist in company {ctx.cono}; a goods line (RDTP 1) must name PUNO and PNLI",
        )
    po_line = next((ln for ln in order.lines if ln["PNLI"] == str(inp.integer("PNLI"))), None)
    if po_line is None:
        raise nok(
            "WPN0203", "PNLI", f"Line {inp.get('PNLI')} does not exist on PO {inp.get('PUNO')}"
        )
    line.setdefault("ITNO", po_line["ITNO"])
    if "NLAM" not in inp:
        line["NLAM"] = str(inp.decimal("IVQA") * inp.decimal("GRPR"))


def _add_head_recode(ctx: MIContext, inp: Inputs) -> list[Row]:
    divi = ctx.require_division()
    target = _voucher(ctx, divi, inp.get("YEA4"), inp.get("VSER"), inp.get("VONO"))
    inbn = ctx.db.take_inbn()
    head: Row = {
        "DIVI": divi,
        "INBN": str(inbn),
        "IBTP": "RC",
        "SUNO": target.head.get("SUNO", ""),
        "SPYN": target.head.get("SPYN", ""),
        "SINO": target.head.get("SINO", ""),
        "CUCD": target.head.get("CUCD", ""),
        "ACDT": inp.get("ACDT") or dt.date.today().strftime("%Y%m%d"),
        "SUPA": SUPA_BY_STATUS["staged"],
        "TARGET_YEA4": target.yea4,
        "TARGET_VSER": target.vser,
        "TARGET_VONO": target.vono,
    }
    ctx.db.stamp(head, created=True)
    ctx.db.add_batch(InvoiceBatch(inbn, ctx.cono, divi, "recode", head))
    return [{"INBN": str(inbn)}]


def _voucher(ctx: MIContext, divi: str, yea4: str, vser: str, vono: str) -> Voucher:
    for voucher in ctx.db.vouchers:
        if (voucher.cono, voucher.divi, voucher.yea4, voucher.vono) == (
            ctx.cono,
            divi,
            yea4,
            vono,
        ) and (not vser or voucher.vser == vser):
            return voucher
    raise nok(
        "WVO0203",
        "VONO",
        f"Voucher {vser or '*'}/{vono} of {yea4} does not exist in company {ctx.cono} "
        f"division {divi}",
    )


def _known_identities(ctx: MIContext, inp: Inputs) -> None:
    for aitp, name in ((1, "AIT1"), (2, "AIT2")):
        value = inp.get(name)
        if value and (str(aitp), value) not in ctx.book.accounting:
            raise nok(
                "WAI0203",
                name,
                f"Accounting identity {value} does not exist in dimension {aitp} of company "
                f"{ctx.cono}; list them with CRS630MI/LstAccountID?AITP={aitp}",
            )


def _add_line_recode(ctx: MIContext, inp: Inputs) -> list[Row]:
    batch = _open_batch(ctx, inp, "recode")
    _known_identities(ctx, inp)
    line: Row = {"INBN": str(batch.inbn), "TRNO": str(len(batch.lines) + 1)}
    line.update({name: value for name, value in inp.items() if name not in ("DIVI", "INBN")})
    ctx.db.stamp(line, created=True)
    batch.lines.append(line)
    return []


def _get_head(ctx: MIContext, inp: Inputs) -> list[Row]:
    return [_batch(ctx, inp).head]


def _lst_lines(ctx: MIContext, inp: Inputs) -> list[Row]:
    start = inp.integer("TRNO")
    return [ln for ln in _batch(ctx, inp).lines if int(ln["TRNO"]) >= start]


def _lst_by_supplier_invoice(ctx: MIContext, inp: Inputs) -> list[Row]:
    found = ctx.db.invoice_batches(ctx.cono, inp.get("SPYN"), inp.get("SUNO"), inp.get("SINO"))
    return [batch.head for batch in found if not ctx.divi or batch.divi == ctx.divi]


def _validate(ctx: MIContext, inp: Inputs) -> list[Row]:
    batch = _batch(ctx, inp)
    if batch.status == "validated":
        raise nok("WIB0303", "INBN", f"Invoice batch {batch.inbn} is already validated")
    try:
        if batch.kind == "invoice":
            _post_invoice(ctx, batch)
        else:
            _post_recode(ctx, batch)
    except MIError as refusal:
        batch.status = "error"
        batch.head["SUPA"] = SUPA_BY_STATUS["error"]
        batch.head["IBHE"] = f"{refusal.code} {refusal.message}"
        ctx.db.stamp(batch.head, created=False)
        if ctx.knobs.validation_error_style == "mi_error":
            raise
    return []


def _post_invoice(ctx: MIContext, batch: InvoiceBatch) -> None:
    head = batch.head
    if not head.get("SINO"):
        raise nok(
            "WSI0103",
            "SINO",
            f"Supplier invoice number must be entered on batch "
            f"{batch.inbn} before it can be validated",
        )
    if not batch.lines:
        raise nok("WIB0503", "INBN", f"Invoice batch {batch.inbn} has no lines")
    _active_supplier(ctx, head["SUNO"], "SUNO")
    total = sum((_line_total(ln) for ln in batch.lines), Decimal(0))
    if total != Decimal(head.get("CUAM") or "0"):
        raise nok(
            "WCU0303",
            "CUAM",
            f"Invoice amount CUAM {head.get('CUAM')} differs from the sum of the lines "
            f"{total} (net + VAT) on batch {batch.inbn}",
        )
    year = head["ACDT"][:4]
    same_number = ctx.db.invoice_batches(
        batch.cono, head.get("SPYN", ""), head["SUNO"], head.get("SINO", "")
    )
    for other in same_number:
        if (
            other is not batch
            and other.kind == "invoice"
            and other.status == "validated"
            and other.head["ACDT"][:4] == year
        ):
            raise nok(
                "WSI0303",
                "SINO",
                f"Supplier invoice number {head['SINO']} already exists for payee "
                f"{head.get('SPYN')} / supplier {head['SUNO']} in {year} (batch "
                f"{other.inbn}, voucher {other.head.get('VONO')}); it is a duplicate",
            )
    voucher = _new_voucher(ctx, batch, year)
    account, cost_center = _expense_string(ctx, head["SUNO"])
    voucher.lines.append(_voucher_line("2010", "", -Decimal(head["CUAM"]), "AP liability"))
    for line in batch.lines:
        voucher.lines.append(
            _voucher_line(
                account,
                cost_center,
                Decimal(line.get("NLAM") or "0"),
                f"invoice line {line['TRNO']}",
            )
        )
        if Decimal(line.get("VTA1") or "0"):
            voucher.lines.append(
                _voucher_line("1510", "", Decimal(line["VTA1"]), f"VAT line {line['TRNO']}")
            )


def _line_total(line: Row) -> Decimal:
    return Decimal(line.get("NLAM") or "0") + Decimal(line.get("VTA1") or "0")


def _expense_string(ctx: MIContext, suno: str) -> tuple[str, str]:
    template = ctx.book.suppliers[suno].get("REGR", "")
    rules = ctx.book.accounting_rules
    return rules.get(template) or rules[""]


def _voucher_line(ait1: str, ait2: str, amount: Decimal, text: str) -> Row:
    return {"AIT1": ait1, "AIT2": ait2, "NLAM": str(amount.quantize(CENT)), "VTXT": text}


def _new_voucher(ctx: MIContext, batch: InvoiceBatch, year: str) -> Voucher:
    vono = ctx.db.take_vono(batch.cono, batch.divi, year, VOUCHER_SERIES)
    voucher = Voucher(
        batch.cono, batch.divi, year, VOUCHER_SERIES, vono, batch.inbn, batch.kind, dict(batch.head)
    )
    ctx.db.vouchers.append(voucher)
    batch.status = "validated"
    batch.head.update(
        {
            "SUPA": SUPA_BY_STATUS["validated"],
            "IBHE": "",
            "YEA4": year,
            "VSER": VOUCHER_SERIES,
            "VONO": vono,
        }
    )
    ctx.db.stamp(batch.head, created=False)
    voucher.head.update({"YEA4": year, "VSER": VOUCHER_SERIES, "VONO": vono})
    return voucher


def _post_recode(ctx: MIContext, batch: InvoiceBatch) -> None:
    head = batch.head
    if not batch.lines:
        raise nok("WIB0503", "INBN", f"Recode batch {batch.inbn} has no lines")
    total = sum((Decimal(ln.get("NLAM") or "0") for ln in batch.lines), Decimal(0))
    if total != 0:
        raise nok(
            "WRC0103",
            "NLAM",
            f"Recode lines of batch {batch.inbn} must balance to zero; they sum to {total}",
        )
    target = _voucher(
        ctx, batch.divi, head["TARGET_YEA4"], head["TARGET_VSER"], head["TARGET_VONO"]
    )
    voucher = _new_voucher(ctx, batch, head["ACDT"][:4])
    for line in batch.lines:
        posted: Row = {name: line[name] for name in AITS if name in line}
        posted.update({"NLAM": line.get("NLAM", "0"), "VTXT": line.get("VTXT", "")})
        voucher.lines.append(posted)
        target.lines.append({**posted, "RECODED_BY": str(batch.inbn)})


def ap_transactions() -> list[Transaction]:
    return [
        Transaction(
            "APS450MI",
            "AddHead",
            "Add invoice batch head",
            inputs=HEAD_INPUTS,
            mandatory=names("SUNO IVDT"),
            outputs=names("INBN"),
            handler=_add_head,
        ),
        Transaction(
            "APS450MI",
            "AddLine",
            "Add invoice batch line",
            inputs=LINE_INPUTS,
            mandatory=names("INBN RDTP"),
            outputs=names("TRNO"),
            handler=_add_line,
            available=lambda knobs: not knobs.addline_ait,
        ),
        Transaction(
            "APS450MI",
            "AddLine",
            "Add invoice batch line (version with accounting dimensions)",
            inputs=LINE_INPUTS + AITS,
            mandatory=names("INBN RDTP"),
            outputs=names("TRNO"),
            handler=_add_line,
            available=lambda knobs: knobs.addline_ait,
        ),
        Transaction(
            "APS450MI",
            "AddHeadRecode",
            "Add recode batch head for a voucher",
            inputs=names("DIVI YEA4 VSER VONO ACDT"),
            mandatory=names("YEA4 VONO"),
            outputs=names("INBN"),
            handler=_add_head_recode,
        ),
        Transaction(
            "APS450MI",
            "AddLineRecode",
            "Add recode line (accounting string)",
            inputs=names("DIVI INBN NLAM VTCD ACQT VTXT") + AITS,
            mandatory=names("INBN NLAM AIT1"),
            outputs=(),
            handler=_add_line_recode,
        ),
        Transaction(
            "APS450MI",
            "GetHead",
            "Get invoice batch head",
            inputs=names("DIVI INBN"),
            mandatory=names("INBN"),
            outputs=HEAD_OUTPUTS,
            handler=_get_head,
        ),
        Transaction(
            "APS450MI",
            "LstLines",
            "List invoice batch lines",
            inputs=names("DIVI INBN TRNO"),
            mandatory=names("INBN"),
            outputs=LINE_OUTPUTS,
            handler=_lst_lines,
        ),
        Transaction(
            "APS450MI",
            "LstInvBySupInv",
            "List batches by supplier invoice number",
            inputs=names("DIVI SPYN SUNO SINO"),
            mandatory=names("SPYN SUNO SINO"),
            outputs=LIST_OUTPUTS,
            handler=_lst_by_supplier_invoice,
        ),
        Transaction(
            "APS455MI",
            "ValidByBatchNo",
            "Validate (post) an invoice batch",
            inputs=names("DIVI INBN"),
            mandatory=names("INBN"),
            outputs=(),
            handler=_validate,
        ),
    ]
