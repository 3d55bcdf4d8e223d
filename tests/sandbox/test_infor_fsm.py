"""The simulated FSM Landmark REST lists and actions, over raw loopback HTTP through the ION
API gateway: _fields, _limit, _lplFilter, key-based paging with _links, batch actions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_infor_sso import InforTenant


class FsmTenant:
    def __init__(self, tenant: InforTenant) -> None:
        self.tenant = tenant
        self.base = f"{tenant.ionapi['iu']}/{tenant.ionapi['ti']}/FSM/fsm/soap/classes"

    async def call(
        self, method: str, url: str, *, params: dict[str, str] | None = None, body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tenant.access_token}"}
        async with self.tenant.session.request(
            method, url, params=params, json=body, headers=headers
        ) as resp:
            return resp.status, await resp.json()

    async def list(self, cls: str, **params: str) -> tuple[int, Any]:
        query = {"_out": "JSON", "_pageNav": "true", **params}
        return await self.call("GET", f"{self.base}/{cls}/lists/_generic", params=query)

    async def action(self, cls: str, action: str, *records: dict[str, Any]) -> list[Any]:
        body = {"_records": [{"_fields": r, "message": "connector"} for r in records]}
        status, answer = await self.call(
            "POST", f"{self.base}/{cls}/actions/{action}/batch", body=body
        )
        assert status == 200, answer
        return list(answer)


@pytest.fixture
async def fsm(start_simulator: StartSimulator) -> AsyncIterator[FsmTenant]:
    """A simulator whose FSM company 100 holds 12 vendors and 5 items, lists capped at 50."""
    sim = await start_simulator("infor")
    async with aiohttp.ClientSession() as session:
        tenant = await InforTenant.open(session, sim.base_url)
        await tenant.admin(
            "POST", "seed", {"line": "FSM", "seed": 2, "vendors": 12, "items": 5, "max_limit": 50}
        )
        await tenant.login()
        yield FsmTenant(tenant)


async def test_list_pages_by_key_with_next_links(fsm: FsmTenant) -> None:
    """_limit=5 over 12 vendors: pages of 5, 5, 2 joined by _links next; metadata first."""
    status, page = await fsm.list("Vendor", _fields="Vendor,VendorName", _limit="5")
    assert status == 200 and page[0]["_count"] == 12
    vendors = [r["_fields"]["Vendor"] for r in page[1:]]
    pages = 1
    while page[0]["_links"]:
        (link,) = page[0]["_links"]
        assert link["rel"] == "next"
        status, page = await fsm.call("GET", link["href"])
        vendors += [r["_fields"]["Vendor"] for r in page[1:]]
        pages += 1
    assert pages == 3 and vendors == [f"V{n:06d}" for n in range(1, 13)]
    assert set(page[1]["_fields"]) == {"Vendor", "VendorName"}


async def test_limit_is_capped_and_fields_all_gives_every_field(fsm: FsmTenant) -> None:
    """_limit above max_limit serves max_limit rows; _fields=_all includes update.stamp."""
    await fsm.tenant.admin("POST", "seed", {"line": "FSM", "vendors": 60, "max_limit": 50})
    status, page = await fsm.list("Vendor", _fields="_all", _limit="500")
    assert status == 200 and len(page) == 51
    assert "update.stamp" in page[1]["_fields"]


@pytest.mark.parametrize(
    "params",
    [
        {"_fields": "Nope"},
        {},
        {"_fields": "Vendor", "_limit": "0"},
        {"_fields": "Vendor", "_offset": "5"},
        {"_fields": "Vendor", "_lplFilter": 'Nope = "x"'},
        {"_fields": "Vendor", "_lplFilter": 'Vendor = "x" and'},
        {"_fields": "Vendor", "_out": "XML"},
    ],
)
async def test_bad_list_requests_are_400_with_an_exception(
    fsm: FsmTenant, params: dict[str, str]
) -> None:
    """Unknown fields/parameters, missing _fields, bad _limit or filter, non-JSON: 400."""
    status, body = await fsm.list("Vendor", **params)
    assert status == 400 and body["exception"]["message"]


async def test_unknown_class_list_or_action_is_404(fsm: FsmTenant) -> None:
    """Unknown business class, list or action: 404 with an exception body."""
    for url in (f"{fsm.base}/Nope/lists/_generic", f"{fsm.base}/Vendor/lists/Mine"):
        status, body = await fsm.call("GET", url, params={"_fields": "_all", "_out": "JSON"})
        assert status == 404 and body["exception"]["type"]
    status, _ = await fsm.call(
        "POST", f"{fsm.base}/Vendor/actions/Explode/batch", body={"_records": []}
    )
    assert status == 404


async def test_lpl_filter_with_and_or_and_parentheses(fsm: FsmTenant) -> None:
    """_lplFilter selects exactly the rows its condition describes."""
    flt = 'VendorGroup = "100" and (Vendor = "V000002" or Vendor >= "V000011")'
    status, page = await fsm.list("Vendor", _fields="Vendor", _lplFilter=flt, _limit="50")
    assert [r["_fields"]["Vendor"] for r in page[1:]] == ["V000002", "V000011", "V000012"]


async def test_create_then_create_again_is_a_record_exception(fsm: FsmTenant) -> None:
    """Create answers 'created' and a batchStatus; the same key again is an exception."""
    vendor = {"VendorGroup": "100", "Vendor": "ST1", "VendorName": "Fresh Air"}
    answer = await fsm.action("Vendor", "Create", vendor)
    assert answer[0]["message"] == "Vendor created"
    assert answer[0]["_fields"] == {"VendorGroup": "100", "Vendor": "ST1"}
    assert answer[-1]["batchStatus"] == "Completed"
    answer = await fsm.action("Vendor", "Create", vendor)
    assert "already exists" in answer[0]["exception"]["message"]
    assert answer[-1]["batchStatus"] == "CompletedWithErrors"


async def test_update_changes_fields_and_refuses_missing_records(fsm: FsmTenant) -> None:
    """Update merges fields into an existing record; a missing key is an exception."""
    answer = await fsm.action(
        "Vendor", "Update", {"VendorGroup": "100", "Vendor": "V000001", "VendorName": "Renamed"}
    )
    assert answer[0]["message"] == "Vendor updated"
    _, page = await fsm.list("Vendor", _fields="VendorName", _lplFilter='Vendor = "V000001"')
    assert page[1]["_fields"]["VendorName"] == "Renamed"
    answer = await fsm.action("Vendor", "Update", {"VendorGroup": "100", "Vendor": "NOPE"})
    assert "does not exist" in answer[0]["exception"]["message"]


async def test_field_validation_in_actions(fsm: FsmTenant) -> None:
    """Unknown, over-long, mistyped fields, bad dates and dangling references fail per record."""
    base = {
        "Company": "100",
        "Vendor": "V000001",
        "Invoice": "I-1",
        "InvoiceDate": "20240612",
        "InvoiceAmount": "10.00",
        "CurrencyCode": "USD",
    }
    bad = [
        {**base, "Nope": "1"},
        {**base, "Invoice": "X" * 23},
        {**base, "InvoiceAmount": "10,00"},
        {**base, "InvoiceDate": "2024-06-12"},
        {**base, "InvoiceDate": "20241340"},
        {**base, "Vendor": "NOBODY"},
    ]
    answer = await fsm.action("PayablesInvoice", "Create", *bad, base)
    assert ["exception" in a for a in answer[:-1]] == [True] * 6 + [False]
    assert answer[-1]["failedCount"] == 6


async def test_distribution_needs_its_invoice_and_state_shows_records(fsm: FsmTenant) -> None:
    """A distribution for a missing invoice fails; state lists what was created."""
    line = {
        "Company": "100",
        "Vendor": "V000001",
        "Invoice": "I-9",
        "DistributionSequence": "1",
        "DistributionAmount": "5",
        "DistributionAccount": "6000",
    }
    answer = await fsm.action("PayablesInvoiceDistribution", "Create", line)
    assert "PayablesInvoice 100/V000001/I-9 does not exist" in answer[0]["exception"]["message"]
    state = await fsm.tenant.state()
    assert state["lines"]["FSM"]["classes"]["PayablesInvoiceDistribution"] == []
    assert len(state["lines"]["FSM"]["classes"]["Vendor"]) == 12


async def test_gateway_fault_knobs_reach_fsm_and_writes_are_told_apart(fsm: FsmTenant) -> None:
    """A scripted write fault skips list GETs and hits the next action POST."""
    await fsm.tenant.knobs(script=[{"fault": "5xx", "match": "write"}])
    status, _ = await fsm.list("Vendor", _fields="Vendor")
    assert status == 200
    status, _ = await fsm.call(
        "POST", f"{fsm.base}/Item/actions/Create/batch", body={"_records": []}
    )
    assert status == 503
