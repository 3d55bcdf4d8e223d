"""MNS095MI (companies), MNS100MI (divisions), MNS150MI (user data), MRS001MI (discovery)."""

from __future__ import annotations

from connector.sandbox.infor.data import Company, Row
from connector.sandbox.infor.fields import FIELDS, names
from connector.sandbox.infor.mi import Inputs, MIContext, Registry, Transaction, nok


def _company_row(company: Company) -> Row:
    return {
        "CONO": company.cono,
        "TX40": company.name,
        "TX15": company.name[:15],
        "CSCD": company.country,
        "LOCD": company.currency,
    }


def _lst_companies(ctx: MIContext, inp: Inputs) -> list[Row]:
    return [_company_row(c) for c in sorted(ctx.db.companies.values(), key=lambda c: int(c.cono))]


def _get_company(ctx: MIContext, inp: Inputs) -> list[Row]:
    company = ctx.db.companies.get(str(inp.integer("CONO")))
    if company is None:
        raise nok("XCO0003", "CONO", f"Company {inp.get('CONO')} does not exist")
    return [_company_row(company)]


def _division_rows(company: Company) -> list[Row]:
    return [
        {
            "CONO": company.cono,
            "DIVI": divi,
            "TX40": name,
            "TX15": name[:15],
            "CSCD": company.country,
            "LOCD": company.currency,
        }
        for divi, name in sorted(company.divisions.items())
    ]


def _lst_divisions(ctx: MIContext, inp: Inputs) -> list[Row]:
    return _division_rows(ctx.company)


def _get_division(ctx: MIContext, inp: Inputs) -> list[Row]:
    wanted = inp.get("DIVI")
    rows = [r for r in _division_rows(ctx.company) if r["DIVI"] == wanted]
    if not rows:
        raise nok("XDI0002", "DIVI", f"Division {wanted} does not exist in company {ctx.cono}")
    return rows


def _user_data(ctx: MIContext, inp: Inputs) -> list[Row]:
    db = ctx.db
    return [
        {
            "USID": db.user,
            "NAME": "ml-connector service account",
            "CONO": db.default_cono,
            "DIVI": db.default_divi,
            "LNCD": "GB",
            "DTFM": "YMD",
            "FACI": "F01",
            "WHLO": "W01",
        }
    ]


def company_transactions() -> list[Transaction]:
    company_fields = names("CONO TX40 TX15 CSCD LOCD")
    division_fields = names("CONO DIVI TX40 TX15 CSCD LOCD")
    return [
        Transaction(
            "MNS095MI",
            "Lst",
            "List companies",
            inputs=(),
            mandatory=(),
            outputs=company_fields,
            handler=_lst_companies,
        ),
        Transaction(
            "MNS095MI",
            "Get",
            "Get company",
            inputs=names("CONO"),
            mandatory=names("CONO"),
            outputs=company_fields,
            handler=_get_company,
            cono_is_key=True,
        ),
        Transaction(
            "MNS100MI",
            "LstDivisions",
            "List divisions of the company",
            inputs=names("CONO"),
            mandatory=(),
            outputs=division_fields,
            handler=_lst_divisions,
        ),
        Transaction(
            "MNS100MI",
            "GetBasicData",
            "Get division",
            inputs=names("CONO DIVI"),
            mandatory=names("DIVI"),
            outputs=division_fields,
            handler=_get_division,
        ),
        Transaction(
            "MNS150MI",
            "GetUserData",
            "Get user data (default company and division)",
            inputs=names("USID"),
            mandatory=(),
            outputs=names("USID NAME CONO DIVI LNCD DTFM FACI WHLO"),
            handler=_user_data,
        ),
    ]


def discovery_transactions(registry: Registry) -> list[Transaction]:
    """MRS001MI answers from the registry itself, so it always matches what is served."""

    def lst_transactions(ctx: MIContext, inp: Inputs) -> list[Row]:
        program = inp.get("MINM")
        found = registry.of_program(program, ctx.knobs)
        if not found:
            raise nok("XPR0001", "MINM", f"Program {program} does not exist")
        return [{"MINM": t.program, "TRNM": t.name, "TRDS": t.description} for t in found]

    def lst_fields(ctx: MIContext, inp: Inputs) -> list[Row]:
        trn = registry.find(inp.get("MINM"), inp.get("TRNM"), ctx.knobs)
        if trn is None:
            raise nok(
                "XPR0002",
                "TRNM",
                f"Transaction {inp.get('TRNM')} does not exist in program {inp.get('MINM')}",
            )
        direction = inp.get("TRTP", "I")
        if direction not in ("I", "O"):
            raise nok("XPR0003", "TRTP", "TRTP must be I (input) or O (output)")
        names = trn.inputs if direction == "I" else trn.outputs
        return [
            {
                "MINM": trn.program,
                "TRNM": trn.name,
                "FLNM": name,
                "FLDS": FIELDS[name].description,
                "LENG": str(FIELDS[name].length),
                "TYPE": FIELDS[name].kind,
                "MAND": "1" if direction == "I" and name in trn.mandatory else "0",
            }
            for name in names
        ]

    return [
        Transaction(
            "MRS001MI",
            "LstTransactions",
            "List the transactions of a program",
            inputs=names("MINM"),
            mandatory=names("MINM"),
            outputs=names("MINM TRNM TRDS"),
            handler=lst_transactions,
        ),
        Transaction(
            "MRS001MI",
            "LstFields",
            "List the input or output fields of a transaction",
            inputs=names("MINM TRNM TRTP"),
            mandatory=names("MINM TRNM"),
            outputs=names("MINM TRNM FLNM FLDS LENG TYPE MAND"),
            handler=lst_fields,
        ),
    ]
