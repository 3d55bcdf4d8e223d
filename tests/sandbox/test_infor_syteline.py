"""Infor simulator, SyteLine line: Mongoose IDO load/update over raw loopback HTTP.

Requests are built as Infor documents them (``/CSI/IDORequestService/ido/load/{IDO}``,
``X-Infor-MongooseConfig``, ``Changes`` bodies), with no client code of ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_infor_sso import InforTenant, open_tenant

CONFIG = "ACME_DALS"


class SyteLine:
    """Raw IDO calls on a logged-in tenant."""

    def __init__(self, tenant: InforTenant) -> None:
        self.tenant = tenant
        ionapi = tenant.ionapi
        self.base = f"{ionapi['iu']}/{ionapi['ti']}/CSI/IDORequestService/ido"

    def headers(self, config: str | None = CONFIG) -> dict[str, str]:
        sent = {"Authorization": f"Bearer {self.tenant.access_token}"}
        if config is not None:
            sent["X-Infor-MongooseConfig"] = config
        return sent

    async def load_raw(
        self, ido: str, config: str | None = CONFIG, **params: str
    ) -> tuple[int, Any]:
        async with self.tenant.session.get(
            f"{self.base}/load/{ido}", params=params, headers=self.headers(config)
        ) as resp:
            return resp.status, await resp.json()

    async def load(self, ido: str, **params: str) -> dict[str, Any]:
        """A load that must succeed."""
        status, body = await self.load_raw(ido, **params)
        assert status == 200 and body["Success"] is True, body
        return dict(body)

    async def refused(self, ido: str, **params: str) -> str:
        """The Message of a load refused in the IDO envelope (HTTP 200, Success false)."""
        status, body = await self.load_raw(ido, **params)
        assert (status, body["Success"], body["Items"]) == (200, False, None), body
        return str(body["Message"])

    async def update_raw(self, ido: str, changes: list[dict[str, Any]], query: str = "") -> Any:
        async with self.tenant.session.post(
            f"{self.base}/update/{ido}{query}", json={"Changes": changes}, headers=self.headers()
        ) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def insert(self, ido: str, refresh: bool = True, **values: str) -> dict[str, Any]:
        """Insert one row that must be accepted; the saved properties (with refresh)."""
        body = await self.update_raw(
            ido, [insert(ido, **values)], "?refresh=true" if refresh else ""
        )
        assert body["Success"] is True, body
        if not refresh:
            return {}
        change = body["Changes"][0]
        return {p["Name"]: p["Value"] for p in change["Properties"]} | {"ItemId": change["ItemId"]}

    async def rows(self, ido: str, filter: str, properties: str = "*") -> list[dict[str, Any]]:
        body = await self.load(ido, filter=filter, properties=properties, recordCap="0")
        return list(body["Items"])


def props(**values: str | None) -> list[dict[str, Any]]:
    return [
        {"Name": name, "Value": value, "Modified": True, "IsNull": value is None}
        for name, value in values.items()
    ]


def insert(ido: str, **values: str | None) -> dict[str, Any]:
    return {"Action": 1, "ItemId": "", "Properties": props(**values), "UpdateLocking": 1}


def update(item_id: str, **values: str | None) -> dict[str, Any]:
    return {"Action": 2, "ItemId": item_id, "Properties": props(**values), "UpdateLocking": 1}


VOUCHER = {
    "VendNum": "STCLEAR",
    "Type": "V",
    "InvNum": "ST-1",
    "InvDate": "20240612",
    "InvAmt": "100.00",
}


@pytest.fixture
async def sl(start_simulator: StartSimulator) -> AsyncIterator[SyteLine]:
    """A logged-in tenant whose SyteLine site is seeded with ``{"seed": 5}``."""
    async with aiohttp.ClientSession() as session:
        tenant = await open_tenant(start_simulator, session)
        await tenant.admin("POST", "seed", {"line": "CSI", "seed": 5})
        yield SyteLine(tenant)


async def test_config_header_is_required_and_must_exist(sl: SyteLine) -> None:
    """No X-Infor-MongooseConfig, or an unknown one, is HTTP 400 in the IDO envelope."""
    for config in (None, "NOPE_SITE"):
        status, body = await sl.load_raw("SLVendors", config=config)
        assert status == 400
        assert body["Success"] is False and body["Items"] is None
        assert "X-Infor-MongooseConfig" in body["Message"] or "NOPE_SITE" in body["Message"]


async def test_gateway_still_checks_the_bearer(sl: SyteLine) -> None:
    """The ION gateway refuses a missing bearer before SyteLine sees the request."""
    async with sl.tenant.session.get(
        f"{sl.base}/load/SLVendors", headers={"X-Infor-MongooseConfig": CONFIG}
    ) as resp:
        assert (resp.status, await resp.json()) == (401, {"error": "Unauthorized"})


async def test_unknown_ido_and_wrong_method(sl: SyteLine) -> None:
    """An unknown IDO is Success false naming it; load by POST is 405."""
    assert "SLNothing" in await sl.refused("SLNothing")
    async with sl.tenant.session.post(f"{sl.base}/load/SLVendors", headers=sl.headers()) as resp:
        assert resp.status == 405


async def test_load_returns_strings_and_an_item_id_per_row(sl: SyteLine) -> None:
    """Values are strings (8-place decimals, yyyyMMdd HH:mm:ss.fff dates); every row has
    _ItemId; only the asked properties come back."""
    body = await sl.load("SLItems", properties="Item,UnitCost,RecordDate", recordCap="2")
    assert len(body["Items"]) == 2 and body["MoreRowsExist"] is True
    for item in body["Items"]:
        assert set(item) == {"Item", "UnitCost", "RecordDate", "_ItemId"}
        assert item["UnitCost"].split(".")[1].__len__() == 8
        assert len(item["RecordDate"]) == len("20240301 08:00:00.000")
        assert item["_ItemId"].startswith("PBT=[item] item.DT=[")


async def test_unknown_property_is_refused(sl: SyteLine) -> None:
    """A property the IDO lacks, in properties or orderBy, is refused by name."""
    assert "Colour" in await sl.refused("SLItems", properties="Item,Colour")
    assert "Colour" in await sl.refused("SLItems", orderBy="Colour DESC")


async def test_filter_subset_with_sql_server_collation(sl: SyteLine) -> None:
    """=, <>, LIKE, AND/OR and parentheses work; strings compare case-insensitively and
    ignore trailing blanks, but leading blanks (right-justified keys) matter."""
    await sl.insert("SLVendors", VendNum="  ST42", Name="Acme Sheet Metal", CurrCode="USD")
    for literal in ("'  st42   '", "N'  ST42'"):
        found = await sl.rows("SLVendors", f"VendNum = {literal}", "VendNum")
        assert [row["VendNum"] for row in found] == ["  ST42"]
    assert await sl.rows("SLVendors", "VendNum = 'ST42'", "VendNum") == []
    both = await sl.rows(
        "SLVendors", "(VendNum = '  ST42' OR VendNum = 'STCLEAR') AND Name <> 'x'", "VendNum"
    )
    assert sorted(row["VendNum"] for row in both) == ["  ST42", "STCLEAR"]
    liked = await sl.rows("SLVendors", "Name LIKE N'acme%' AND Stat = 'A'", "Name")
    assert [row["Name"] for row in liked] == ["Acme Sheet Metal"]


async def test_filter_errors_are_refused(sl: SyteLine) -> None:
    """Unknown property, bad syntax or a literal of the wrong type: Success false, no rows."""
    assert "Colour" in await sl.refused("SLItems", filter="Colour = 'red'")
    assert "syntax" in (await sl.refused("SLItems", filter="Item = 'a' AND")).lower()
    assert "syntax" in (await sl.refused("SLItems", filter="Item = 'a'; DROP TABLE item")).lower()
    assert "UnitCost" in await sl.refused("SLItems", filter="UnitCost > 'cheap'")


async def test_filter_on_record_date_reads_changes_since(sl: SyteLine) -> None:
    """RecordDate >= a date returns exactly the rows changed since then."""
    everything = (await sl.load("SLItems", properties="Item,RecordDate", recordCap="0"))["Items"]
    cutoff = sorted(row["RecordDate"] for row in everything)[len(everything) // 2]
    newer = await sl.rows("SLItems", f"RecordDate >= '{cutoff}'", "Item,RecordDate")
    assert {r["Item"] for r in newer} == {
        r["Item"] for r in everything if r["RecordDate"] >= cutoff
    }
    assert 0 < len(newer) < len(everything)


async def test_bookmark_paging_reads_every_row_once(sl: SyteLine) -> None:
    """FIRST then NEXT with the Bookmark until MoreRowsExist is false: every row once, in
    order, even when a row is inserted between pages."""
    seen: list[str] = []
    body = await sl.load("SLItems", properties="Item", recordCap="7", orderBy="Item")
    while True:
        seen.extend(item["Item"] for item in body["Items"])
        if not body["MoreRowsExist"]:
            break
        if len(seen) == 14:
            await sl.insert("SLItems", Item="AAA-FIRST", UM="EA", ProductCode="PARTS")
            await sl.insert("SLItems", Item="ZZZ-LAST", UM="EA", ProductCode="PARTS")
        body = await sl.load(
            "SLItems",
            properties="Item",
            recordCap="7",
            orderBy="Item",
            loadType="NEXT",
            bookmark=body["Bookmark"],
        )
    assert seen == sorted(seen, key=str.casefold)
    assert len(seen) == len(set(seen)) == 61  # 60 seeded + the one inserted after the page
    assert "ZZZ-LAST" in seen and "AAA-FIRST" not in seen


async def test_bookmark_of_another_ordering_is_refused(sl: SyteLine) -> None:
    """NEXT without a bookmark, or with one from another orderBy, is refused."""
    body = await sl.load("SLItems", properties="Item", recordCap="5", orderBy="Item")
    assert "bookmark" in (await sl.refused("SLItems", loadType="NEXT")).lower()
    message = await sl.refused(
        "SLItems", loadType="NEXT", orderBy="Description", bookmark=body["Bookmark"]
    )
    assert "ordering" in message


async def test_prev_and_last_pages(sl: SyteLine) -> None:
    """LAST gives the final rows; PREV from a page gives the rows just before it."""
    last = await sl.load("SLItems", properties="Item", recordCap="3", loadType="LAST")
    assert [i["Item"] for i in last["Items"]] == ["PRT-10058", "PRT-10059", "PRT-10060"]
    before = await sl.load(
        "SLItems", properties="Item", recordCap="2", loadType="PREV", bookmark=last["Bookmark"]
    )
    assert [i["Item"] for i in before["Items"]] == ["PRT-10056", "PRT-10057"]


async def test_record_cap_default_all_and_site_maximum(sl: SyteLine) -> None:
    """No recordCap means 200 rows, 0 means all; a site-wide maximum caps both."""
    for number in range(250):
        await sl.insert(
            "SLItems", refresh=False, Item=f"BULK-{number:04}", UM="EA", ProductCode="PARTS"
        )
    assert len((await sl.load("SLItems", properties="Item"))["Items"]) == 200
    assert len((await sl.load("SLItems", properties="Item", recordCap="0"))["Items"]) == 310
    await sl.tenant.admin("POST", "seed", {"line": "CSI", "knobs": {"max_record_cap": 50}})
    capped = await sl.load("SLItems", properties="Item", recordCap="0")
    assert (len(capped["Items"]), capped["MoreRowsExist"]) == (50, True)


async def test_insert_checks_required_read_only_length_and_parents(sl: SyteLine) -> None:
    """Missing required property, a read-only one, an over-long value, a duplicate key or an
    unknown parent row: Success false naming the problem, nothing stored."""
    cases = [
        ("SLVendors", {"VendNum": "ST1", "Name": "No currency"}, "CurrCode"),
        (
            "SLVendors",
            {"VendNum": "ST1", "Name": "x", "CurrCode": "USD", "RecordDate": "20240101"},
            "RecordDate",
        ),
        ("SLVendors", {"VendNum": "ST123456", "Name": "x", "CurrCode": "USD"}, "7"),
        ("SLVendors", {"VendNum": "STCLEAR", "Name": "x", "CurrCode": "USD"}, "already exists"),
        (
            "SLAptrxds",
            {"VendNum": "STCLEAR", "Voucher": "999", "DistSeq": "5", "Acct": "5010", "Amount": "1"},
            "voucher",
        ),
        ("SLAptrxs", {**VOUCHER, "VendNum": "NOBODY"}, "vendor NOBODY"),
    ]
    before = await sl.tenant.state()
    for ido, values, expected in cases:
        body = await sl.update_raw(ido, [insert(ido, **values)])
        assert body["Success"] is False and expected in body["Message"], (ido, body)
    assert (await sl.tenant.state())["lines"]["CSI"]["idos"] == before["lines"]["CSI"]["idos"]


async def test_voucher_is_numbered_and_distributions_attach(sl: SyteLine) -> None:
    """A voucher without Voucher gets the next number (read back with refresh=true); its
    distributions carry the voucher's InvNum."""
    header = await sl.insert("SLAptrxs", **VOUCHER)
    assert header["Voucher"] == "21" and header["VenCurrCode"] == "USD"
    await sl.insert(
        "SLAptrxds",
        VendNum="STCLEAR",
        Voucher=header["Voucher"],
        DistSeq="5",
        Acct="5010",
        AcctUnit1="100",
        Amount="100",
    )
    rows = await sl.rows("SLAptrxds", "VendNum = 'STCLEAR' AND Voucher = 21", "DistSeq,InvNum")
    assert [(r["DistSeq"], r["InvNum"]) for r in rows] == [("5", "ST-1")]


