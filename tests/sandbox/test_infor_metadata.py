"""Infor simulator: the MI metadata resource, consistent with execute and with the sheet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_infor_sso import InforTenant, open_tenant

#: What systems/infor.md says of M3's published metadata, checked against what is served.
SHEET_LENGTHS = {"SUNO": 10, "ITNO": 15, "SINO": 24, "CORI": 36, "SUNM": 36, "ITDS": 30,
                 "LMTS": 18}
SHEET_MANDATORY = {
    "CRS620MI/AddSupplier": set(
        "SUNO SUNM SUTY CSCD ECAR LNCD DTFM MEPF SUCL QUCL ORTY TEDL MODL TEAF TEPA DT4T "
        "DTCD CUCD CRTP TEPY PYME ATPR ACRF".split()),
    "APS450MI/AddHead": {"SUNO", "IVDT"},
    "APS450MI/AddLine": {"INBN", "RDTP"},
    "APS450MI/LstInvBySupInv": {"SPYN", "SUNO", "SINO"},
    "CRS620MI/LstByNumber": {"SUNO"},
    "MMS200MI/LstItmByChgDate": set(),
    "MRS001MI/LstTransactions": {"MINM"},
}


@pytest.fixture
async def tenant(start_simulator: StartSimulator) -> AsyncIterator[InforTenant]:
    async with aiohttp.ClientSession() as session:
        yield await open_tenant(start_simulator, session)


async def metadata(tenant: InforTenant, path: str = "") -> tuple[int, Any]:
    url = tenant.api.replace("/v2/execute", "/v2/metadata") + path
    status, body, _ = await tenant.get("", url=url)
    return status, body


async def all_transactions(tenant: InforTenant) -> list[dict[str, Any]]:
    _, listing = await metadata(tenant)
    found: list[dict[str, Any]] = []
    for row in listing["programs"]:
        _, program = await metadata(tenant, f"/{row['program']}")
        found.extend(program["transactions"])
    return found


async def test_program_list_names_every_served_program(tenant: InforTenant) -> None:
    """GET …/v2/metadata lists the programs with their descriptions."""
    status, body = await metadata(tenant)
    assert status == 200
    programs = {row["program"]: row["description"] for row in body["programs"]}
    assert {"APS450MI", "CRS620MI", "MMS200MI", "PPS200MI", "MRS001MI"} <= set(programs)
    assert programs["MMS200MI"] == "Item interface"


async def test_transaction_metadata_describes_fields(tenant: InforTenant) -> None:
    """…/metadata/APS450MI/AddHead gives type, length, decimals and mandatory per field."""
    status, body = await metadata(tenant, "/APS450MI/AddHead")
    assert status == 200
    inputs = {f["name"]: f for f in body["inputs"]}
    assert inputs["SUNO"] == {"name": "SUNO", "description": "Supplier", "type": "A",
                              "length": 10, "decimals": 0, "mandatory": True}
    assert inputs["CUAM"]["type"] == "N" and inputs["CUAM"]["decimals"] == 2
    assert inputs["IVDT"]["type"] == "D" and inputs["IVDT"]["mandatory"] is True
    assert [f["name"] for f in body["outputs"]] == ["INBN"]
    assert body["multi"] is False


async def test_unknown_program_or_transaction_is_404(tenant: InforTenant) -> None:
    """A program or transaction M3 does not have answers 404 naming where to look."""
    assert (await metadata(tenant, "/XXX999MI"))[0] == 404
    status, body = await metadata(tenant, "/PPS200MI/LstHead")
    assert status == 404
    assert "PPS200MI" in body["message"]


async def test_metadata_follows_the_version_knobs(tenant: InforTenant) -> None:
    """AddLine lists AIT fields only where the version takes them; AddHead only if offered."""
    _, plain = await metadata(tenant, "/APS450MI/AddLine")
    assert not [f for f in plain["inputs"] if f["name"].startswith("AIT")]
    await tenant.knobs(addline_ait=True, pps200_addhead=False)
    _, with_ait = await metadata(tenant, "/APS450MI/AddLine")
    assert {f"AIT{n}" for n in range(1, 8)} <= {f["name"] for f in with_ait["inputs"]}
    _, program = await metadata(tenant, "/PPS200MI")
    assert "AddHead" not in {t["transaction"] for t in program["transactions"]}


async def test_metadata_agrees_with_mrs001mi(tenant: InforTenant) -> None:
    """MRS001MI/LstFields and the metadata resource describe the same input fields."""
    rows = await tenant.records("MRS001MI/LstFields;righttrim=true", MINM="CRS620MI",
                                TRNM="AddSupplier", TRTP="I")
    _, body = await metadata(tenant, "/CRS620MI/AddSupplier")
    assert [(r["FLNM"], int(r["LENG"]), r["MAND"] == "1") for r in rows] == [
        (f["name"], f["length"], f["mandatory"]) for f in body["inputs"]]


async def test_every_mandatory_field_is_enforced_by_execute(tenant: InforTenant) -> None:
    """For every served transaction, leaving out its first mandatory field is the
    MandatoryInputFieldNotFound error naming that field, as the metadata promises."""
    for trn in await all_transactions(tenant):
        mandatory = [f["name"] for f in trn["inputs"] if f["mandatory"]]
        if not mandatory:
            continue
        sent = {name: "1" for name in mandatory[1:]}
        call = f"{trn['program']}/{trn['transaction']};cono=100;divi=AAA"
        result = await tenant.result(call, **sent)
        assert (result.get("errorType"), result.get("errorField")) == (
            "MandatoryInputFieldNotFound", mandatory[0]), call


async def test_every_alphanumeric_input_length_is_enforced_by_execute(
    tenant: InforTenant,
) -> None:
    """For every served transaction, an A input one character longer than its published
    length is InputFieldTooLong on that field."""
    for trn in await all_transactions(tenant):
        too_long = [f for f in trn["inputs"] if f["type"] == "A" and f["length"] < 1000]
        if not too_long:
            continue
        target = too_long[0]
        sent = {f["name"]: "1" for f in trn["inputs"] if f["mandatory"]}
        sent[target["name"]] = "X" * (target["length"] + 1)
        call = f"{trn['program']}/{trn['transaction']};cono=100;divi=AAA"
        result = await tenant.result(call, **sent)
        assert (result.get("errorType"), result.get("errorField")) == (
            "InputFieldTooLong", target["name"]), call


async def test_served_metadata_matches_the_sheet(tenant: InforTenant) -> None:
    """Field lengths, mandatory inputs and transaction lists are those systems/infor.md
    gives for M3's published metadata."""
    transactions = {f"{t['program']}/{t['transaction']}": t
                    for t in await all_transactions(tenant)}
    lengths = {f["name"]: f["length"] for t in transactions.values()
               for f in (*t["inputs"], *t["outputs"])}
    assert {name: lengths[name] for name in SHEET_LENGTHS} == SHEET_LENGTHS
    for name, mandatory in SHEET_MANDATORY.items():
        assert {f["name"] for f in transactions[name]["inputs"] if f["mandatory"]} == (
            mandatory), name
    po = {name.split("/")[1] for name in transactions if name.startswith("PPS200MI/")}
    assert {"GetHead", "GetLine", "LstLine", "SearchHead", "AddLine"} <= po
    assert "LstHead" not in po
    assert [f["name"] for f in transactions["APS450MI/AddHead"]["outputs"]] == ["INBN"]


