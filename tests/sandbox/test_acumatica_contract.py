"""Acumatica simulator against Acumatica's own endpoint definition, not against our client.

For every operation the simulator serves, requests generated from the definition (see
``test_acumatica_contract_cases.py``) are sent over loopback HTTP; each must be valid
against the definition, and each answer must carry a status the operation documents and a
body valid against the documented schema (openapi-core does the validating). A few cases
per operation in the normal run; ``ML_CONNECTOR_SOAK=1`` runs many more.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from connector.sandbox.acumatica.definition import document
from connector.sandbox.acumatica.knobs import COMPANY
from tests.conftest import StartSimulator
from tests.sandbox.test_acumatica_contract_cases import (
    DETAIL_LINES,
    INQUIRY,
    KEYS,
    VALID_BODIES,
    Case,
    Generator,
    Known,
    served_operations,
)
from tests.sandbox.test_acumatica_support import API, Acu

CASES_PER_OPERATION = 100 if os.environ.get("ML_CONNECTOR_SOAK") == "1" else 8
#: Where the validator believes the endpoint lives; the sent path is matched under it.
_SERVER = "http://sandbox"


@pytest.fixture(scope="module")
def contract() -> OpenAPI:
    """The vendor's definition, loaded once (its own schema check is skipped: 877 paths)."""
    spec = {**document(), "servers": [{"url": f"{_SERVER}{API}"}]}
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


@pytest.fixture
async def acu(start_simulator: StartSimulator) -> AsyncIterator[Acu]:
    sim = await start_simulator("acumatica")
    async with aiohttp.ClientSession() as http:
        handle = Acu(sim, http)
        await handle.seed()
        yield handle


@dataclass
class _Request:
    """A sent request as openapi-core reads it (the Request protocol)."""

    case: Case

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(query=ImmutableMultiDict(self.case.query),
                                            header=Headers(self.case.headers))

    @property
    def host_url(self) -> str:
        return _SERVER

    @property
    def path(self) -> str:
        return f"{API}{self.case.documented_path}"

    @property
    def full_url_pattern(self) -> str:
        return f"{_SERVER}{self.path}"

    @property
    def method(self) -> str:
        return self.case.method.lower()

    @property
    def body(self) -> bytes | None:
        # PutFile documents no request body schema: its bytes are not JSON to validate.
        return None if self.case.body is None else msgspec.json.encode(self.case.body)

    @property
    def content_type(self) -> str:
        return "application/json"


@dataclass
class _Response:
    """An answer as openapi-core reads it (the Response protocol)."""

    status_code: int
    content_type: str
    headers: Headers
    data: bytes


async def _send(acu: Acu, case: Case, token: str) -> _Response:
    url = f"{await acu.instance()}{API}{case.path}"
    headers = {"Authorization": f"Bearer {token}"} | case.headers
    body = case.raw if case.raw is not None else (
        None if case.body is None else msgspec.json.encode(case.body))
    if case.raw is not None:
        headers["Content-Type"] = "application/octet-stream"
    elif body is not None:
        headers["Content-Type"] = "application/json"
    async with acu.http.request(case.method, url, params=case.query, headers=headers,
                                data=body) as resp:
        data = await resp.read()
        content_type = resp.headers.get("Content-Type", "")
        return _Response(resp.status, content_type.lower(), Headers(list(resp.headers.items())),
                         data)


async def _known(acu: Acu, token: str) -> Known:
    """Keys and ids of the seeded records, plus one fresh document of each kind."""
    for entity in (*DETAIL_LINES, "Payment", "Check"):
        body: dict[str, Any] = {name: {"value": v} for name, v in VALID_BODIES[entity].items()}
        lines = DETAIL_LINES.get(entity, [])
        body["Details" if lines else "Description"] = (
            [{name: {"value": v} for name, v in line.items()} for line in lines]
            or {"value": "Contract test"})
        await _send(acu, Case("setup", "PUT", f"/{entity}", f"/{entity}", body=body), token)
    entities: dict[str, list[dict[str, Any]]] = (await acu.state())["entities"]
    known = Known()
    for entity, records in entities.items():
        known.keys[entity] = [tuple(str(r.get(k, "")) for k in KEYS[entity]) for r in records]
        known.ids[entity] = [str(r["id"]) for r in records]
    # The inquiry's one record is the form itself, read by the id its PUT answers.
    known.ids[INQUIRY] = [str(uuid.uuid5(uuid.NAMESPACE_OID, COMPANY))]
    return known


def _documented_statuses(operation: str) -> set[int]:
    for item in document()["paths"].values():
        for spec in item.values():
            if spec["operationId"] == operation:
                return {int(code) for code in spec["responses"]}
    raise AssertionError(f"{operation} is not in the definition")


@pytest.mark.parametrize("operation", served_operations())
async def test_generated_requests_get_documented_answers(
    contract: OpenAPI, acu: Acu, operation: str
) -> None:
    """Each generated request of this operation answers a documented status and body."""
    token = await acu.token()
    generator = Generator(random.Random(operation), await _known(acu, token))
    documented = _documented_statuses(operation)
    for _ in range(CASES_PER_OPERATION):
        case = generator.case(operation)
        request = _Request(case)
        contract.validate_request(request)
        response = await _send(acu, case, token)
        where = f"{case.method} {case.path} {case.query} {case.body!r:.300}"
        assert response.status_code in documented, (
            f"{where} → {response.status_code} {response.data[:300]!r}")
        contract.validate_response(request, response)


def test_every_documented_operation_of_the_served_entities_is_tested() -> None:
    """All 151 operations the definition documents for the 13 entities and the inquiry
    are served and generated: records, actions, custom actions and files."""
    operations = served_operations()
    assert len(operations) == len(set(operations)) == 151
    assert {op.partition("_")[0] for op in operations} == {*KEYS, INQUIRY}