async def test_one_request_commits_all_changes_or_none(sl: SyteLine) -> None:
    """A second change that fails leaves the first one unstored too."""
    body = await sl.update_raw(
        "SLItems",
        [
            insert("SLItems", Item="OK-1", UM="EA", ProductCode="PARTS"),
            insert("SLItems", Item="BAD-1", UM="EA"),
        ],
    )
    assert body["Success"] is False and "ProductCode" in body["Message"]
    assert await sl.rows("SLItems", "Item LIKE 'OK-%'") == []


async def test_update_with_stale_item_id_is_refused(sl: SyteLine) -> None:
    """An update with the _ItemId as read succeeds and changes RecordDate and _ItemId; the
    old _ItemId is then stale and refused."""
    [vendor] = await sl.rows("SLVendors", "VendNum = 'STCLEAR'")
    first = await sl.update_raw("SLVendors", [update(vendor["_ItemId"], Name="Clearing 2")])
    assert first["Success"] is True
    [after] = await sl.rows("SLVendors", "VendNum = 'STCLEAR'")
    assert after["Name"] == "Clearing 2" and after["_ItemId"] != vendor["_ItemId"]
    assert after["RecordDate"] > vendor["RecordDate"]
    stale = await sl.update_raw("SLVendors", [update(vendor["_ItemId"], Name="Lost update")])
    assert stale["Success"] is False and "changed by another user" in stale["Message"]
    [final] = await sl.rows("SLVendors", "VendNum = 'STCLEAR'")
    assert final["Name"] == "Clearing 2"


