"""Acumatica simulator: endpoint list, the endpoint's definition, $adHocSchema, key syntax."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_acumatica_support import API, Acu, bill, value

PACKAGED = Path(__file__).parents[2] / "connector/sandbox/acumatica/Default_24.200.001.json.gz"


@pytest.fixture
async def acu(start_simulator: StartSimulator) -> AsyncIterator[Acu]:
    sim = await start_simulator("acumatica")
    async with aiohttp.ClientSession() as http:
        handle = Acu(sim, http)
        await handle.seed()
        yield handle


async def test_entity_index_lists_build_and_served_versions_without_sign_in(acu: Acu) -> None:
    """GET /entity answers the build and one Default row per served version, no token."""
    async with acu.http.get(f"{await acu.instance()}/entity") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["version"]["acumaticaBuildVersion"].startswith("24.")
    rows = [(e["name"], e["version"], e["href"]) for e in body["endpoints"]]
    assert rows == [("Default", "23.200.001", "/entity/Default/23.200.001/"),
                    ("Default", "24.200.001", "/entity/Default/24.200.001/")]


async def test_swagger_json_is_the_vendor_definition_pointing_at_the_instance(acu: Acu) -> None:
    """swagger.json is Acumatica's own document; only servers is rewritten to this instance."""
    status, served = await acu.call("GET", "/swagger.json")
    assert status == 200
    original = json.loads(gzip.decompress(PACKAGED.read_bytes()))
    assert served["servers"] == [{"url": f"{await acu.instance()}{API}"}]
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in original.items() if k != "servers"}
    assert len(served["paths"]) == 877


async def test_swagger_json_of_a_version_without_a_stored_definition_is_404(acu: Acu) -> None:
    """Only 24.200.001's definition is held; 23.200.001 answers 404 saying so."""
    async with acu.http.get(f"{await acu.instance()}/entity/Default/23.200.001/swagger.json",
                            headers={"Authorization": f"Bearer {await acu.token()}"}) as resp:
        assert resp.status == 404


@pytest.mark.parametrize("entity", ["Bill", "StockItem", "JournalTransaction", "Check"])
async def test_ad_hoc_schema_is_an_empty_record_of_the_entity(acu: Acu, entity: str) -> None:
    """$adHocSchema answers the entity with every contract field empty and no custom fields."""
    status, body = await acu.call("GET", f"/{entity}/$adHocSchema")
    assert status == 200
    assert body["custom"] == {}
    scalars = [name for name, field in body.items() if isinstance(field, dict)
               and name not in ("note", "custom")]
    assert scalars and all(body[name] == {} for name in scalars)


async def test_keys_joined_with_a_bar_find_the_same_record(acu: Acu) -> None:
    """/Bill/Bill|000001 is the documented alternative to /Bill/Bill/000001."""
    _, created = await acu.call("PUT", "/Bill", bill())
    number = value(created, "ReferenceNbr")
    status, found = await acu.call("GET", f"/Bill/Bill|{number}")
    assert status == 200
    assert found["id"] == created["id"]
    assert (await acu.call("DELETE", f"/Bill/Bill|{number}"))[0] == 204
    assert (await acu.call("GET", f"/Bill/Bill/{number}"))[0] == 500


@pytest.mark.parametrize("path", ["/Vendor/V99999", "/Bill/Bill|999999",
                                  "/Vendor/00000000-0000-4000-8000-000000000000"])
async def test_missing_record_is_500_no_entity_satisfies_the_condition(
    acu: Acu, path: str
) -> None:
    """A missing record by key or id is 500 with NoEntitySatisfiesTheConditionException."""
    for method in ("GET", "DELETE"):
        status, body = await acu.call(method, path)
        assert status == 500
        assert body["exceptionType"] == (
            "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException")


async def test_unknown_field_in_filter_is_the_documented_500(acu: Acu) -> None:
    """A $filter naming no field answers 500 (reads document no 400) with the reason."""
    status, body = await acu.call("GET", "/Vendor?$filter=Nope%20eq%20'x'")
    assert status == 500
    assert "Nope" in body["exceptionMessage"]
