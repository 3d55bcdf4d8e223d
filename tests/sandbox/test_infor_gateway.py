"""Infor simulator, ION API gateway and MI envelope: paths, auth, errors, options, paging,
bulk, company context and throttling — all over raw loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_infor_sso import TENANT, InforTenant, open_tenant


@pytest.fixture
async def tenant(start_simulator: StartSimulator) -> AsyncIterator[InforTenant]:
    """A seeded Infor simulator with a logged-in raw-HTTP handle."""
    async with aiohttp.ClientSession() as session:
        yield await open_tenant(start_simulator, session)


def error_of(result: dict[str, object]) -> tuple[object, object, object]:
    return result["errorType"], result["errorCode"], result["errorField"]


async def test_path_without_tenant_segment_is_bad_request(tenant: InforTenant) -> None:
    """/M3/... with no tenant segment, or an unknown tenant, is 400 {"error":"Bad Request"}."""
    for path in (
        "/M3/m3api-rest/v2/execute/MNS150MI/GetUserData",
        "/OTHER_TST/M3/m3api-rest/v2/execute/MNS150MI/GetUserData",
    ):
        status, body, _ = await tenant.get("", url=tenant.base_url + path)
        assert (status, body) == (400, {"error": "Bad Request"})


async def test_missing_or_malformed_bearer_is_unauthorized(tenant: InforTenant) -> None:
    """No bearer or an unknown one is 401 {"error":"Unauthorized"}."""
    for token in ("", "not-a-token"):
        status, body, _ = await tenant.get("MNS150MI/GetUserData", token=token)
        assert (status, body) == (401, {"error": "Unauthorized"})


async def test_fnd_csrf_token_header_is_refused(tenant: InforTenant) -> None:
    """Forwarding fnd-csrf-token is a 403 CSRF_INVALID_SESSION refusal."""
    status, body, _ = await tenant.get("MNS150MI/GetUserData", headers={"fnd-csrf-token": "x"})
    assert status == 403
    assert body["code"] == "CSRF_INVALID_SESSION"


async def test_unknown_transaction_is_a_bare_400(tenant: InforTenant) -> None:
    """Unknown program or transaction: HTTP 400 with no JSON body at all."""
    for call in ("NOPE00MI/Lst", "CRS620MI/NoSuchThing"):
        status, body, text = await tenant.get(call)
        assert (status, body, text) == (400, None, "")


async def test_unknown_transaction_ok200_style(tenant: InforTenant) -> None:
    """Knob ok200: HTTP 200 with errorType TransactionNotFound and failed counter 1."""
    await tenant.knobs(unknown_transaction_style="ok200")
    body = await tenant.mi("CRS620MI/NoSuchThing")
    assert body["results"][0]["errorType"] == "TransactionNotFound"
    assert body["nrOfFailedTransactions"] == 1


async def test_success_envelope_spells_successfull_with_two_ls(tenant: InforTenant) -> None:
    """A success: results[0].records, wasTerminated false, nrOfSuccessfullTransactions 1."""
    body = await tenant.mi("MNS150MI/GetUserData")
    assert body["wasTerminated"] is False
    assert body["nrOfSuccessfullTransactions"] == 1
    assert body["nrOfFailedTransactions"] == 0
    assert "nrOfSuccessfulTransactions" not in body
    assert body["results"][0]["transaction"] == "GetUserData"


async def test_mi_error_is_http_200_with_the_four_fields(tenant: InforTenant) -> None:
    """A business error is HTTP 200: errorMessage/Type/Code/Field, empty records, 0/1."""
    body = await tenant.mi("CRS620MI/GetBasicData;cono=100", SUNO="NOSUCH")
    assert (body["nrOfSuccessfullTransactions"], body["nrOfFailedTransactions"]) == (0, 1)
    result = body["results"][0]
    assert error_of(result) == ("ServerReturnedNOK", "WSU0203", "SUNO")
    assert "NOSUCH" in result["errorMessage"]
    assert result["records"] == []


async def test_error_messages_are_blank_padded_unless_knob_off(tenant: InforTenant) -> None:
    """errorMessage comes blank-padded like M3's fixed texts; the knob turns padding off."""
    result = await tenant.result("CRS620MI/GetBasicData;cono=100", SUNO="NOSUCH")
    assert result["errorMessage"].endswith("  ")
    await tenant.knobs(pad_error_messages=False)
    result = await tenant.result("CRS620MI/GetBasicData;cono=100", SUNO="NOSUCH")
    assert result["errorMessage"] == result["errorMessage"].rstrip()


