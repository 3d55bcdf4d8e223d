"""ServiceNow simulator: the Table API — headers, values, queries, paging, ACLs, writes,
outbound status, the hourly rate limit and the base-ITSM mode (sheet §8, 4–8, 10–12)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_servicenow_support import SN

INVOICES = "/api/now/table/sn_shop_invoice"


@pytest.fixture
async def sn(start_simulator: StartSimulator) -> AsyncIterator[SN]:
    sim = await start_simulator("servicenow")
    async with aiohttp.ClientSession() as http:
        handle = SN(sim, http)
        await handle.admin("POST", "seed", {"seed": 1})
        handle.creds = await handle.admin("GET", "credentials")
        yield handle


async def test_missing_accept_header_is_400(sn: SN) -> None:
    """A request without Accept is refused with 400 in ServiceNow's error shape."""
    async with sn.http.get(f"{sn.url}{INVOICES}", headers=sn.basic(),
                           skip_auto_headers=["Accept"]) as resp:
        assert resp.status == 400
        assert (await resp.json())["status"] == "failure"


async def test_write_without_content_type_is_400(sn: SN) -> None:
    """A POST whose body has no Content-Type is refused with 400."""
    async with sn.http.post(f"{sn.url}/api/now/table/sn_fin_legal_entity", data=b'{"code":"X"}',
                            headers=sn.basic() | {"Accept": "application/json"},
                            skip_auto_headers=["Content-Type"]) as resp:
        assert resp.status == 400


async def test_unknown_table_is_400_invalid_table(sn: SN) -> None:
    """A table that does not exist answers 400 'Invalid table' naming it."""
    status, body, _ = await sn.call("GET", "/api/now/table/sn_apo_invoice")
    assert status == 400
    assert body == {"error": {"message": "Invalid table sn_apo_invoice",
                              "detail": "Table sn_apo_invoice does not exist"},
                    "status": "failure"}


async def test_base_itsm_instance_has_no_s2p_tables(sn: SN) -> None:
    """With the S2P plugin off, S2P tables and staging tables are 'Invalid table'."""
    await sn.knobs(s2p_plugin_active=False)
    assert (await sn.call("GET", INVOICES))[0] == 400
    assert (await sn.call("POST", "/api/now/import/sn_spend_intg_imp_invoice", {}))[0] == 400
    assert (await sn.call("GET", "/api/now/table/cmn_cost_center"))[0] == 200


async def test_every_value_is_a_string_and_datetimes_are_utc(sn: SN) -> None:
    """Numbers, booleans and counts come as strings; sys_updated_on is yyyy-MM-dd HH:mm:ss."""
    rows = await sn.rows(INVOICES, "", sysparm_limit="3")
    for row in rows:
        assert all(isinstance(value, str) for value in row.values())
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["sys_updated_on"])
        assert re.fullmatch(r"[0-9a-f]{32}", row["sys_id"])


async def test_references_are_link_value_unless_excluded(sn: SN) -> None:
    """A reference is {link, value} by default and the bare sys_id with exclude_reference_link."""
    _, body, _ = await sn.call("GET", INVOICES, params={"sysparm_limit": "1"})
    supplier = body["result"][0]["supplier"]
    assert set(supplier) == {"link", "value"}
    assert supplier["link"].endswith(f"/api/now/table/sn_fin_supplier/{supplier['value']}")
    rows = await sn.rows(INVOICES, "", sysparm_limit="1")
    assert rows[0]["supplier"] == supplier["value"]


async def test_display_value_all_gives_display_and_value(sn: SN) -> None:
    """sysparm_display_value=all gives {display_value, value} for every field."""
    rows = await sn.rows(INVOICES, "", sysparm_limit="1", sysparm_display_value="all")
    assert set(rows[0]["supplier"]) == {"display_value", "value"}
    assert rows[0]["supplier"]["display_value"].startswith("Supplier ")
    assert set(rows[0]["number"]) == {"display_value", "value"}


async def test_sysparm_fields_selects_and_ignores_unknown(sn: SN) -> None:
    """sysparm_fields returns only the named fields; unknown names are ignored."""
    rows = await sn.rows(INVOICES, "", sysparm_limit="2", sysparm_fields="sys_id,number,nope")
    assert [set(row) for row in rows] == [{"sys_id", "number"}] * 2


async def test_unknown_query_field_is_silently_dropped(sn: SN) -> None:
    """A misspelt field in sysparm_query is dropped, so the filter matches everything."""
    everything = await sn.rows(INVOICES, "")
    assert len(await sn.rows(INVOICES, "external_invoice_numbr=SUP-88000")) == len(everything)


async def test_unknown_query_field_returns_no_rows_knob(sn: SN) -> None:
    """With invalid_query_returns_no_rows, a misspelt field matches nothing."""
    await sn.knobs(invalid_query_returns_no_rows=True)
    assert await sn.rows(INVOICES, "external_invoice_numbr=SUP-88000") == []


