"""IFS simulator, writes: content checks, ETag preconditions, business rules, rights."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_ifs_support import (
    EXT,
    LOADS,
    PO,
    SUPPLIERS,
    VOUCHER_ROWS,
    VOUCHERS,
    Ifs,
    voucher_row,
)

ORDER = f"{PO}(OrderNo='P100231')"


@pytest.fixture
async def ifs(start_simulator: StartSimulator) -> AsyncIterator[Ifs]:
    sim = await start_simulator("ifs")
    async with aiohttp.ClientSession() as http:
        handle = Ifs(sim, http)
        await handle.seed()
        yield handle


async def test_rule3_body_without_json_content_type_or_bad_json_is_400(ifs: Ifs) -> None:
    """Rule 3: POST/PATCH without application/json or with bad JSON → ODP_DESERIALIZATION_ERROR."""
    status, body, _ = await ifs.call("POST", EXT, raw=b'{"Company": "10"}',
                                     headers={"Content-Type": "text/plain"})
    assert (status, body["error"]["code"]) == (400, "ODP_DESERIALIZATION_ERROR")
    _, etag = await ifs.get_one(ORDER)
    status, body, _ = await ifs.call("PATCH", ORDER, raw=b"{not json", headers={
        "Content-Type": "application/json", "If-Match": etag})
    assert (status, body["error"]["code"]) == (400, "ODP_DESERIALIZATION_ERROR")


async def test_rule4_etag_changes_on_every_write(ifs: Ifs) -> None:
    """Rule 4: each PATCH answers a new ETag (body and header), even within one second."""
    _, etag = await ifs.get_one(ORDER)
    seen = {etag}
    for note in ("one", "two", "three"):
        status, body, headers = await ifs.call(
            "PATCH", ORDER, {"NoteText": note}, headers={"If-Match": etag})
        assert status == 200 and body["NoteText"] == note
        assert headers["ETag"] == body["@odata.etag"]
        etag = body["@odata.etag"]
        seen.add(etag)
    assert len(seen) == 4


async def test_rule5_stale_if_match_is_412(ifs: Ifs) -> None:
    """Rule 5: PATCH or DELETE with an ETag from before another write → 412, nothing changed."""
    _, stale = await ifs.get_one(ORDER)
    await ifs.call("PATCH", ORDER, {"NoteText": "theirs"}, headers={"If-Match": stale})
    status, body, _ = await ifs.call("PATCH", ORDER, {"NoteText": "ours"},
                                     headers={"If-Match": stale})
    assert (status, body["error"]["code"]) == (412, "ODP_PRECONDITION_FAILED")
    row, _ = await ifs.get_one(ORDER)
    assert row["NoteText"] == "theirs"
    status, _, _ = await ifs.call("DELETE", f"{SUPPLIERS}(SupplierId='SUP1001')",
                                  headers={"If-Match": stale})
    assert status == 412


async def test_rule5_missing_if_match_is_428_and_star_is_accepted(ifs: Ifs) -> None:
    """Rule 5: no If-Match → 428 ODP_MISSING_PRECONDITION; If-Match: * skips the check."""
    status, body, _ = await ifs.call("PATCH", ORDER, {"NoteText": "x"})
    assert (status, body["error"]["code"]) == (428, "ODP_MISSING_PRECONDITION")
    status, body, _ = await ifs.call("PATCH", ORDER, {"NoteText": "x"}, headers={"If-Match": "*"})
    assert status == 200 and body["NoteText"] == "x"


async def test_rule5_knob_turns_patch_without_if_match_into_an_upsert(ifs: Ifs) -> None:
    """Rule 5 knob (24R1+): PATCH without If-Match creates the row from the URL keys."""
    await ifs.knobs(patch_without_if_match="upsert")
    status, body, _ = await ifs.call("PATCH", f"{SUPPLIERS}(SupplierId='SUP9000')",
                                     {"Name": "New Supply Co"})
    assert status == 201 and body["SupplierId"] == "SUP9000"


async def test_rule6_retried_post_creates_a_duplicate_with_server_record_no(ifs: Ifs) -> None:
    """Rule 6: the same POST twice makes two rows; RecordNo is assigned, never insertable."""
    first = await ifs.call("POST", EXT, voucher_row())
    second = await ifs.call("POST", EXT, voucher_row())
    assert (first[0], second[0]) == (201, 201)
    assert (first[1]["RecordNo"], second[1]["RecordNo"]) == (1, 2)
    assert first[1]["Objstate"] == "Loaded"
    status, body, _ = await ifs.call("POST", EXT, voucher_row(RecordNo=7))
    assert status == 400 and body["error"]["details"][0]["target"] == "RecordNo"


@pytest.mark.parametrize(
    ("overrides", "target", "text"),
    [({"Account": None}, "Account", "NULLVALUE"),
     ({"Correction": None}, "Correction", "NULLVALUE"),
     ({"LoadId": "NO-SUCH-LOAD"}, "LoadId", "ExtLoadInfo.FND_RECORD_NOT_EXIST"),
     ({"Account": "9999"}, "Account", "Account.FND_RECORD_NOT_EXIST"),
     ({"CodeB": "CC99"}, "CodeB", "CodeB.FND_RECORD_NOT_EXIST")],
)
async def test_rule6_voucher_rows_need_account_correction_load_and_code_parts(
    ifs: Ifs, overrides: dict[str, object], target: str, text: str
) -> None:
    """Rule 6: ORA-20111 names the missing or unknown Account, Correction, LoadId, code part."""
    status, body, _ = await ifs.call("POST", EXT, voucher_row(**overrides))
    assert status == 400
    assert body["error"]["message"].startswith("ORA-20111: ") and text in body["error"]["message"]
    assert body["error"]["details"][0]["target"] == target


async def test_rule7_voucher_set_refuses_post_and_voucher_rows_are_read_only(ifs: Ifs) -> None:
    """Rule 7: POST to VoucherSet → 405; VoucherRowSet refuses POST, PATCH and DELETE."""
    status, body, _ = await ifs.call("POST", VOUCHERS, {"Company": "10"})
    assert status == 405 and "Read and Update only" in body["error"]["message"]
    status, _, _ = await ifs.call("POST", VOUCHER_ROWS, {"Company": "10"})
    assert status == 405
    _, rows, _ = await ifs.call("GET", VOUCHER_ROWS, params={"$top": "1"})
    row = rows["value"][0]
    key = (f"(Company='10',AccountingYear={row['AccountingYear']},VoucherType="
           f"'{row['VoucherType']}',VoucherNo={row['VoucherNo']},RowNo={row['RowNo']})")
    for method in ("PATCH", "DELETE"):
        status, _, _ = await ifs.call(method, f"{VOUCHER_ROWS}{key}", {"Text": "x"},
                                      headers={"If-Match": row["@odata.etag"]})
        assert status == 405, method


async def test_voucher_set_allows_patch_with_if_match(ifs: Ifs) -> None:
    """VoucherSet is Read and Update: PATCH of an editable attribute succeeds with If-Match."""
    _, vouchers, _ = await ifs.call("GET", VOUCHERS, params={"$top": "1"})
    v = vouchers["value"][0]
    key = (f"(Company='10',AccountingYear={v['AccountingYear']},VoucherType='{v['VoucherType']}',"
           f"VoucherNo={v['VoucherNo']})")
    status, body, _ = await ifs.call("PATCH", f"{VOUCHERS}{key}", {"VoucherText2": "checked"},
                                     headers={"If-Match": v["@odata.etag"]})
    assert status == 200 and body["VoucherText2"] == "checked"


async def test_wrong_type_names_the_attribute_in_the_error_details(ifs: Ifs) -> None:
    """A value of the wrong type → 400 whose details[].target names the attribute."""
    status, body, _ = await ifs.call("POST", EXT, voucher_row(CurrencyDebetAmount="1200"))
    assert status == 400
    assert body["error"]["details"][0]["target"] == "CurrencyDebetAmount"


async def test_load_actions_need_if_match_and_turn_balanced_rows_into_a_voucher(
    ifs: Ifs,
) -> None:
    """Bound actions: 428 without If-Match; DoCreateVoucher posts balanced rows as a voucher."""
    await ifs.call("POST", EXT, voucher_row(Account="5000", CurrencyDebetAmount=100.0))
    await ifs.call("POST", EXT, voucher_row(Account="2400", CodeB=None,
                                            CurrencyDebetAmount=None, CurrencyCreditAmount=100.0))
    load = f"{LOADS}(Company='10',LoadId='ML-LOAD-1')"
    action = f"{load}/IfsApp.ExternalVoucherLoadInformationHandling.ExtLoadInfo_DoCreateVoucher"
    status, body, _ = await ifs.call("POST", action)
    assert (status, body["error"]["code"]) == (428, "ODP_MISSING_PRECONDITION")
    _, etag = await ifs.get_one(load)
    status, _, _ = await ifs.call("POST", action, headers={"If-Match": etag})
    assert status == 204
    _, rows, _ = await ifs.call("GET", EXT, params={"$filter": "LoadId eq 'ML-LOAD-1'"})
    assert {r["Objstate"] for r in rows["value"]} == {"Updated"}
    status, _, _ = await ifs.call("POST", action, headers={"If-Match": etag})
    assert status == 412
