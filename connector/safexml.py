"""Parsing XML that crossed a network, with the dangerous parts of XML switched off.

SYSPRO speaks XML both ways (the sandbox reads XMLIN, the client reads XMLOUT), and neither
document ever carries a DTD. The standard library's expat parser does not fetch external
entities, and expat 2.4.1 or newer bounds entity expansion (billion laughs), but an internal
entity declaration is still honoured. Rather than add ``defusedxml`` as a dependency for one
check, :func:`parse_xml` installs the same guard it would: any ``<!DOCTYPE`` or entity
declaration refuses the document. The five predefined entities and character references
(``&amp;``, ``&#233;``) need no declaration and keep working.

:func:`parse_xml` raises :class:`UnsafeXmlError` for a DTD and :class:`XmlSyntaxError` for text
that is not well-formed, so callers can say which it was.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import NoReturn
from xml.parsers import expat


class XmlSyntaxError(ValueError):
    """The text is not well-formed XML; the message is expat's, with line and column."""


class UnsafeXmlError(ValueError):
    """The document declares a DTD or entities, which no SYSPRO document does."""


def parse_xml(text: str | bytes) -> ET.Element:
    """The root element of ``text``; UnsafeXmlError for a DTD, XmlSyntaxError if malformed.

    Bytes are decoded by the XML declaration's ``encoding`` (SYSPRO writes Windows-1252); a
    ``str`` is taken as already decoded, whatever its declaration says.
    """
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity
    parser.ExternalEntityRefHandler = _refuse_external_entity
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise XmlSyntaxError(str(exc)) from None
    return builder.close()


def _refuse_doctype(name: str, *_: object) -> NoReturn:
    raise UnsafeXmlError(f"the document declares a DTD (<!DOCTYPE {name}>); none is allowed")


def _refuse_entity(name: str, *_: object) -> NoReturn:
    raise UnsafeXmlError(f"the document declares the entity {name!r}; none is allowed")


def _refuse_unparsed_entity(name: str, *_: object) -> NoReturn:
    raise UnsafeXmlError(f"the document declares the entity {name!r}; none is allowed")


def _refuse_external_entity(context: str, *_: object) -> NoReturn:
    raise UnsafeXmlError("the document refers to an external entity; none is allowed")