async def test_update_by_keys_and_delete(sl: SyteLine) -> None:
    """Without ItemId the keys name the row (no locking); a key cannot change; delete by
    ItemId removes the row, and a vendor with vouchers cannot be deleted."""
    await sl.insert("SLItems", Item="DEL-1", UM="EA", ProductCode="PARTS")
    keyed = await sl.update_raw("SLItems", [update("", Item="DEL-1", Description="New")])
    assert keyed["Success"] is True
    [item] = await sl.rows("SLItems", "Item = 'DEL-1'")
    assert item["Description"] == "New"
    moved = await sl.update_raw("SLItems", [update(item["_ItemId"], Item="DEL-2")])
    assert moved["Success"] is False and "cannot be changed" in moved["Message"]
    gone = await sl.update_raw("SLItems", [{"Action": 4, "ItemId": item["_ItemId"]}])
    assert gone["Success"] is True and await sl.rows("SLItems", "Item = 'DEL-1'") == []
    [voucher] = (await sl.load("SLAptrxs", properties="VendNum", recordCap="1"))["Items"]
    [vendor] = await sl.rows("SLVendors", f"VendNum = '{voucher['VendNum']}'")
    kept = await sl.update_raw("SLVendors", [{"Action": 4, "ItemId": vendor["_ItemId"]}])
    assert kept["Success"] is False and "cannot be deleted" in kept["Message"]


