"""The DAC-based OData v4 interface, for the setup tables no contract-based entity exposes.

Acumatica documents it (Integration guide, "DAC-Based OData: Data Retrieval", 2022 R2 on)::

    GET {instance}/t/{TenantName}/api/odata/dac/{DAC}

where the DAC is named short (``Numbering``) or fully qualified with underscores
(``PX_Objects_CS_Numbering``). The answer is OData v4 JSON, ``{"@odata.context": …,
"value": [ {plain field: value, …} ]}`` — plain values, not the contract API's value
objects. The Default endpoint has no entity for numbering sequences or the AR/AP
preferences, so this is how a client learns whether a document type is numbered
automatically or manually before it creates one.

Served DACs: ``Numbering`` (``NumberingID``, ``Descr``, ``UserNumbering`` = "Manual
Numbering", ``NewSymbol``), ``ARSetup`` and ``APSetup`` (which sequence each document type
uses). Query options: ``$select`` and ``$top``; any other is refused with 400 rather than
ignored, so a client never believes a filter was applied.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from connector.sandbox.acumatica.tenant import NUMBERING_OF, TenantRules
from connector.sandbox.base import json_response

PREFIX: Final = ("t",)
_DESCRIPTIONS: Final = {
    "ARINVOICE": "AR Invoice",
    "ARPAYMENT": "AR Payment",
    "APBILL": "AP Bill",
    "APPAYMENT": "AP Payment",
    "BATCH": "GL Batch",
    "SOORDER": "Sales Order",
}
_NAMESPACES: Final = {
    "Numbering": "PX_Objects_CS",
    "ARSetup": "PX_Objects_AR",
    "APSetup": "PX_Objects_AP",
}


def is_dac_path(parts: list[str]) -> bool:
    """``t/{tenant}/api/odata/dac/…``: a DAC-based OData URL."""
    return len(parts) >= 5 and parts[0] == "t" and parts[2:5] == ["api", "odata", "dac"]


def odata_error(status: int, code: str, message: str) -> web.Response:
    """OData v4's error body."""
    return json_response({"error": {"code": code, "message": message}}, status)


def dac_rows(dac: str, rules: TenantRules) -> list[dict[str, Any]] | None:
    """The records of one DAC in this company, or None when it is not served."""
    if dac == "Numbering":
        return [
            {
                "NumberingID": sequence,
                "Descr": _DESCRIPTIONS[sequence],
                "UserNumbering": rules.is_manual(sequence),
                "NewSymbol": "<NEW>",
            }
            for sequence in sorted(set(NUMBERING_OF.values()))
        ]
    if dac == "ARSetup":
        return [
            {
                "InvoiceNumberingID": NUMBERING_OF["Invoice"],
                "PaymentNumberingID": NUMBERING_OF["Payment"],
            }
        ]
    if dac == "APSetup":
        return [
            {
                "InvoiceNumberingID": NUMBERING_OF["Bill"],
                "CheckNumberingID": NUMBERING_OF["Check"],
            }
        ]
    return None


def answer(
    request: web.Request, parts: list[str], company: str, rules: TenantRules
) -> web.Response:
    """The reply to ``GET t/{tenant}/api/odata/dac/{DAC}`` from a signed-in caller."""
    tenant = parts[1]
    if tenant.lower() != company.lower():
        return odata_error(404, "", f"Tenant {tenant!r} does not exist on this instance.")
    if request.method != "GET" or len(parts) != 6:
        return odata_error(
            405 if len(parts) == 6 else 404,
            "",
            "The DAC-based OData interface reads whole DACs: GET …/dac/{DAC}.",
        )
    dac = _short_name(parts[5])
    rows = None if dac is None else dac_rows(dac, rules)
    if dac is None or rows is None:
        return odata_error(404, "", f"Resource not found for the segment '{parts[5]}'.")
    for option in request.query:
        if option not in ("$select", "$top"):
            return odata_error(400, "", f"The query option '{option}' is not supported here.")
    if "$select" in request.query:
        fields = [f.strip() for f in request.query["$select"].split(",") if f.strip()]
        unknown = [f for f in fields if f not in rows[0]]
        if unknown:
            return odata_error(
                400,
                "",
                f"Could not find a property named '{unknown[0]}' on "
                f"type '{_NAMESPACES[dac].replace('_', '.')}.{dac}'.",
            )
        rows = [{f: row[f] for f in fields} for row in rows]
    if "$top" in request.query:
        top = request.query["$top"]
        if not top.isdigit():
            return odata_error(400, "", f"Invalid value '{top}' for $top query option found.")
        rows = rows[: int(top)]
    base = str(request.url.with_query(None)).rsplit("/", 1)[0]
    return json_response({"@odata.context": f"{base}/$metadata#{dac}", "value": rows})


def _short_name(name: str) -> str | None:
    if name in _NAMESPACES:
        return name
    for short, namespace in _NAMESPACES.items():
        if name == f"{namespace}_{short}":
            return short
    return None
