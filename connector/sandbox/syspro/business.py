"""What every posting and setup business object shares: parameters, items, per-field errors.

Each business object checks one item at a time and returns a :class:`Checked`: the field
errors found, the key fields to echo, and ``apply``, which writes the item and returns the
output fields (journal numbers…). :func:`run_items` then honours the common parameters:

- ``ValidateOnly`` Y: every item is checked, nothing is written;
- ``ApplyIfEntireDocumentValid`` Y: one invalid item and nothing is written;
- otherwise each valid item is written, invalid ones are reported and skipped.

An invalid field appears in the item as ``<field><Value/><ErrorNumber/><ErrorDescription/>
</field>``, after the echoed keys. Counts close the document: ``StatusOfItems`` with
``RecordsRead``/``RecordsInvalid`` for setup objects, ``ItemsProcessed``/``ItemsInvalid``
(zero-padded to six digits) for transactions.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from connector.sandbox.syspro.company import Company
from connector.sandbox.syspro.knobs import SysproKnobs
from connector.sandbox.syspro.xmlio import child, leaf, text

#: Error numbers seen on real servers (the sheet) and the ones the simulator makes up.
MANDATORY = "100030"
BAD_DATE = "100028"
NOT_NUMERIC = "100029"  # inferred
NOT_ON_FILE = "240004"  # the recorded "Stock code '1004' not found"; reused for every lookup
ALREADY_EXISTS = "240010"  # inferred
INVALID_VALUE = "100031"  # inferred


@dataclass(frozen=True)
class FieldError:
    element: str
    value: str
    number: str
    description: str


@dataclass(frozen=True)
class Parameters:
    validate_only: bool
    entire_document: bool
    element: ET.Element | None

    def flag(self, name: str, default: str = "") -> str:
        return (text(self.element, name) or default).upper()


def parameters(document: ET.Element | None) -> Parameters:
    """The ``<Parameters>`` block of an XmlParameters document (absent = all defaults)."""
    block = child(document, "Parameters") if document is not None else None
    if block is None:
        block = document
    return Parameters(
        validate_only=text(block, "ValidateOnly").upper() == "Y",
        entire_document=text(block, "ApplyIfEntireDocumentValid").upper() == "Y",
        element=block,
    )


@dataclass
class Context:
    company: Company
    knobs: SysproKnobs
    params: Parameters

    @property
    def company_date(self) -> dt.date:
        if self.knobs.company_date:
            return dt.date.fromisoformat(self.knobs.company_date)
        return dt.datetime.now(dt.UTC).date()

    def output_name(self, sent: str) -> str:
        return sent.lower() if self.knobs.element_case == "lower" else sent


@dataclass
class Checked:
    """One checked item: its errors, the keys to echo (``Key/Supplier`` nests), how to write it."""

    echo: list[tuple[str, str]]
    errors: list[FieldError] = field(default_factory=list)
    apply: Callable[[], list[tuple[str, str]]] = lambda: []

    def error(self, element: str, value: str, number: str, description: str) -> None:
        self.errors.append(FieldError(element, value, number, description))


Checker = Callable[[Context, ET.Element], Checked]


def run_items(
    ctx: Context,
    items: list[ET.Element],
    checker: Checker,
    *,
    item_tag: str,
    style: Literal["setup", "transaction"],
) -> list[ET.Element]:
    """Check and (as the parameters allow) write every item; the XMLOUT body."""
    checked = [checker(ctx, item) for item in items]
    invalid = sum(1 for c in checked if c.errors)
    write = not ctx.params.validate_only and not (ctx.params.entire_document and invalid)
    body: list[ET.Element] = []
    for result in checked:
        out = ET.Element(ctx.output_name(item_tag))
        for path, value in result.echo:
            _put(out, [ctx.output_name(step) for step in path.split("/")], value)
        for error in result.errors:
            blamed = ET.SubElement(out, ctx.output_name(error.element))
            leaf(blamed, "Value", error.value)
            leaf(blamed, "ErrorNumber", error.number)
            leaf(blamed, "ErrorDescription", error.description)
        if write and not result.errors:
            for path, value in result.apply():
                _put(out, [ctx.output_name(step) for step in path.split("/")], value)
        body.append(out)
    status = ET.Element("StatusOfItems")
    if style == "setup":
        leaf(status, "RecordsRead", str(len(items)))
        leaf(status, "RecordsInvalid", str(invalid))
    else:
        leaf(status, "ItemsProcessed", f"{len(items) - invalid:06d}")
        leaf(status, "ItemsInvalid", f"{invalid:06d}")
    body.append(status)
    return body


def _put(item: ET.Element, path: list[str], value: str) -> None:
    """Set the element at ``path`` under ``item``, creating only the steps not there yet."""
    parent = item
    for step in path:
        found = parent.find(step)
        parent = found if found is not None else ET.SubElement(parent, step)
    parent.text = value


# -- field checks shared by the objects ------------------------------------------------
def mandatory(result: Checked, item: ET.Element, name: str) -> str:
    """The value of a mandatory element; records error 100030 when it is blank."""
    value = text(item, name)
    if not value:
        result.error(name, value, MANDATORY, f"XML element '{name}' cannot be spaces")
    return value


def date_field(result: Checked, item: ET.Element, name: str) -> dt.date | None:
    """An optional CCYY-MM-DD element; records error 100028 when it is not one."""
    value = text(item, name)
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        result.error(name, value, BAD_DATE, f"XML element '{name}' must be CCYY-MM-DD format")
        return None


def decimal_field(result: Checked, item: ET.Element, name: str) -> Decimal:
    """An optional numeric element (blank = 0); records an error when it is not a number."""
    value = text(item, name)
    if not value:
        return Decimal(0)
    try:
        number = Decimal(value)
        if not number.is_finite():
            raise InvalidOperation(value)
        return number
    except InvalidOperation:
        result.error(name, value, NOT_NUMERIC, f"XML element '{name}' must be numeric")
        return Decimal(0)
