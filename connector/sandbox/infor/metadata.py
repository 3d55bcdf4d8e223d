"""The M3 MI REST metadata a client reads to discover programs, transactions and fields.

Routes, under the gateway's ``/{ti}/M3/m3api-rest/v2/metadata``::

    GET …/metadata                     the programs: [{"program", "description"}]
    GET …/metadata/{PGM}               one program and all its transactions
    GET …/metadata/{PGM}/{TRN}         one transaction

Every answer is built from the simulator's own tables (:mod:`.mi` transactions, the
:mod:`.fields` catalog), so the metadata always describes exactly what ``execute`` accepts
and returns, knobs included (a transaction a knob removes is absent here too). Field
entries carry what M3's repository publishes: name, description, type (``A``/``N``/``D``),
length, decimals and, for inputs, whether the field is mandatory. The paths follow the
``m3api-rest`` metadata resource; the JSON spelling is the simulator's (sheet §9: the v2
metadata body was not captured), so a client should read it by key and ignore the rest.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.infor.fields import FIELDS
from connector.sandbox.infor.knobs import InforKnobs
from connector.sandbox.infor.mi import Registry, Transaction

METADATA_PREFIX: Final = ("M3", "m3api-rest", "v2", "metadata")

#: What M3 calls each program the simulator serves.
PROGRAM_DESCRIPTIONS: Final[dict[str, str]] = {
    "APS450MI": "Supplier invoice batch interface",
    "APS455MI": "Supplier invoice batch validation",
    "CRS620MI": "Supplier interface",
    "CRS630MI": "Accounting identity interface",
    "EXPORTMI": "Export data",
    "GLS200MI": "General ledger voucher interface",
    "MMS200MI": "Item interface",
    "MNS095MI": "Company interface",
    "MNS100MI": "Division interface",
    "MNS150MI": "User interface",
    "MRS001MI": "MI repository interface",
    "PPS200MI": "Purchase order interface",
}

#: Transactions that answer many rows (M3's "multi" transactions), by name prefix.
_MULTI_PREFIXES: Final = ("Lst", "Search", "Select")


def is_metadata(segments: list[str]) -> bool:
    """Whether the gateway path after the tenant addresses the metadata resource."""
    return tuple(segments[: len(METADATA_PREFIX)]) == METADATA_PREFIX


def metadata_response(registry: Registry, knobs: InforKnobs, segments: list[str]) -> web.Response:
    """The answer to ``GET`` on a metadata path (``segments`` start with the prefix)."""
    rest = segments[len(METADATA_PREFIX) :]
    if not rest:
        programs = [p for p in registry.programs() if registry.of_program(p, knobs)]
        return json_response({"programs": [_program_row(p) for p in programs]})
    program = rest[0]
    transactions = registry.of_program(program, knobs)
    if not transactions:
        return _not_found(f"Program {program} does not exist; GET …/v2/metadata lists them")
    if len(rest) == 1:
        body = _program_row(program) | {"transactions": [_transaction(t) for t in transactions]}
        return json_response(body)
    trn = registry.find(program, rest[1], knobs) if len(rest) == 2 else None
    if trn is None:
        return _not_found(
            f"Transaction {'/'.join(rest[1:])} does not exist in program "
            f"{program}; GET …/v2/metadata/{program} lists them"
        )
    return json_response(_transaction(trn))


def _program_row(program: str) -> dict[str, Any]:
    return {"program": program, "description": PROGRAM_DESCRIPTIONS.get(program, program)}


def _transaction(trn: Transaction) -> dict[str, Any]:
    return {
        "program": trn.program,
        "transaction": trn.name,
        "description": trn.description,
        "multi": trn.name.startswith(_MULTI_PREFIXES),
        "inputs": [_field(name, trn.mandatory) for name in trn.inputs],
        "outputs": [_field(name, None) for name in trn.outputs],
    }


def _field(name: str, mandatory: tuple[str, ...] | None) -> dict[str, Any]:
    spec = FIELDS[name]
    entry: dict[str, Any] = {
        "name": name,
        "description": spec.description,
        "type": spec.kind,
        "length": spec.length,
        "decimals": spec.decimals,
    }
    if mandatory is not None:
        entry["mandatory"] = name in mandatory
    return entry


def _not_found(message: str) -> web.Response:
    return json_response({"error": "Not Found", "message": message}, 404)
