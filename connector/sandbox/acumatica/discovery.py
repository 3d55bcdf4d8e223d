"""What a client can learn about the instance before reading records.

- ``GET /entity``: the instance's build and the endpoints it serves (``VersionAndEndpoints``
  in Acumatica's client, available since 2019 R2).
- ``GET /entity/Default/24.200.001/swagger.json``: the endpoint's own OpenAPI definition,
  with ``servers`` pointing at this instance.
- ``GET /entity/Default/{version}/{Entity}/$adHocSchema``: the entity with every contract
  field empty and the custom fields the instance adds (none here).

Also the key syntax: ``/Bill/Bill|000001`` is documented as an alternative to
``/Bill/Bill/000001``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

import msgspec
from aiohttp import web

from connector.sandbox.acumatica.definition import ENDPOINT, VERSION, document
from connector.sandbox.acumatica.responses import no_route
from connector.sandbox.acumatica.schema import COMPANIES_STRUCTURE, ENTITIES

AD_HOC_SCHEMA: Final = "$adHocSchema"
#: Every top-level entity the simulator answers for, in the order the errors name them.
SERVED: Final = (*ENTITIES, COMPANIES_STRUCTURE)
#: The build the instance reports: an illustrative 2024 R2 build (its endpoint is 24.200.001).
BUILD: Final = "24.211.0013"


def endpoint_list(versions: list[str], instance_path: str) -> dict[str, Any]:
    """The body of ``GET /entity``: build numbers and one row per served endpoint version."""
    return {
        "version": {"acumaticaBuildVersion": BUILD, "databaseVersion": BUILD},
        "endpoints": [
            {
                "name": ENDPOINT,
                "version": version,
                "href": f"{instance_path}/entity/{ENDPOINT}/{version}/",
            }
            for version in versions
        ],
    }


def definition_response(version: str, instance_url: str) -> web.Response:
    """The endpoint's definition, or 404 for a version whose definition is not stored."""
    if version != VERSION:
        return no_route(
            f"/entity/{ENDPOINT}/{version}/swagger.json",
            f"The sandbox holds the definition of {ENDPOINT}/{VERSION} only.",
        )
    return web.Response(body=_definition_for(instance_url), content_type="application/json")


@lru_cache(maxsize=4)
def _definition_for(instance_url: str) -> bytes:
    server = {"url": f"{instance_url}/entity/{ENDPOINT}/{VERSION}"}
    return msgspec.json.encode({**document(), "servers": [server]})


def split_keys(segments: list[str]) -> list[str]:
    """Key segments with ``|``-joined keys taken apart (``["Bill|000001"]`` → two keys)."""
    return [key for segment in segments for key in segment.split("|")]