async def test_gls200mi_lists_the_lines_a_validated_batch_posted(tenant: InforTenant) -> None:
    """GLS200MI/LstVoucherLines by YEA4+VONO answers the voucher's accounting strings."""
    call = "APS450MI/{};cono=100;divi=AAA;righttrim=true"
    fields = {"SUNO": "SUP00001", "IVDT": "20240612", "SINO": "GL-1", "CUAM": "60.00"}
    inbn = (await tenant.records(call.format("AddHead"), **fields))[0]["INBN"]
    await tenant.records(call.format("AddLine"), INBN=inbn, RDTP="8", NLAM="60.00")
    await tenant.records("APS455MI/ValidByBatchNo;cono=100;divi=AAA", INBN=inbn)
    head = (await tenant.records(call.format("GetHead"), INBN=inbn))[0]
    lines = await tenant.records("GLS200MI/LstVoucherLines;cono=100;divi=AAA;righttrim=true",
                                 YEA4=head["YEA4"], VONO=head["VONO"])
    assert sorted(line["NLAM"] for line in lines) == ["-60.00", "60.00"]
    assert {line["VSER"] for line in lines} == {head["VSER"]}
    missing = await tenant.result("GLS200MI/LstVoucherLines;cono=100;divi=AAA",
                                  YEA4=head["YEA4"], VONO="99999")
    assert (missing["errorType"], missing["errorField"]) == ("ServerReturnedNOK", "VONO")