async def test_missing_mandatory_field_is_named(tenant: InforTenant) -> None:
    """No IVDT on AddHead: MandatoryInputFieldNotFound with errorField IVDT."""
    result = await tenant.result("APS450MI/AddHead;cono=100;divi=AAA", SUNO="SUP00001")
    assert result["errorType"] == "MandatoryInputFieldNotFound"
    assert result["errorField"] == "IVDT"


async def test_blank_mandatory_field_counts_as_missing(tenant: InforTenant) -> None:
    """SUNO= (blank) is not an answer to a mandatory SUNO."""
    result = await tenant.result("CRS620MI/GetBasicData;cono=100", SUNO="  ")
    assert (result["errorType"], result["errorField"]) == ("MandatoryInputFieldNotFound", "SUNO")


async def test_over_long_input_is_input_field_too_long(tenant: InforTenant) -> None:
    """An 11-character SUNO (A10) is InputFieldTooLong on SUNO."""
    result = await tenant.result("CRS620MI/GetBasicData;cono=100", SUNO="SUP00000001")
    assert (result["errorType"], result["errorField"]) == ("InputFieldTooLong", "SUNO")


async def test_bad_date_and_comma_decimal_are_server_returned_nok(tenant: InforTenant) -> None:
    """IVDT=2024-06-12 and CUAM=125,50 are ServerReturnedNOK on the offending field."""
    call = "APS450MI/AddHead;cono=100;divi=AAA"
    result = await tenant.result(call, SUNO="SUP00001", IVDT="2024-06-12")
    assert (result["errorType"], result["errorField"]) == ("ServerReturnedNOK", "IVDT")
    result = await tenant.result(call, SUNO="SUP00001", IVDT="20240612", CUAM="125,50")
    assert (result["errorType"], result["errorField"]) == ("ServerReturnedNOK", "CUAM")
    assert not (await tenant.state())["entities"]["invoice_batches"]


async def test_unauthorized_or_unknown_company_is_xau0008(tenant: InforTenant) -> None:
    """cono=300 (exists, not authorized) and cono=999 fail with XAU0008 on CONO."""
    companies = await tenant.records("MNS095MI/Lst", righttrim="true")
    assert {c["CONO"] for c in companies} == {"100", "200", "300"}
    for cono in ("300", "999"):
        result = await tenant.result(f"CRS620MI/GetBasicData;cono={cono}", SUNO="SUP00001")
        assert (result["errorCode"], result["errorField"]) == ("XAU0008", "CONO")


async def test_omitted_cono_uses_the_service_accounts_default_company(
    tenant: InforTenant,
) -> None:
    """No cono: company 200 / division HLD apply, and a write lands there, visibly."""
    user = (await tenant.records("MNS150MI/GetUserData", righttrim="true"))[0]
    assert (user["CONO"], user["DIVI"]) == ("200", "HLD")
    wrong = await tenant.records("CRS620MI/GetBasicData", SUNO="SUP00001", righttrim="true")
    right = await tenant.records(
        "CRS620MI/GetBasicData;cono=100", SUNO="SUP00001", righttrim="true"
    )
    assert wrong[0]["SUNM"] != right[0]["SUNM"] and wrong[0]["CONO"] == "200"
    await tenant.records("APS450MI/AddHead", SUNO="SUP00001", IVDT="20240612", SINO="F-1")
    batch = (await tenant.state())["entities"]["invoice_batches"][0]
    assert (batch["CONO"], batch["DIVI"]) == ("200", "HLD")


async def test_other_company_without_division_is_refused_on_finance(tenant: InforTenant) -> None:
    """cono=100 with no divi: AddHead refuses a blank division (errorField DIVI)."""
    result = await tenant.result("APS450MI/AddHead;cono=100", SUNO="SUP00001", IVDT="20240612")
    assert result["errorField"] == "DIVI"
    result = await tenant.result(
        "APS450MI/AddHead;cono=100;divi=ZZZ", SUNO="SUP00001", IVDT="20240612"
    )
    assert (result["errorCode"], result["errorField"]) == ("XDI0002", "DIVI")


