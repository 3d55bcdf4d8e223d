"""CRS630MI (accounting identities: AIT1 accounts, AIT2 cost centers) and EXPORTMI/Select.

EXPORTMI reads tables directly with a SQL fragment in ``QERY`` (``IDSUNO, IDLMDT from
CIDMAS where IDCONO = 100 and IDLMDT >= 20240601``) and answers each row as one
separator-joined ``REPL`` string. Like the real one it does not apply the session company:
a query without a ``XXCONO`` condition returns rows of every company.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.sandbox.infor.data import M3Database, Row
from connector.sandbox.infor.fields import names
from connector.sandbox.infor.mi import Inputs, MIContext, Transaction, nok

ACCOUNT_OUTPUTS = names("DIVI AITP AITM TX40 TX15 STAT LMDT CHNO CHID")


def _get_account(ctx: MIContext, inp: Inputs) -> list[Row]:
    key = (str(inp.integer("AITP")), inp.get("AITM"))
    row = ctx.book.accounting.get(key)
    if row is None:
        raise nok(
            "WAI0203",
            "AITM",
            f"Accounting identity {key[1]} does not exist in dimension {key[0]} of company "
            f"{ctx.cono}",
        )
    return [row]


def _lst_accounts(ctx: MIContext, inp: Inputs) -> list[Row]:
    dimension, start = str(inp.integer("AITP")), inp.get("AITM")
    return [
        row
        for (aitp, aitm), row in sorted(ctx.book.accounting.items())
        if aitp == dimension and aitm >= start
    ]


#: EXPORTMI table name → (column prefix, rows of that table across companies).
TABLES: dict[str, tuple[str, Callable[[M3Database], Iterator[Row]]]] = {
    "CIDMAS": ("ID", lambda db: (r for b in db.books.values() for r in b.suppliers.values())),
    "MITMAS": ("MM", lambda db: (r for b in db.books.values() for r in b.items.values())),
    "MPHEAD": (
        "IA",
        lambda db: (o.head for b in db.books.values() for o in b.purchase_orders.values()),
    ),
    "MPLINE": (
        "IB",
        lambda db: (
            ln for b in db.books.values() for o in b.purchase_orders.values() for ln in o.lines
        ),
    ),
    "FAPIBH": ("E5", lambda db: ({"CONO": b.cono, **b.head} for b in db.batches.values())),
}

_QUERY = re.compile(
    r"^\s*(?P<cols>.+?)\s+from\s+(?P<table>\w+)(?:\s+where\s+(?P<where>.+?))?\s*$",
    re.IGNORECASE,
)
_CONDITION = re.compile(
    r"^\s*(?P<col>\w+)\s*(?P<op><>|!=|>=|<=|=|>|<)\s*(?P<value>'[^']*'|\S+)\s*$"
)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


def _compare(left: str, op: str, right: str) -> bool:
    """Numbers compare as numbers (``IDLMDT >= 20240601``), everything else as text."""
    compare = _OPERATORS[op]
    try:
        return compare(Decimal(left or "0"), Decimal(right))
    except InvalidOperation:
        return compare(left, right)


def _select(ctx: MIContext, inp: Inputs) -> list[Row]:
    match = _QUERY.match(inp.get("QERY"))
    if match is None:
        raise nok("XEX0001", "QERY", "QERY must read '<columns> from <TABLE> [where ...]'")
    table = match.group("table").upper()
    if table not in TABLES:
        raise nok(
            "XEX0002",
            "QERY",
            f"Table {table} is not exported; use one of {', '.join(sorted(TABLES))}",
        )
    prefix, rows = TABLES[table]

    def column(name: str) -> str:
        if not name.upper().startswith(prefix) or len(name) != len(prefix) + 4:
            raise nok(
                "XEX0003",
                "QERY",
                f"Column {name} is not a column of {table} "
                f"(columns are {prefix} + a field name, e.g. {prefix}LMDT)",
            )
        return name.upper()[len(prefix) :]

    conditions: list[tuple[str, str, str]] = []
    for text in re.split(r"\s+and\s+", match.group("where") or "", flags=re.IGNORECASE):
        if not text.strip():
            continue
        cond = _CONDITION.match(text)
        if cond is None:
            raise nok("XEX0004", "QERY", f"Condition {text.strip()!r} is not understood")
        conditions.append(
            (column(cond.group("col")), cond.group("op"), cond.group("value").strip("'"))
        )
    columns = [column(c.strip()) for c in match.group("cols").split(",")]
    separator = inp.get("SEPC") or ";"
    selected = [
        row
        for row in rows(ctx.db)
        if all(_compare(row.get(f, "").strip(), op, v) for f, op, v in conditions)
    ]
    out: list[Row] = []
    if inp.get("HDRS") == "1":
        out.append({"REPL": separator.join(prefix + c for c in columns)})
    out.extend(
        {"REPL": separator.join(row.get(c, "").strip() for c in columns)} for row in selected
    )
    return out


def account_transactions() -> list[Transaction]:
    return [
        Transaction(
            "CRS630MI",
            "GetAccountID",
            "Get accounting identity",
            inputs=names("AITP AITM DIVI"),
            mandatory=names("AITP AITM"),
            outputs=ACCOUNT_OUTPUTS,
            handler=_get_account,
        ),
        Transaction(
            "CRS630MI",
            "LstAccountID",
            "List accounting identities",
            inputs=names("AITP DIVI AITM"),
            mandatory=names("AITP"),
            outputs=ACCOUNT_OUTPUTS,
            handler=_lst_accounts,
        ),
        Transaction(
            "EXPORTMI",
            "Select",
            "Select rows of a table (SQL fragment)",
            inputs=names("QERY SEPC HDRS"),
            mandatory=names("QERY"),
            outputs=names("REPL"),
            handler=_select,
        ),
    ]
