"""``GET {service}/$metadata`` of the simulated LN services, as CSDL JSON (OData 4.01 CSDL
JSON; LN answers ``$metadata`` in JSON when asked with ``Accept: application/json``, as
deployed discovery scripts rely on **(field)**).

The entity container carries the Capabilities vocabulary's ``BatchSupport`` and
``DeepInsertSupport`` terms as the knobs set them. That vocabulary lets a service annotate
what it supports; whether LN's generated metadata does is unknown, which is why a client
may also be told the write mode outright.
"""

from __future__ import annotations

from typing import Any

from connector.sandbox.infor.ln_schema import ENTITY_SETS, EntitySet

CAPABILITIES = "Org.OData.Capabilities.V1"
LINE_REFS = "LineRefs"


def metadata(service: str, deep_insert: bool, batch: bool) -> dict[str, Any]:
    sets = [s for s in ENTITY_SETS if s.service == service]
    schema: dict[str, Any] = {}
    container: dict[str, Any] = {
        "$Kind": "EntityContainer",
        f"@{CAPABILITIES}.BatchSupport": {
            "Supported": batch,
            "ContinueOnErrorSupported": False,
            "ReferencesInRequestBodiesSupported": False,
            "ReferencesAcrossChangeSetsSupported": False,
            "EtagReferencesSupported": False,
            "SupportedFormats": ["application/json"] if batch else [],
        },
        f"@{CAPABILITIES}.DeepInsertSupport": {
            "Supported": deep_insert,
            "ContentIDSupported": False,
        },
    }
    for entity_set in sets:
        schema[_type(entity_set)] = _entity_type(entity_set, sets)
        container[entity_set.name] = {
            "$Collection": True,
            "$Type": f"{service}.{_type(entity_set)}",
        }
    schema["Container"] = container
    return {"$Version": "4.0", "$EntityContainer": f"{service}.Container", service: schema}


def _type(entity_set: EntitySet) -> str:
    return entity_set.name[:-1] if entity_set.name.endswith("s") else entity_set.name


def _entity_type(entity_set: EntitySet, sets: list[EntitySet]) -> dict[str, Any]:
    body: dict[str, Any] = {"$Kind": "EntityType", "$Key": list(entity_set.keys)}
    for name, prop in entity_set.props.items():
        entry: dict[str, Any] = {"$Type": prop.type.edm, "$Nullable": not prop.required}
        if prop.max_length is not None:
            entry["$MaxLength"] = prop.max_length
        body[name] = entry
    child = next((s for s in sets if s.parent and s.parent[0] == entity_set.name), None)
    if child is not None:
        body[LINE_REFS] = {
            "$Kind": "NavigationProperty",
            "$Collection": True,
            "$Type": f"{child.service}.{_type(child)}",
        }
    return body