async def test_values_are_padded_strings_unless_righttrim(tenant: InforTenant) -> None:
    """SUNO (A10) comes back 'SUP00001  '; righttrim=true in matrix or query trims it."""
    padded = await tenant.records("CRS620MI/GetBasicData;cono=100", SUNO="SUP00001")
    assert padded[0]["SUNO"] == "SUP00001  "
    assert all(isinstance(v, str) for v in padded[0].values())
    assert len(padded[0]["SUNM"]) == 36
    for call, extra in (
        ("CRS620MI/GetBasicData;cono=100;righttrim=true", {}),
        ("CRS620MI/GetBasicData;cono=100", {"righttrim": "true"}),
    ):
        trimmed = await tenant.records(call, SUNO="SUP00001", **extra)
        assert trimmed[0]["SUNO"] == "SUP00001"


async def test_returncols_limits_the_columns(tenant: InforTenant) -> None:
    """returncols=SUNO,SUNM,LMDT returns exactly those columns, dates as yyyyMMdd."""
    rows = await tenant.records(
        "CRS620MI/LstByNumber;cono=100;maxrecs=2;returncols=SUNO,SUNM,LMDT", SUNO="SUP00001"
    )
    assert [set(r) for r in rows] == [{"SUNO", "SUNM", "LMDT"}] * 2
    assert all(len(r["LMDT"]) == 8 and r["LMDT"].isdigit() for r in rows)


async def test_maxrecs_default_cap_and_no_offset(tenant: InforTenant) -> None:
    """Default 100 rows; query-string maxrecs and offset are ignored; 0 means the cap."""
    call = "MMS200MI/LstItmByItm;cono=100"
    assert len(await tenant.records(call)) == 100
    assert len(await tenant.records(call, maxrecs="5")) == 100
    first = await tenant.records(f"{call};maxrecs=3")
    shifted = await tenant.records(f"{call};maxrecs=3", offset="10")
    assert first == shifted and len(first) == 3
    await tenant.knobs(maxrecs_cap=250)
    assert len(await tenant.records(f"{call};maxrecs=0")) == 250
    assert len(await tenant.records(f"{call};maxrecs=9999")) == 250


async def test_query_string_maxrecs_when_the_knob_honours_it(tenant: InforTenant) -> None:
    """query_maxrecs_honoured=true: maxrecs in the query string counts."""
    await tenant.knobs(query_maxrecs_honoured=True)
    assert len(await tenant.records("MMS200MI/LstItmByItm;cono=100", maxrecs="5")) == 5


async def test_key_restart_paging_reads_every_supplier_once(tenant: InforTenant) -> None:
    """Restart LstByNumber from the last SUNO, drop the repeat, stop on a short page."""
    seen: list[str] = []
    start = "0"
    while True:
        page = await tenant.records(
            "CRS620MI/LstByNumber;cono=100;maxrecs=37;returncols=SUNO", SUNO=start
        )
        keys = [r["SUNO"].rstrip() for r in page]
        seen += [k for k in keys if not seen or k != seen[-1]]
        if len(page) < 37:
            break
        start = keys[-1]
    suppliers = (await tenant.state())["entities"]["suppliers"]
    expected = sorted(s["SUNO"] for s in suppliers if s["CONO"] == "100")
    assert seen == expected and len(seen) == len(set(seen))


async def test_bulk_answers_in_order_with_batch_counters(tenant: InforTenant) -> None:
    """Bulk POST: results[i] answers transactions[i]; counters cover the whole batch."""
    body = {
        "program": "CRS620MI",
        "transactions": [
            {"transaction": "GetBasicData", "record": {"SUNO": "SUP00002"}},
            {"transaction": "GetBasicData", "record": {"SUNO": "NOSUCH"}},
            {
                "transaction": "GetBasicData",
                "record": {"SUNO": "SUP00001"},
                "selectedColumns": ["SUNO"],
            },
        ],
    }
    status, reply = await tenant.bulk(body, "?cono=100&righttrim=true&extendedresult=true")
    assert status == 200
    results = reply["results"]
    assert [r["transaction"] for r in results] == ["GetBasicData"] * 3
    assert results[0]["records"][0]["SUNO"] == "SUP00002"
    assert results[1]["errorField"] == "SUNO"
    assert results[2]["records"] == [{"SUNO": "SUP00001"}]
    assert (reply["nrOfSuccessfullTransactions"], reply["nrOfFailedTransactions"]) == (2, 1)
    assert reply["wasTerminated"] is False


