"""The ServiceTitan simulator against the vendor's own OpenAPI documents, not our client.

For every documented GET of the six simulated modules, requests are generated from the
operation's parameter list (each parameter with edge values of its documented type, and
values of the wrong type), and every reply must carry a status the operation documents
and a body that validates against the documented schema (openapi-core). The normal run
tries each parameter once; ``ML_CONNECTOR_SOAK=1`` adds a ``soak`` variant that tries every
edge value and random combinations of parameters.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pytest
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from connector.sandbox.servicetitan import spec
from connector.sandbox.servicetitan.spec import Operation, Param
from tests.conftest import StartSimulator
from tests.sandbox.test_servicetitan import ST, connect

SOAK = os.environ.get("ML_CONNECTOR_SOAK") == "1"
OPERATIONS = sorted(spec.operations().values(), key=lambda op: (op.module, op.path))
HOST = "https://api.servicetitan.io"

#: Valid edge values per documented type; the first of each is what the normal run sends.
EDGES: dict[str, tuple[str, ...]] = {
    "integer": ("1", "0", "2147483647", "-1"),
    "number": ("0.5", "0", "-1", "99999999.99"),
    "boolean": ("true", "false", "TRUE"),
    "date-time": ("2020-01-01T00:00:00Z", "2099-12-31", "2024-02-29T23:59:59.9999999Z"),
    "guid": ("3f2504e0-4f89-11d3-9a0c-0305e82c3301",),
    "string": ("a", "", "Summit Comfort", "ü%&=+"),
    "ids": ("1,2", "", "9223372036854775807"),
}
#: Values of the wrong type: a 400 with ServiceTitan's problem body.
WRONG: dict[str, str] = {
    "integer": "x1",
    "number": "twelve",
    "boolean": "maybe",
    "date-time": "31/12/2024",
    "guid": "not-a-guid",
    "ids": "1,two",
}


@cache
def openapi(module: str) -> OpenAPI:
    # The vendor's own schema check of its document is skipped, as for Acumatica's: it took
    # ten seconds of CPU per module and checks the vendor's file, not our simulator.
    return OpenAPI.from_dict(spec.document(module), config=Config(spec_validator_cls=None))


def _family(param: Param) -> str:
    if (
        param.kind == "string"
        and not param.many
        and (param.name == "ids" or param.name.endswith("Ids"))
    ):
        return "ids"
    if param.fmt in ("date-time", "date"):
        return "date-time"
    if param.fmt in ("guid", "uuid"):
        return "guid"
    return param.kind if param.kind in EDGES else "string"


def edge_values(param: Param) -> tuple[str, ...]:
    if param.enum is not None:
        return tuple(param.enum) + (param.enum[0].lower(),)
    if param.name == "pageSize":
        return ("1", "5000", "50")
    if param.name == "page":
        return ("1", "2", "999")
    if param.name == "sort":
        return ("-Id", "+Id", "-ModifiedOn")
    if param.name == "from":
        return ("2020-01-01", "")
    if param.kind == "object":
        return ("x",)
    return EDGES[_family(param)]


def wrong_value(param: Param) -> str | None:
    if param.enum is not None:
        return "NoSuchValue"
    if param.name in ("from", "sort"):
        return None
    return WRONG.get(_family(param))


@dataclass(frozen=True)
class Case:
    query: dict[str, str]
    expect_400: bool = False


def cases(op: Operation, soak: bool) -> Iterator[Case]:
    """Requests for one operation: none, each parameter alone, and each of the wrong type."""
    yield Case({})
    rng = random.Random(f"{op.module}/{op.path}")
    for param in op.params.values():
        values = edge_values(param)
        for value in values if soak else values[:1]:
            yield Case({param.name: value})
        wrong = wrong_value(param)
        if wrong is not None:
            yield Case({param.name: wrong}, expect_400=True)
    if soak:
        names = list(op.params)
        for _ in range(40 if names else 0):
            chosen = rng.sample(names, k=min(len(names), rng.randint(2, 5)))
            yield Case({n: rng.choice(edge_values(op.params[n])) for n in chosen})


async def _path_for(st: ST, op: Operation) -> str:
    """The operation's path with real ids: each placeholder takes the first id listed by
    the collection before it (a job's notes use a seeded job), else 1."""
    parts = op.path.split("/")
    for index, part in enumerate(parts):
        if not part.startswith("{"):
            continue
        value = "1"
        collection = "/".join(parts[:index])
        status, body = await st.call("GET", op.module, collection, pageSize=5)
        rows = body.get("data") if status == 200 and isinstance(body, dict) else body
        if status == 200 and isinstance(rows, list) and rows and isinstance(rows[0], dict):
            value = str(rows[0].get("id", 1))
        parts[index] = value
    return "/".join(parts)


async def _check(st: ST, op: Operation, path: str, query: dict[str, str]) -> int:
    url = st.url(op.module, path)
    async with st.session.get(
        url, params=query, headers=st.headers(), allow_redirects=False
    ) as reply:
        body = await reply.read()
        status, content_type = reply.status, reply.content_type
    documented = spec.document(op.module)["paths"][f"/tenant/{{tenant}}/{op.path}"]["get"]
    where = f"GET {op.module}/{path}?{query}"
    assert str(status) in documented["responses"], f"{where}: undocumented status {status}"
    if body:
        assert content_type == "application/json", f"{where}: {content_type}"
    request = MockRequest(HOST, "get", f"/{op.module}/v2/tenant/{st.tenant}/{path}", args=query)
    response = MockResponse(body, status_code=status, content_type=content_type)
    try:
        openapi(op.module).validate_response(request, response)
    except Exception as error:  # the validator's errors carry the schema paths as a cause
        cause = getattr(error, "__cause__", None)
        details = [
            f"{list(e.absolute_path)}: {e.message}" for e in getattr(cause, "schema_errors", ())
        ]
        raise AssertionError(f"{where}: {error}; {details[:5]}") from None
    return status


async def _run(st: ST, op: Operation, soak: bool) -> int:
    await st.seed(1)
    await st.knobs(rate_limit_per_s=0)
    path = await _path_for(st, op)
    checked = 0
    for case in cases(op, soak):
        status = await _check(st, op, path, case.query)
        if case.expect_400:
            assert status == 400, f"{op.path}?{case.query} accepted a value of the wrong type"
        checked += 1
    last = op.path.rsplit("/", 1)[-1].strip("{}")
    if op.shape == "object" and last in op.integer_path_params:
        documented = spec.document(op.module)["paths"][f"/tenant/{{tenant}}/{op.path}"]["get"]
        if "404" in documented["responses"]:
            missing = path.rsplit("/", 1)[0] + "/987654321"
            assert await _check(st, op, missing, {}) == 404
            checked += 1
    return checked


def _id(op: Operation) -> str:
    return f"{op.module}:{op.path}"


@pytest.mark.parametrize("op", OPERATIONS, ids=_id)
async def test_operation_answers_as_documented(
    start_simulator: StartSimulator, op: Operation
) -> None:
    """Each documented GET answers documented statuses with bodies valid for the spec."""
    async with connect(start_simulator) as st:
        assert await _run(st, op, soak=False) >= 1


@pytest.mark.soak
@pytest.mark.skipif(not SOAK, reason="soak variant: run with ML_CONNECTOR_SOAK=1")
@pytest.mark.parametrize("op", OPERATIONS, ids=_id)
async def test_operation_answers_as_documented_under_many_inputs(
    start_simulator: StartSimulator, op: Operation
) -> None:
    """Every edge value and random parameter combinations still answer as documented."""
    async with connect(start_simulator) as st:
        assert await _run(st, op, soak=True) >= 1
