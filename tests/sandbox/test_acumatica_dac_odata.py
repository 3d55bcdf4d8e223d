"""Acumatica simulator: the DAC-based OData interface that tells how documents are numbered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_acumatica_support import Acu, bill


@pytest.fixture
async def acu(start_simulator: StartSimulator) -> AsyncIterator[Acu]:
    sim = await start_simulator("acumatica")
    async with aiohttp.ClientSession() as http:
        handle = Acu(sim, http)
        await handle.seed()
        yield handle


async def dac(acu: Acu, path: str, *, token: str | None = "") -> tuple[int, Any]:
    """GET ``{instance}/t/{path}`` with a bearer (none when ``token`` is None)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token or await acu.token()}"}
    url = f"{await acu.instance()}/t/{path}"
    async with acu.http.get(url, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_numbering_and_preferences_read_as_odata_v4_plain_records(acu: Acu) -> None:
    """Numbering lists each sequence with its Manual Numbering flag; ARSetup/APSetup name the
    sequence of each document type; records are plain values in an OData ``value`` list."""
    status, body = await dac(acu, "MLSandbox/api/odata/dac/Numbering")
    assert status == 200 and body["@odata.context"].endswith("$metadata#Numbering")
    sequences = {row["NumberingID"]: row["UserNumbering"] for row in body["value"]}
    assert sequences["APBILL"] is False and sequences["ARINVOICE"] is False
    status, body = await dac(acu, "MLSandbox/api/odata/dac/PX_Objects_AP_APSetup")
    assert status == 200 and body["value"][0]["InvoiceNumberingID"] == "APBILL"

    await acu.knobs(manual_sequences=["APBILL"])
    select = "$select=NumberingID,UserNumbering"
    status, body = await dac(acu, f"MLSandbox/api/odata/dac/Numbering?{select}")
    assert {r["NumberingID"]: r["UserNumbering"] for r in body["value"]}["APBILL"] is True
    assert set(body["value"][0]) == {"NumberingID", "UserNumbering"}


async def test_a_manual_sequence_makes_its_documents_need_a_reference_number(acu: Acu) -> None:
    """With APBILL manual, a Bill without ReferenceNbr is a 422 naming the sequence, while
    AR documents (another sequence) are still numbered by Acumatica."""
    await acu.knobs(manual_sequences=["APBILL"])
    status, body = await acu.call("PUT", "/Bill", bill())
    assert status == 422
    assert "numbering sequence APBILL is manual" in body["ReferenceNbr"]["error"]
    status, body = await acu.call("PUT", "/Bill", bill(ReferenceNbr={"value": "B-77"}))
    assert status == 200 and body["ReferenceNbr"]["value"] == "B-77"


async def test_dac_reads_are_signed_in_and_strict_about_names_and_options(acu: Acu) -> None:
    """No bearer → 401; an unknown tenant or DAC → 404; an unsupported query option or an
    unknown $select field → 400 in OData's error shape (never silently ignored)."""
    status, _ = await dac(acu, "MLSandbox/api/odata/dac/Numbering", token=None)
    assert status == 401
    status, body = await dac(acu, "Other/api/odata/dac/Numbering")
    assert status == 404 and "Tenant 'Other'" in body["error"]["message"]
    status, body = await dac(acu, "MLSandbox/api/odata/dac/GLSetupX")
    assert status == 404 and "GLSetupX" in body["error"]["message"]
    status, body = await dac(acu, "MLSandbox/api/odata/dac/Numbering?$filter=NumberingID eq 'X'")
    assert status == 400 and "$filter" in body["error"]["message"]
    status, body = await dac(acu, "MLSandbox/api/odata/dac/Numbering?$select=Manual")
    assert status == 400 and "'Manual'" in body["error"]["message"]
