"""Mongoose ``ido/load``: properties, filter, order, record cap and bookmark paging.

Query parameters (names case-insensitive, as Mongoose reads them): ``properties`` (comma
list; ``*`` or absent = all), ``filter`` (see :mod:`.syteline_filter`), ``orderBy``
(``Prop [ASC|DESC], …``), ``recordCap`` (absent or ``-1`` = the default cap of 200, ``0`` =
no cap, ``N`` = N rows; a site-wide maximum, when set, wins), ``loadType``
(``FIRST`` default, ``NEXT``, ``PREV``, ``LAST``) and ``bookmark``.

The bookmark is Mongoose's XML: ``<B><P><p>Prop</p>…</P><D><f>false</f>…</D><F><v>…</v>…</F>
<L><v>…</v>…</L></B>`` — the ordering properties (the ``orderBy`` ones, then the IDO's keys
so the order is total), their descending flags, and their values on the first and last row
of the page. ``NEXT`` reads the rows after ``L``, ``PREV`` those before ``F``: positions are
by value, so rows inserted or changed between pages are neither skipped nor repeated
because of an offset. A bookmark from another ordering is refused.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET  # noqa: S405 - parses only our own bookmark format
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from connector.sandbox.infor.syteline_filter import FilterError, compare_values, parse_filter
from connector.sandbox.infor.syteline_idos import Ido, convert, wire

Row = dict[str, Any]
DEFAULT_RECORD_CAP = 200
LOAD_TYPES = ("FIRST", "NEXT", "PREV", "LAST")


class LoadError(ValueError):
    """The load cannot run; the message goes back in the response's ``Message``."""


def _param(query: Mapping[str, str], name: str) -> str | None:
    for key, value in query.items():
        if key.lower() == name.lower():
            return value
    return None


def _properties(ido: Ido, text: str | None) -> list[str]:
    if text is None or text.strip() in ("", "*"):
        return list(ido.props)
    lookup = {name.casefold(): name for name in ido.props}
    chosen: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        real = lookup.get(name.casefold())
        if real is None:
            raise LoadError(f"Property '{name}' does not exist in IDO collection {ido.name}.")
        if real not in chosen:
            chosen.append(real)
    return chosen


def _order(ido: Ido, text: str | None) -> list[tuple[str, bool]]:
    lookup = {name.casefold(): name for name in ido.props}
    order: list[tuple[str, bool]] = []
    for raw in (text or "").split(","):
        words = raw.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise LoadError(f"Invalid orderBy term '{raw.strip()}': use Property [ASC|DESC]")
        real = lookup.get(words[0].casefold())
        if real is None:
            raise LoadError(f"Property '{words[0]}' does not exist in IDO collection {ido.name}.")
        order.append((real, len(words) == 2 and words[1].upper() == "DESC"))
    named = {name for name, _ in order}
    order.extend((key, False) for key in ido.keys if key not in named)
    return order


def _compare_rows(order: Sequence[tuple[str, bool]], left: Row, right: Row) -> int:
    for name, descending in order:
        a, b = left.get(name), right.get(name)
        if a is None or b is None:
            result = (a is not None) - (b is not None)  # NULLs first, as SQL Server sorts
        else:
            result = compare_values(a, b)
        if result:
            return -result if descending else result
    return 0


def _bookmark(order: Sequence[tuple[str, bool]], first: Row, last: Row) -> str:
    def values(row: Row) -> str:
        return "".join(
            "<v/>" if row.get(name) is None else f"<v>{escape(wire(row[name]) or '')}</v>"
            for name, _ in order
        )

    props = "".join(f"<p>{name}</p>" for name, _ in order)
    flags = "".join(f"<f>{'true' if desc else 'false'}</f>" for _, desc in order)
    return f"<B><P>{props}</P><D>{flags}</D><F>{values(first)}</F><L>{values(last)}</L></B>"