async def test_encoded_query_operators(sn: SN) -> None:
    """=, !=, >, >=, <, <=, LIKE, STARTSWITH, IN, ^ and ^OR evaluate exactly."""
    def numbers(rows: list[dict[str, str]]) -> set[str]:
        return {row["external_invoice_number"] for row in rows}

    assert numbers(await sn.rows(INVOICES, "external_invoice_number=SUP-88001")) == {"SUP-88001"}
    assert len(await sn.rows(INVOICES, "external_invoice_number!=SUP-88001")) == 29
    assert numbers(await sn.rows(INVOICES, "external_invoice_number>=SUP-88028")) == {
        "SUP-88028", "SUP-88029"}
    assert numbers(await sn.rows(INVOICES, "external_invoice_number>SUP-88028")) == {"SUP-88029"}
    assert numbers(await sn.rows(INVOICES, "external_invoice_number<SUP-88001")) == {"SUP-88000"}
    assert len(await sn.rows(INVOICES, "external_invoice_number<=SUP-88001")) == 2
    assert len(await sn.rows(INVOICES, "external_invoice_numberLIKE8801")) == 10
    assert len(await sn.rows(INVOICES, "external_invoice_numberSTARTSWITHSUP-8802")) == 10
    assert numbers(await sn.rows(
        INVOICES, "external_invoice_numberINSUP-88003,SUP-88004")) == {"SUP-88003", "SUP-88004"}
    assert numbers(await sn.rows(
        INVOICES, "erp_source=M3^external_invoice_number=SUP-88005"
        "^ORexternal_invoice_number=SUP-88006")) == {"SUP-88005", "SUP-88006"}


async def test_numeric_columns_compare_as_numbers(sn: SN) -> None:
    """subtotal>900 compares numerically, not as text ("1000.00" > "900")."""
    rows = await sn.rows(INVOICES, "subtotal>900")
    assert rows and all(float(row["subtotal"]) > 900 for row in rows)


async def test_orderby_chains_sort_exactly(sn: SN) -> None:
    """ORDERBYsys_updated_on^ORDERBYsys_id sorts by time, then sys_id; ORDERBYDESC reverses."""
    rows = await sn.rows(INVOICES, "ORDERBYsys_updated_on^ORDERBYsys_id")
    keys = [(row["sys_updated_on"], row["sys_id"]) for row in rows]
    assert keys == sorted(keys)
    down = await sn.rows(INVOICES, "ORDERBYDESCsys_id")
    assert [row["sys_id"] for row in down] == sorted((r["sys_id"] for r in rows), reverse=True)


async def test_many_rows_share_one_updated_second_and_keyset_is_exact(sn: SN) -> None:
    """Seeded rows tie on sys_updated_on; the two-query keyset cursor visits each exactly once."""
    rows = await sn.rows(INVOICES, "")
    seconds = [row["sys_updated_on"] for row in rows]
    assert len(set(seconds)) < len(seconds)
    seen: list[str] = []
    when, last = "1970-01-01 00:00:00", ""
    while True:
        page = await sn.rows(INVOICES, f"sys_updated_on={when}^sys_id>{last}^ORDERBYsys_id",
                             sysparm_limit="4")
        if not page:
            page = await sn.rows(INVOICES, f"sys_updated_on>{when}"
                                 "^ORDERBYsys_updated_on^ORDERBYsys_id", sysparm_limit="4")
            if not page:
                break
        seen += [row["sys_id"] for row in page]
        when, last = page[-1]["sys_updated_on"], page[-1]["sys_id"]
    assert sorted(seen) == sorted(row["sys_id"] for row in rows)


async def test_default_limit_is_10000_with_total_count_and_links(sn: SN) -> None:
    """Without sysparm_limit every row comes back; X-Total-Count and Link are absolute."""
    _, body, headers = await sn.call("GET", INVOICES)
    assert len(body["result"]) == int(headers["X-Total-Count"]) == 30
    assert "sysparm_limit=10000" in headers["Link"]
    _, body, headers = await sn.call("GET", INVOICES, params={"sysparm_limit": "10",
                                                              "sysparm_offset": "10"})
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>;rel="(\w+)"', headers["Link"]))
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"].startswith(sn.url) and "sysparm_offset=20" in links["next"]
    assert "sysparm_offset=20" in links["last"]


async def test_first_page_prev_link_has_negative_offset(sn: SN) -> None:
    """Page one's prev link points at a negative offset, as instances answer."""
    _, _, headers = await sn.call("GET", INVOICES, params={"sysparm_limit": "1"})
    assert re.search(r'sysparm_offset=-1>;rel="prev"', headers["Link"])


async def test_no_count_and_suppressed_pagination_headers(sn: SN) -> None:
    """sysparm_no_count drops X-Total-Count; suppress_pagination_header drops Link."""
    _, _, headers = await sn.call("GET", INVOICES, params={
        "sysparm_no_count": "true", "sysparm_suppress_pagination_header": "true"})
    assert "X-Total-Count" not in headers and "Link" not in headers