async def test_bulk_stop_on_error_terminates(tenant: InforTenant) -> None:
    """bulk_stop_on_error: the batch stops at the first failure with wasTerminated true."""
    await tenant.knobs(bulk_stop_on_error=True, was_terminated_as_string=True)
    body = {
        "program": "CRS620MI",
        "transactions": [
            {"transaction": "GetBasicData", "record": {"SUNO": "NOSUCH"}},
            {"transaction": "GetBasicData", "record": {"SUNO": "SUP00001"}},
        ],
    }
    status, reply = await tenant.bulk(body, "?cono=100")
    assert status == 200
    assert len(reply["results"]) == 1
    assert reply["wasTerminated"] == "true"


async def test_bulk_with_unknown_program_or_bad_body(tenant: InforTenant) -> None:
    """Bulk: unknown program is a bare 400; a body without transactions is 400 Bad Request."""
    status, reply = await tenant.bulk({"program": "NOPE00MI", "transactions": []})
    assert (status, reply) == (400, None)
    status, reply = await tenant.bulk({"program": "CRS620MI"})
    assert status == 400 and reply["error"] == "Bad Request"


async def test_single_calls_must_be_get(tenant: InforTenant) -> None:
    """Every MI transaction is a GET; POST on a transaction path is 405."""
    headers = {"Authorization": f"Bearer {tenant.access_token}"}
    async with tenant.session.post(f"{tenant.api}/MNS150MI/GetUserData", headers=headers) as r:
        assert r.status == 405


async def test_throttle_answers_429_with_retry_after_past_the_budget(tenant: InforTenant) -> None:
    """requests_per_minute=3: the 4th call in the window is 429 with Retry-After seconds."""
    await tenant.knobs(requests_per_minute=3)
    for _ in range(3):
        assert (await tenant.get("MNS150MI/GetUserData"))[0] == 200
    async with tenant.session.get(
        f"{tenant.api}/MNS150MI/GetUserData",
        headers={"Authorization": f"Bearer {tenant.access_token}"},
    ) as resp:
        assert resp.status == 429
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert (await tenant.state())["counters"]["served_429"] == 1


async def test_throttle_status_and_header_knobs(tenant: InforTenant) -> None:
    """throttle_status=503 and retry_after_header=false change the throttled answer."""
    await tenant.knobs(requests_per_minute=1, throttle_status=503, retry_after_header=False)
    assert (await tenant.get("MNS150MI/GetUserData"))[0] == 200
    async with tenant.session.get(
        f"{tenant.api}/MNS150MI/GetUserData",
        headers={"Authorization": f"Bearer {tenant.access_token}"},
    ) as resp:
        assert resp.status == 503
        assert "Retry-After" not in resp.headers


async def test_unknown_input_field_is_refused(tenant: InforTenant) -> None:
    """An upper-case parameter that is not a field of the transaction is refused by name."""
    result = await tenant.result("CRS620MI/GetBasicData;cono=100", SUNO="SUP00001", XXXX="1")
    assert (result["errorType"], result["errorField"]) == ("ServerReturnedNOK", "XXXX")


async def test_discovery_lists_transactions_and_follows_knobs(tenant: InforTenant) -> None:
    """MRS001MI/LstTransactions lists a program; a knob-disabled transaction vanishes."""
    call = "MRS001MI/LstTransactions;righttrim=true"
    names = {r["TRNM"] for r in await tenant.records(call, MINM="MMS200MI")}
    assert {"AddItmBasic", "LstItmByChgDate", "AddItmViaItmTyp"} <= names
    await tenant.knobs(mms200_additmbasic=False)
    names = {r["TRNM"] for r in await tenant.records(call, MINM="MMS200MI")}
    assert "AddItmBasic" not in names
    status, _, _ = await tenant.get("MMS200MI/AddItmBasic")
    assert status == 400
    fields = await tenant.records(
        "MRS001MI/LstFields;righttrim=true", MINM="APS450MI", TRNM="AddHead"
    )
    assert {f["FLNM"] for f in fields if f["MAND"] == "1"} == {"SUNO", "IVDT"}


async def test_tenant_segment_is_the_ionapi_ti(tenant: InforTenant) -> None:
    """The gateway's first path segment is exactly ti from the .ionapi file."""
    assert tenant.api.startswith(f"{tenant.ionapi['iu']}/{TENANT}/M3/")
    assert (await tenant.get("MNS150MI/GetUserData"))[0] == 200
