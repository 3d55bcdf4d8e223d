"""Infor simulator, GLS200MI/LstVoucherLines over raw loopback HTTP: a posted invoice's GL
lines with the transaction code that tells its cost lines from the liability and VAT."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_infor_sso import InforTenant, open_tenant
from tests.sandbox.test_infor_transactions import add_invoice

GL = "GLS200MI/LstVoucherLines;cono=100;divi=AAA;righttrim=true"


@pytest.fixture
async def tenant(start_simulator: StartSimulator) -> AsyncIterator[InforTenant]:
    async with aiohttp.ClientSession() as session:
        yield await open_tenant(start_simulator, session)


async def test_voucher_lines_code_cost_vat_and_liability(tenant: InforTenant) -> None:
    """A voucher lists liability (TRCD 40), cost lines (41) coded by the rule, and VAT (50)."""
    inbn = await add_invoice(tenant, "GL-1", "130.00", ("100.00", "20.00"))
    await tenant.records("APS450MI/AddLine;cono=100;divi=AAA", INBN=inbn, RDTP="8",
                         NLAM="5.00", VTA1="5.00")
    await tenant.records("APS455MI/ValidByBatchNo;cono=100;divi=AAA", INBN=inbn)
    head = (await tenant.records("APS450MI/GetHead;cono=100;divi=AAA;righttrim=true",
                                 INBN=inbn))[0]
    lines = await tenant.records(GL, DIVI="AAA", YEA4=head["YEA4"], VONO=head["VONO"])
    assert [(ln["TRCD"], ln["NLAM"]) for ln in lines] == [
        ("40", "-130.00"), ("41", "100.00"), ("41", "20.00"), ("41", "5.00"), ("50", "5.00")]
    cost = [ln for ln in lines if ln["TRCD"] == "41"]
    assert {(ln["AIT1"], ln["AIT2"]) for ln in cost} == {(cost[0]["AIT1"], cost[0]["AIT2"])}
    assert cost[0]["AIT1"] and [ln["JSNO"] for ln in lines] == ["1", "2", "3", "4", "5"]


async def test_unknown_voucher_and_missing_inputs_are_mi_errors(tenant: InforTenant) -> None:
    """An unknown voucher is refused on VONO; DIVI, YEA4 and VONO are mandatory."""
    result = await tenant.result(GL, DIVI="AAA", YEA4="2024", VONO="999999")
    assert result["errorField"] == "VONO" and result["records"] == []
    result = await tenant.result(GL, DIVI="AAA", YEA4="2024")
    assert result["errorType"] == "MandatoryInputFieldNotFound" and result["errorField"] == "VONO"