async def test_no_rows_v1_404_v2_empty(sn: SN) -> None:
    """An empty result is 404 No Record found on v1 and 200 [] on v2."""
    query = {"sysparm_query": "external_invoice_number=none"}
    status, body, _ = await sn.call("GET", "/api/now/v1/table/sn_shop_invoice", params=query)
    assert status == 404 and body["error"]["message"] == "No Record found"
    status, body, _ = await sn.call("GET", "/api/now/v2/table/sn_shop_invoice", params=query)
    assert (status, body) == (200, {"result": []})


async def test_acl_hides_rows_after_the_limit(sn: SN) -> None:
    """Hidden rows are cut after the limit: pages come back short while more rows exist."""
    await sn.knobs(acl_hide_every=2)
    sizes = []
    for offset in range(0, 30, 5):
        _, body, headers = await sn.call("GET", INVOICES, params={
            "sysparm_limit": "5", "sysparm_offset": str(offset)})
        sizes.append(len(body["result"]))
    assert headers["X-Total-Count"] == "30"
    assert min(sizes) < 5 and sum(sizes) < 30


async def test_get_by_id_missing_is_404(sn: SN) -> None:
    """GET of an unknown sys_id answers 404 No Record found."""
    status, body, _ = await sn.call("GET", f"{INVOICES}/{'0' * 32}")
    assert status == 404 and body["error"]["message"] == "No Record found"


async def test_post_always_inserts_and_sys_fields_are_maintained(sn: SN) -> None:
    """POST twice inserts twice (201); PATCH bumps sys_mod_count; DELETE is 204 without body."""
    path = "/api/now/table/sn_fin_legal_entity"
    admin = sn.basic(sn.creds["interactive_username"], sn.creds["interactive_password"])
    first = await sn.call("POST", path, {"code": "DE01", "name": "Acme GmbH",
                                         "sys_mod_count": "9"}, headers=admin)
    second = await sn.call("POST", path, {"code": "DE01", "name": "Acme GmbH"}, headers=admin)
    assert first[0] == second[0] == 201
    assert first[1]["result"]["sys_id"] != second[1]["result"]["sys_id"]
    assert first[1]["result"]["sys_mod_count"] == "0"
    sys_id = first[1]["result"]["sys_id"]
    status, body, _ = await sn.call("PATCH", f"{path}/{sys_id}", {"name": "Acme Deutschland"},
                                    headers=admin)
    assert status == 200 and body["result"]["sys_mod_count"] == "1"
    status, body, _ = await sn.call("DELETE", f"{path}/{sys_id}", headers=admin)
    assert (status, body) == (204, None)


async def test_outbound_integration_status_moves_only_forward(sn: SN) -> None:
    """integration_status goes new → in_progress → processed|error, never elsewhere."""
    path = "/api/now/table/sn_spend_intg_outbound_invoice"
    rows = await sn.rows(path, "integration_status=new^ORDERBYsys_id")
    sys_id = rows[0]["sys_id"]
    assert (await sn.call("PATCH", f"{path}/{sys_id}", {"integration_status": "processed"}))[0] \
        == 403
    assert (await sn.call("PATCH", f"{path}/{sys_id}", {"integration_status": "in_progress"}))[0] \
        == 200
    status, body, _ = await sn.call("PATCH", f"{path}/{sys_id}", {
        "integration_status": "processed", "erp_number": "M3-1"})
    assert status == 200 and body["result"]["sys_mod_count"] == "2"
    status, body, _ = await sn.call("PATCH", f"{path}/{sys_id}", {"integration_status": "new"})
    assert status == 403 and "cannot go from processed to new" in body["error"]["detail"]


async def test_hourly_rate_limit_429_with_headers_and_no_remaining(sn: SN) -> None:
    """Past the hourly rule: 429, Retry-After, X-RateLimit-Limit/-Reset/-Rule, no -Remaining."""
    await sn.knobs(rate_limit_per_hour=2, rate_limit_table="sn_shop_invoice")
    for _ in range(2):
        status, _, headers = await sn.call("GET", INVOICES, params={"sysparm_limit": "1"})
        assert status == 200 and headers["X-RateLimit-Limit"] == "2"
    status, body, headers = await sn.call("GET", INVOICES)
    assert status == 429 and body["error"]["message"] == "Rate limit exceeded"
    assert int(headers["Retry-After"]) > 0 and headers["X-RateLimit-Rule"]
    assert int(headers["X-RateLimit-Reset"]) > 0 and "X-RateLimit-Remaining" not in headers
    assert (await sn.call("GET", "/api/now/table/sn_fin_supplier"))[0] == 200


async def test_shared_faults_answer_in_servicenow_shape(sn: SN) -> None:
    """An injected 429 carries Retry-After and ServiceNow's error body."""
    await sn.knobs(script=[{"fault": "429"}])
    status, body, headers = await sn.call("GET", INVOICES)
    assert status == 429 and headers["Retry-After"] == "1" and body["status"] == "failure"


async def test_hibernating_instance_answers_html(sn: SN) -> None:
    """A hibernating developer instance answers 200 with an HTML page."""
    await sn.knobs(hibernating=True)
    status, body, headers = await sn.call("GET", INVOICES)
    assert status == 200 and body is None and headers["Content-Type"].startswith("text/html")