async def test_duplicate_invoice_numbers_follow_the_ap_parameter(sl: SyteLine) -> None:
    """By default a second voucher with the same vendor invoice number is stored (only the
    client's look-up prevents it); with the parameter off it is refused."""
    await sl.insert("SLAptrxs", **VOUCHER)
    await sl.insert("SLAptrxs", **VOUCHER)
    assert len(await sl.rows("SLAptrxs", "InvNum = 'ST-1'")) == 2
    await sl.tenant.admin("POST", "seed", {"line": "CSI", "knobs": {"duplicate_invoices": False}})
    body = await sl.update_raw("SLAptrxs", [insert("SLAptrxs", **{**VOUCHER, "InvNum": "ST-2"})])
    assert body["Success"] is True
    again = await sl.update_raw("SLAptrxs", [insert("SLAptrxs", **{**VOUCHER, "InvNum": "ST-2"})])
    assert again["Success"] is False and "already exists" in again["Message"]


async def test_timeout_after_commit_applies_to_updates(sl: SyteLine) -> None:
    """The shared fault knob drops the reply of an update that was saved: the row exists."""
    await sl.tenant.knobs(
        hang_s=0.05,
        script=[
            {"fault": "timeout_after_commit", "match": "write", "path_contains": "/ido/update/"}
        ],
    )
    with pytest.raises(aiohttp.ClientError):
        await sl.update_raw(
            "SLItems", [insert("SLItems", Item="LOST-1", UM="EA", ProductCode="PARTS")]
        )
    assert len(await sl.rows("SLItems", "Item = 'LOST-1'")) == 1