def _bookmark_edges(ido: Ido, order: Sequence[tuple[str, bool]], text: str) -> tuple[Row, Row]:
    try:
        root = ET.fromstring(text)  # noqa: S314 - small, from the query string, no entities
    except ET.ParseError:
        raise LoadError(
            "The bookmark is not valid: pass back the Bookmark of the previous answer"
        ) from None
    names = [p.text or "" for p in root.findall("./P/p")]
    flags = [(f.text or "") == "true" for f in root.findall("./D/f")]
    if root.tag != "B" or list(zip(names, flags, strict=False)) != list(order):
        raise LoadError(
            "The bookmark belongs to another ordering of this collection: page with the same "
            "orderBy as the load that returned it"
        )

    def row(path: str) -> Row:
        cells = root.findall(f"./{path}/v")
        if len(cells) != len(order):
            raise LoadError(
                "The bookmark is not valid: pass back the Bookmark of the previous answer"
            )
        try:
            return {
                name: None if cell.text is None else convert(ido, name, cell.text)
                for (name, _), cell in zip(order, cells, strict=True)
            }
        except ValueError:
            raise LoadError(
                "The bookmark is not valid: pass back the Bookmark of the previous answer"
            ) from None

    return row("F"), row("L")


def _record_cap(text: str | None, site_max: int) -> int | None:
    """Rows per answer, or None for all of them."""
    if text is None or text.strip() == "":
        cap: int | None = DEFAULT_RECORD_CAP
    else:
        try:
            asked = int(text)
        except ValueError:
            raise LoadError(f"recordCap must be a whole number, not '{text}'") from None
        cap = DEFAULT_RECORD_CAP if asked == -1 else (None if asked == 0 else asked)
        if cap is not None and cap < 0:
            raise LoadError(f"recordCap must be -1, 0 or positive, not {asked}")
    if site_max > 0:
        cap = site_max if cap is None else min(cap, site_max)
    return cap


def load(
    ido: Ido,
    rows: list[Row],
    query: Mapping[str, str],
    *,
    site_max: int,
    item_id: Callable[[Row], str],
) -> dict[str, Any]:
    """The body of a successful load; raises LoadError (or FilterError) otherwise."""
    properties = _properties(ido, _param(query, "properties"))
    order = _order(ido, _param(query, "orderBy"))
    cap = _record_cap(_param(query, "recordCap"), site_max)
    load_type = (_param(query, "loadType") or "FIRST").upper()
    if load_type not in LOAD_TYPES:
        raise LoadError(f"loadType must be one of {', '.join(LOAD_TYPES)}, not '{load_type}'")
    filter_text = _param(query, "filter")
    if filter_text:
        try:
            keep = parse_filter(filter_text, ido.types, functools.partial(convert, ido))
        except FilterError as exc:
            raise LoadError(f"Invalid filter for IDO collection {ido.name}: {exc}") from None
        rows = [row for row in rows if keep(row)]
    key = functools.cmp_to_key(functools.partial(_compare_rows, order))
    rows = sorted(rows, key=key)
    bookmark = _param(query, "bookmark")
    if load_type in ("NEXT", "PREV"):
        if not bookmark:
            raise LoadError(f"loadType {load_type} needs the bookmark of the previous answer")
        first, last = _bookmark_edges(ido, order, bookmark)
        if load_type == "NEXT":
            rows = [row for row in rows if _compare_rows(order, row, last) > 0]
        else:
            rows = [row for row in rows if _compare_rows(order, row, first) < 0]
    take_end = load_type in ("PREV", "LAST")
    more = cap is not None and len(rows) > cap
    if cap is not None:
        rows = rows[-cap:] if take_end else rows[:cap]
    items = []
    for row in rows:
        item = {name: wire(row.get(name)) for name in properties}
        item["_ItemId"] = item_id(row)
        items.append(item)
    return {
        "Items": items,
        "Bookmark": _bookmark(order, rows[0], rows[-1]) if rows else None,
        "MoreRowsExist": more,
        "Message": None,
        "Success": True,
    }
