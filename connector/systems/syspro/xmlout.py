"""Reading what e.net answers: ``ERROR:`` texts, XMLOUT documents and their per-field errors.

e.net answers HTTP 200 whatever happened, so the status says nothing: a body starting with
``ERROR:`` is a refusal of the whole call, and an XMLOUT may still carry
``<field><Value/><ErrorNumber/><ErrorDescription/></field>`` under the items it refused.
XMLOUT is parsed with :func:`connector.safexml.parse_xml` and every tag is lower-cased once,
because element casing differs between business objects; callers then use lower-case paths.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from connector.errors import InDoubtError, RejectedError, clause
from connector.safexml import UnsafeXmlError, XmlSyntaxError, parse_xml

SYSTEM = "syspro"
ERROR_PREFIX = "ERROR:"
#: The text e.net answers for an unknown, logged-off, timed-out or taken-over session.
INVALID_SESSION = "the supplied userid is invalid"


@dataclass(frozen=True)
class FieldError:
    """One refusal inside an XMLOUT: the element blamed, its value, SYSPRO's number and text."""

    field: str
    value: str
    number: str
    description: str


def error_text(body: bytes) -> str | None:
    """The message of an ``ERROR:`` answer (without the prefix), or None for any other body."""
    text = body.decode("cp1252", errors="replace").strip()
    if text[: len(ERROR_PREFIX)].upper() != ERROR_PREFIX:
        return None
    return text[len(ERROR_PREFIX) :].strip()


def is_invalid_session(message: str) -> bool:
    return INVALID_SESSION in message.lower()


def parse(body: bytes, *, what: str, record: str | None, write: bool) -> ET.Element:
    """The XMLOUT root with every tag lower-cased.

    An answer that is not XML is ``InDoubtError`` for a write (the business object ran and
    may have posted: look the record up before sending it again) and ``RejectedError`` for a
    read. ``what`` names the call (``"APSTIN post"``) in the error.
    """
    try:
        root = parse_xml(body)
    except (XmlSyntaxError, UnsafeXmlError) as exc:
        said = f"the answer to the {what} is not an XMLOUT document ({exc})"
        if write:
            raise InDoubtError(
                f"{said}; the post may have been applied: look the record up in SYSPRO by "
                "its natural key before sending it again, and report this answer",
                system=SYSTEM,
                record=record,
            ) from None
        raise RejectedError(
            f"{said}; report this answer with this message",
            system=SYSTEM,
            record=record,
            code="unexpected_response",
        ) from None
    for element in root.iter():
        element.tag = element.tag.lower()
    return root


def field_errors(root: ET.Element) -> list[FieldError]:
    """Every ``<ErrorDescription>`` in the document, with the element it sits under."""
    parents = {child: parent for parent in root.iter() for child in parent}
    errors = []
    for description in root.iter("errordescription"):
        blamed = parents.get(description, root)
        errors.append(
            FieldError(
                field=blamed.tag,
                value=(blamed.findtext("value") or "").strip(),
                number=(blamed.findtext("errornumber") or "").strip(),
                description=" ".join((description.text or "").split()),
            )
        )
    return errors


def raise_for_field_errors(root: ET.Element, *, what: str, record: str) -> None:
    """RejectedError naming the record, the first field blamed and every reason given."""
    errors = field_errors(root)
    if not errors:
        return
    first = errors[0]
    reasons = "; ".join(
        f"{e.field} {e.value!r}: {e.description}" + (f" (error {e.number})" if e.number else "")
        for e in errors
    )
    raise RejectedError(
        f"SYSPRO refused the {what}: {clause(reasons)}. Nothing was posted; fix the source "
        "record or its mapping (supplier, GL code, stock code, period), then replay it",
        system=SYSTEM,
        record=record,
        field=first.field,
        code=first.number or None,
    )


def count(root: ET.Element, name: str) -> int:
    """A status count such as ``ItemsProcessed`` (zero- or space-padded); 0 when absent."""
    found = root.find(f".//{name.lower()}")
    text = (found.text or "").strip() if found is not None else ""
    return int(text) if text.isdigit() else 0