async def test_seed_is_deterministic_and_reset_keeps_the_clearing_vendor(sl: SyteLine) -> None:
    """The same seed gives the same rows; reset leaves only the site and the clearing vendor."""
    first = (await sl.tenant.state())["lines"]["CSI"]["idos"]["SLVendors"]
    await sl.tenant.admin("POST", "seed", {"line": "CSI", "seed": 5})
    again = (await sl.tenant.state())["lines"]["CSI"]["idos"]["SLVendors"]
    assert [(v["VendNum"], v["Name"]) for v in first] == [(v["VendNum"], v["Name"]) for v in again]
    await sl.tenant.admin("POST", "reset")
    idos = (await sl.tenant.state())["lines"]["CSI"]["idos"]
    assert [v["VendNum"] for v in idos["SLVendors"]] == ["STCLEAR"]
    assert all(not rows for name, rows in idos.items() if name not in ("SLVendors", "SLSites"))


async def test_first_change_only_knob_saves_and_answers_one_change(sl: SyteLine) -> None:
    """With update_first_change_only, a two-change request saves the first, answers Success
    and refreshes only that one, as the field reports describe."""
    await sl.tenant.admin(
        "POST", "seed", {"line": "CSI", "knobs": {"update_first_change_only": True}}
    )
    body = await sl.update_raw(
        "SLItems",
        [
            insert("SLItems", Item="ONE-1", UM="EA", ProductCode="PARTS"),
            insert("SLItems", Item="ONE-2", UM="EA", ProductCode="PARTS"),
        ],
        "?refresh=true",
    )
    assert body["Success"] is True and len(body["Changes"]) == 1
    assert [r["Item"] for r in await sl.rows("SLItems", "Item LIKE 'ONE-%'", "Item")] == ["ONE-1"]
