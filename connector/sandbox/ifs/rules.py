"""Business rules of the tenant, raised as IFS does: ``ORA-20111: {LU}.{CODE}: {text}``.

External voucher rows (sheet §4) need a known ``LoadId`` (an external load), an existing
account and existing code part values for their company; ``RecordNo`` is the next number in
the load. The load's bound actions move its rows ``Loaded → Checked → Updated``: check
validates them, create voucher turns balanced rows into a voucher with GL rows.
"""

from __future__ import annotations

from typing import Any

from connector.sandbox.ifs.schema import CODE_PARTS
from connector.sandbox.ifs.seed import add_load, create_voucher
from connector.sandbox.ifs.store import Row, Store

ROWS = "ExternalVouchers/ExternalVouchersSet"
LOADS = "ExternalVoucherLoadInformationHandling/ExtLoadInfoSet"


class BusinessError(Exception):
    """A PL/SQL business error; ``target`` is the attribute it concerns, when there is one."""

    def __init__(
        self, lu: str, code: str, text: str, target: str | None = None, ora: int = 20111
    ) -> None:
        # ORA-20112 is IFS's "record exists"; every other rule here is ORA-20111.
        super().__init__(f"ORA-{ora}: {lu}.{code}: {text}")
        self.target = target


def mandatory(entity: str, attribute: str) -> BusinessError:
    return BusinessError(
        entity,
        "NULLVALUE",
        f"Field [{attribute}] is mandatory for {entity} and requires a value.",
        attribute,
    )


def before_insert(store: Store, path: str, values: dict[str, Any], create_loads: bool) -> None:
    """Checks and server-assigned values of a new row (only external vouchers have any)."""
    if path != ROWS:
        return
    company, load_id = values["Company"], values["LoadId"]
    load = store.table(LOADS).rows.get((company, load_id))
    if load is None and create_loads:
        add_load(store, load_id)
    elif load is None:
        raise BusinessError(
            "ExtLoadInfo",
            "FND_RECORD_NOT_EXIST",
            f"The External Load Information object {company}, {load_id} does not exist.",
            "LoadId",
        )
    elif load.values["ExtLoadState"] == "Updated":
        raise BusinessError(
            "ExtTransactions",
            "LOADUPDATED",
            f"Load {load_id} is already updated to vouchers; use a new load identity.",
            "LoadId",
        )
    check_coding(store, values)
    numbers = [key[2] for key in store.table(ROWS).rows if key[:2] == (company, load_id)]
    values["RecordNo"] = max(numbers, default=0) + 1
    values["Objstate"] = "Loaded"


def check_coding(store: Store, values: dict[str, Any]) -> None:
    """The row's account and code part values must exist for its company."""
    company = values["Company"]
    account = values.get("Account")
    if (company, account) not in store.table("AccountsHandling/AccountSet").rows:
        raise BusinessError(
            "Account",
            "FND_RECORD_NOT_EXIST",
            f"The Account object {account} does not exist in company {company}.",
            "Account",
        )
    for letter in CODE_PARTS:
        code = values.get(f"Code{letter}")
        values_of_part = store.table(f"Code{letter}Handling/Code{letter}Set").rows
        if code and (company, code) not in values_of_part:
            raise BusinessError(
                f"Code{letter}",
                "FND_RECORD_NOT_EXIST",
                f"The Code {letter} object {code} does not exist in company {company}.",
                f"Code{letter}",
            )


def run_action(store: Store, path: str, row: Row, action: str) -> None:
    """A bound action on ``row``; BusinessError when the rules refuse it."""
    if path != LOADS:
        raise BusinessError("Fnd", "NOACTION", f"{action} is not an action of {path}.")
    load = row.values
    rows = [
        r
        for key, r in store.table(ROWS).rows.items()
        if key[:2] == (load["Company"], load["LoadId"]) and r.values["Objstate"] != "Updated"
    ]
    if not rows:
        raise BusinessError(
            "ExtLoadInfo", "NOROWS", f"Load {load['LoadId']} has no rows waiting to be updated."
        )
    if action == "DoCheckTransactions":
        _check(store, rows)
        load["ExtLoadState"] = "Checked"
    elif action == "DoCreateVoucher":
        _check(store, rows)
        _create_voucher(store, load["LoadId"], rows)
        load["ExtLoadState"] = "Updated"
    store.touch(row)


def _check(store: Store, rows: list[Row]) -> None:
    for row in rows:
        try:
            check_coding(store, row.values)
        except BusinessError as exc:
            row.values["LoadError"] = str(exc)
            row.values["Objstate"] = "Loaded"
        else:
            row.values["LoadError"] = None
            row.values["Objstate"] = "Checked"
        store.touch(row)
    failed = [r for r in rows if r.values["LoadError"]]
    if failed:
        raise BusinessError(
            "ExtTransactions",
            "CHECKERROR",
            f"{len(failed)} row(s) of the load failed the check; see LoadError on each row.",
        )


def _amount(values: dict[str, Any], side: str) -> float:
    return float(values.get(f"{side}Amount") or values.get(f"Currency{side}Amount") or 0.0)


def _create_voucher(store: Store, load_id: str, rows: list[Row]) -> None:
    debit = sum(_amount(r.values, "Debet") for r in rows)
    credit = sum(_amount(r.values, "Credit") for r in rows)
    if round(debit - credit, 2) != 0:
        raise BusinessError(
            "Voucher",
            "NOTBALANCED",
            f"Load {load_id} is not balanced: debit {debit:.2f}, credit {credit:.2f}.",
        )
    first = rows[0].values
    head = create_voucher(
        store,
        first.get("VoucherType") or "K",
        first.get("TransactionDate") or "2025-03-01",
        f"External load {load_id}",
        [
            (
                r.values["Account"],
                r.values.get("CodeB"),
                _amount(r.values, "Debet") or None,
                _amount(r.values, "Credit") or None,
            )
            for r in rows
        ],
    )
    for row in rows:
        row.values["Objstate"] = "Updated"
        row.values["VoucherNo"] = head["VoucherNo"]
        store.touch(row)
