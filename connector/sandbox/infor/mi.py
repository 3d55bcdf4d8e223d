"""The MI layer: transaction tables, input checking, company context and the result envelope.

One call runs one transaction in this order, each step able to end it with an MI error
(HTTP 200, ``errorType``/``errorCode``/``errorField``/``errorMessage``, empty ``records``):

1. every upper-case input must be a field of the transaction (else ``ServerReturnedNOK``);
2. mandatory fields present and non-blank (``MandatoryInputFieldNotFound`` naming it);
3. values fit their field (``InputFieldTooLong``; bad ``yyyyMMdd`` date or ``,`` decimal is
   ``ServerReturnedNOK``);
4. company and division: ``CONO`` from the input field or the ``cono`` option, else the
   service account's default company; unknown or unauthorized → ``XAU0008`` on ``CONO``;
5. the handler, which raises :class:`MIError` for business rules.

Outputs are strings; A fields are blank-padded unless ``righttrim``; ``returncols`` filters
columns; rows are capped by ``maxrecs`` (default 100, ``0`` = the hard cap) and never by an
offset, because M3 has none: Lst transactions start at the key fields given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connector.sandbox.infor.data import Book, Company, M3Database, Row
from connector.sandbox.infor.fields import (
    FIELDS,
    FieldValueError,
    check_input,
    empty_value,
    format_output,
)
from connector.sandbox.infor.knobs import InforKnobs

DEFAULT_MAXRECS = 100
ERROR_MESSAGE_WIDTH = 240


class MIError(Exception):
    """An MI error result; ``error_type`` is one of the gateway's four ``errorType`` values."""

    def __init__(self, error_type: str, code: str, field_name: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.code = code
        self.field_name = field_name
        self.message = message


def nok(code: str, field_name: str, message: str) -> MIError:
    """A business-rule refusal (``ServerReturnedNOK``)."""
    return MIError("ServerReturnedNOK", code, field_name, message)


class Inputs:
    """The checked, non-blank input fields of one call."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def get(self, name: str, default: str = "") -> str:
        return self._values.get(name, default)

    def decimal(self, name: str, default: Decimal = Decimal(0)) -> Decimal:
        return Decimal(self._values[name]) if name in self._values else default

    def integer(self, name: str, default: int = 0) -> int:
        return int(Decimal(self._values[name])) if name in self._values else default

    def items(self) -> list[tuple[str, str]]:
        return list(self._values.items())


@dataclass
class MIContext:
    """What a handler may touch: the database, the knobs and the call's company/division."""

    db: M3Database
    knobs: InforKnobs
    company: Company
    divi: str
    program: str
    transaction: str

    @property
    def cono(self) -> str:
        return self.company.cono

    @property
    def book(self) -> Book:
        return self.db.book(self.company.cono)

    def require_division(self) -> str:
        """The division a finance transaction runs in; M3 refuses a blank one."""
        if not self.divi:
            raise nok(
                "XDI0001",
                "DIVI",
                f"Division must be entered: company {self.cono} is not the user's default "
                "company, so send divi (matrix) or the DIVI input field",
            )
        return self.divi


Handler = Callable[[MIContext, Inputs], list[Row]]


def _always(_: InforKnobs) -> bool:
    return True


@dataclass(frozen=True)
class Transaction:
    """One MI transaction: its fields, which are mandatory, its outputs, and its behaviour."""

    program: str
    name: str
    description: str
    inputs: tuple[str, ...]
    mandatory: tuple[str, ...]
    outputs: tuple[str, ...]
    handler: Handler
    available: Callable[[InforKnobs], bool] = _always
    #: The CONO input is the record's key (MNS095MI/Get), not the company to run in.
    cono_is_key: bool = False

    def __post_init__(self) -> None:
        unknown = [n for n in (*self.inputs, *self.outputs) if n not in FIELDS]
        missing = [n for n in self.mandatory if n not in self.inputs]
        if unknown or missing:
            raise ValueError(
                f"{self.program}/{self.name}: fields not in the catalog {unknown}, "
                f"mandatory fields not among the inputs {missing}"
            )


@dataclass
class Registry:
    """Every program and transaction the simulated M3 offers (what MRS001MI lists).

    A transaction may be registered in several variants whose ``available`` predicates
    exclude each other (``APS450MI/AddLine`` with or without AIT fields, by version): the
    first available one is what is served and what the metadata describes.
    """

    _table: dict[tuple[str, str], list[Transaction]] = field(default_factory=dict)

    def add(self, *transactions: Transaction) -> None:
        for trn in transactions:
            self._table.setdefault((trn.program, trn.name), []).append(trn)

    def find(self, program: str, name: str, knobs: InforKnobs) -> Transaction | None:
        variants = self._table.get((program, name), [])
        return next((t for t in variants if t.available(knobs)), None)

    def has_program(self, program: str) -> bool:
        return any(p == program for p, _ in self._table)

    def programs(self) -> list[str]:
        """Every program name, sorted."""
        return sorted({p for p, _ in self._table})

    def of_program(self, program: str, knobs: InforKnobs) -> list[Transaction]:
        found = (self.find(p, n, knobs) for (p, n) in self._table if p == program)
        return sorted((t for t in found if t is not None), key=lambda t: t.name)


@dataclass
class CallOptions:
    """The lower-case options of a call (matrix parameters or query string)."""

    cono: str | None = None
    divi: str | None = None
    maxrecs: int | None = None
    returncols: list[str] | None = None
    righttrim: bool = False
    excludempty: bool = False


def error_result(transaction: str, error: MIError, knobs: InforKnobs) -> dict[str, Any]:
    """The result object of a failed transaction, as the gateway renders it."""
    message = error.message
    if knobs.pad_error_messages:
        message = message.ljust(ERROR_MESSAGE_WIDTH)
    return {
        "transaction": transaction,
        "errorMessage": message,
        "errorType": error.error_type,
        "errorCode": error.code,
        "errorField": error.field_name,
        "records": [],
    }


def transaction_not_found(program: str, transaction: str, knobs: InforKnobs) -> dict[str, Any]:
    """The older grids' answer to an unknown transaction (HTTP 200, ``TransactionNotFound``)."""
    error = MIError(
        "TransactionNotFound",
        "",
        "",
        f"Transaction {transaction} does not exist in program {program}; list the "
        f"transactions with MRS001MI/LstTransactions?MINM={program}",
    )
    return error_result(transaction, error, knobs)


def run(
    db: M3Database,
    knobs: InforKnobs,
    trn: Transaction,
    params: dict[str, str],
    options: CallOptions,
) -> dict[str, Any]:
    """Run one transaction and return its result object (success or MI error)."""
    try:
        inputs = _check_inputs(trn, params)
        context = _context(db, knobs, trn, inputs, options)
        rows = trn.handler(context, inputs)
    except MIError as error:
        return error_result(trn.name, error, knobs)
    return {"transaction": trn.name, "records": _render(trn, rows, options, knobs)}


def _check_inputs(trn: Transaction, params: dict[str, str]) -> Inputs:
    allowed = set(trn.inputs)
    for name in params:
        if name not in allowed:
            raise nok(
                "XIN0001",
                name,
                f"Input field {name} is not valid for {trn.program}/{trn.name}; valid fields: "
                f"{', '.join(trn.inputs) or 'none'}",
            )
    present = {name: value for name, value in params.items() if value.strip() != ""}
    for name in trn.mandatory:
        if name not in present:
            raise MIError(
                "MandatoryInputFieldNotFound",
                "XMA0001",
                name,
                f"Mandatory input field {name} ({FIELDS[name].description}) was not sent "
                f"to {trn.program}/{trn.name}",
            )
    checked: dict[str, str] = {}
    for name in trn.inputs:
        if name not in present:
            continue
        try:
            checked[name] = check_input(FIELDS[name], present[name])
        except FieldValueError as exc:
            if exc.too_long:
                raise MIError("InputFieldTooLong", "XLE0001", name, exc.message) from None
            raise nok("XNU0001", name, exc.message) from None
    return Inputs(checked)


def _context(
    db: M3Database, knobs: InforKnobs, trn: Transaction, inputs: Inputs, options: CallOptions
) -> MIContext:
    own_cono = "" if trn.cono_is_key else inputs.get("CONO")
    raw_cono = own_cono or (options.cono or "").strip() or db.default_cono
    cono = str(int(raw_cono)) if raw_cono.isdigit() else raw_cono
    company = db.companies.get(cono)
    if company is None or not company.authorized:
        raise nok(
            "XAU0008",
            "CONO",
            f"Company {raw_cono} does not exist or user {db.user} is not authorized to it; "
            "use a company listed by MNS095MI/Lst that the service account may use",
        )
    divi = inputs.get("DIVI") or (options.divi or "").strip()
    if not divi and cono == db.default_cono:
        # M3 falls back to the user's default division only inside the default company.
        divi = db.default_divi
    if divi and divi not in company.divisions:
        raise nok(
            "XDI0002",
            "DIVI",
            f"Division {divi} does not exist in company {cono}; valid divisions: "
            f"{', '.join(sorted(company.divisions))}",
        )
    return MIContext(db, knobs, company, divi, trn.program, trn.name)


def _render(
    trn: Transaction, rows: list[Row], options: CallOptions, knobs: InforKnobs
) -> list[dict[str, str]]:
    cap = max(1, knobs.maxrecs_cap)
    wanted = DEFAULT_MAXRECS if options.maxrecs is None else options.maxrecs
    limit = cap if wanted <= 0 else min(wanted, cap)
    columns = [c for c in trn.outputs if options.returncols is None or c in options.returncols]
    rendered: list[dict[str, str]] = []
    for row in rows[:limit]:
        record: dict[str, str] = {}
        for name in columns:
            spec = FIELDS[name]
            value = row.get(name, empty_value(spec))
            if options.excludempty and not value.strip():
                continue
            record[name] = format_output(spec, value, trim=options.righttrim)
        rendered.append(record)
    return rendered
