"""XMLIN in, XMLOUT out: reading documents leniently about case, writing them as SYSPRO does.

XMLIN is parsed with :func:`connector.safexml.parse_xml` (no DTDs); text that is not
well-formed is refused with an ``ERROR:`` answer like any other failure of the call. Element
names are matched without regard to case, since SYSPRO's own documents disagree on it.

XMLOUT starts with the ``Windows-1252`` prolog, its root is the input root lower-cased, and the
root carries SYSPRO's attributes in single quotes (``Language='05' … Version='8.0.000'``);
the body is serialised by ElementTree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from connector.safexml import UnsafeXmlError, XmlSyntaxError, parse_xml

ROOT_ATTRIBUTES = (
    ("Language", "05"),
    ("Language2", "EN"),
    ("CssStyle", ""),
    ("DecFormat", "1"),
    ("DateFormat", "01"),
    ("Role", "01"),
    ("Version", "8.0.000"),
    ("OperatorPrimaryRole", "   "),
)


class EnetError(Exception):
    """A call e.net answers with ``ERROR: <message>`` (HTTP 200)."""


def read_document(text: str, what: str, root: str) -> ET.Element:
    """``text`` parsed; EnetError if it is missing, malformed, has a DTD or another root."""
    if not text.strip():
        raise EnetError(f"{what} is empty: an XML document with root <{root}> is required")
    try:
        element = parse_xml(text)
    except XmlSyntaxError as exc:
        raise EnetError(f"{what} is not well-formed XML ({exc})") from None
    except UnsafeXmlError as exc:
        raise EnetError(f"{what} is refused: {exc}") from None
    if element.tag.lower() != root.lower():
        raise EnetError(f"{what} root element <{element.tag}> is not <{root}>")
    return element


def child(element: ET.Element | None, name: str) -> ET.Element | None:
    """The first child called ``name`` in any case."""
    if element is None:
        return None
    wanted = name.lower()
    return next((c for c in element if c.tag.lower() == wanted), None)


def children(element: ET.Element | None, name: str) -> list[ET.Element]:
    if element is None:
        return []
    wanted = name.lower()
    return [c for c in element if c.tag.lower() == wanted]


def text(element: ET.Element | None, name: str) -> str:
    """The stripped text of child ``name``; blank when it is absent (SYSPRO treats both alike)."""
    found = child(element, name)
    return (found.text or "").strip() if found is not None else ""


def render(root: str, body: list[ET.Element]) -> bytes:
    """A complete XMLOUT document in Windows-1252."""
    attributes = " ".join(
        f"{name}='{escape(value, {chr(39): '&apos;'})}'" for name, value in ROOT_ATTRIBUTES
    )
    inner = "\n".join(ET.tostring(element, encoding="unicode") for element in body)
    document = (
        '<?xml version="1.0" encoding="Windows-1252"?>\n'
        f"<{root} {attributes}>\n{inner}\n</{root}>\n "
    )
    return document.encode("cp1252", errors="xmlcharrefreplace")


def leaf(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, name)
    element.text = value
    return element
