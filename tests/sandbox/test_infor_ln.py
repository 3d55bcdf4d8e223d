"""The simulated LN OData v4 services, over raw loopback HTTP through the ION API gateway:
company header, strict $filter, $select/$orderby/$top, server paging, keys, create, ETags."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_infor_sso import InforTenant

BP = "tcapi.comBusinessPartner/BusinessPartners"
ITEMS = "tcapi.ibdItem/Items"
INVOICES = "tfapi.acpInvoice/Invoices"
INVOICE_LINES = "tfapi.acpInvoice/InvoiceLines"
ORDERS = "tdapi.purPurchaseOrder/Orders"
ORDER_LINES = "tdapi.purPurchaseOrder/Lines"


class LnTenant:
    """Raw OData calls on the simulated LN services of one logged-in tenant."""

    def __init__(self, tenant: InforTenant) -> None:
        self.tenant = tenant
        self.base = f"{tenant.ionapi['iu']}/{tenant.ionapi['ti']}/LN/lnapi/odata"

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        company: str | None = "100",
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        sent = {"Authorization": f"Bearer {self.tenant.access_token}", "Accept": "application/json"}
        if company is not None:
            sent["X-Infor-LnCompany"] = company
        sent.update(headers or {})
        async with self.tenant.session.request(
            method, url or f"{self.base}/{path}", params=params, json=body, headers=sent
        ) as resp:
            data = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, data, {k.lower(): v for k, v in resp.headers.items()}

    async def get(self, path: str, **params: str) -> Any:
        status, body, _ = await self.call("GET", path, params=params)
        assert status == 200, body
        return body


@pytest.fixture
async def ln(start_simulator: StartSimulator) -> AsyncIterator[LnTenant]:
    """A simulator whose LN company 100 holds 25 business partners and 10 items."""
    sim = await start_simulator("infor")
    async with aiohttp.ClientSession() as session:
        tenant = await InforTenant.open(session, sim.base_url)
        await tenant.admin(
            "POST", "seed", {"line": "LN", "seed": 3, "suppliers": 25, "items": 10, "page_size": 10}
        )
        await tenant.login()
        yield LnTenant(tenant)


async def test_gateway_still_wants_a_bearer(ln: LnTenant) -> None:
    """An LN call without a valid bearer is the gateway's 401, not an LN answer."""
    status, body, _ = await ln.call("GET", BP, headers={"Authorization": "Bearer nope"})
    assert (status, body) == (401, {"error": "Unauthorized"})


async def test_missing_company_header_reads_the_service_users_default_company(ln: LnTenant) -> None:
    """Without X-Infor-LnCompany the default company (200, empty) answers, not company 100."""
    status, body, _ = await ln.call("GET", BP, company=None)
    assert status == 200 and body["value"] == []
    status, body, _ = await ln.call("GET", BP, company="0100")
    assert status == 200 and len(body["value"]) == 10


async def test_unknown_or_malformed_company_is_refused(ln: LnTenant) -> None:
    """A company not activated is 404, a non-number 400, both in the OData error shape."""
    status, body, _ = await ln.call("GET", BP, company="300")
    assert status == 404 and "not activated for company 300" in body["error"]["message"]
    status, body, _ = await ln.call("GET", BP, company="abc")
    assert status == 400 and set(body["error"]) >= {"code", "message"}


async def test_server_paging_follows_next_links_to_every_row(ln: LnTenant) -> None:
    """25 partners come in pages of 10 with @odata.nextLink; the last page has none."""
    body = await ln.get(BP)
    codes = [row["BusinessPartner"] for row in body["value"]]
    pages = 1
    while "@odata.nextLink" in body:
        status, body, _ = await ln.call("GET", "", url=body["@odata.nextLink"])
        assert status == 200
        codes += [row["BusinessPartner"] for row in body["value"]]
        pages += 1
    assert pages == 3
    assert codes == [f"BP{n:07d}" for n in range(1, 26)]


async def test_top_limits_the_whole_result_and_maxpagesize_the_page(ln: LnTenant) -> None:
    """$top=12 yields 12 rows over two pages; Prefer maxpagesize=5 shrinks pages."""
    body = await ln.get(BP, **{"$top": "12"})
    assert len(body["value"]) == 10
    status, rest, _ = await ln.call("GET", "", url=body["@odata.nextLink"])
    assert len(rest["value"]) == 2 and "@odata.nextLink" not in rest
    status, small, _ = await ln.call("GET", BP, headers={"Prefer": "odata.maxpagesize=5"})
    assert len(small["value"]) == 5


async def test_filter_with_and_or_parentheses_and_enums(ln: LnTenant) -> None:
    """A compound $filter selects exactly the rows it describes."""
    flt = (
        "(BusinessPartner eq 'BP0000002' or BusinessPartner ge 'BP0000024') and "
        "BusinessPartnerStatus eq tcapi.comBusinessPartner.BusinessPartnerStatus'Active'"
    )
    body = await ln.get(BP, **{"$filter": flt, "$select": "BusinessPartner"})
    assert [row["BusinessPartner"] for row in body["value"]] == [
        "BP0000002",
        "BP0000024",
        "BP0000025",
    ]
    assert set(body["value"][0]) == {"@odata.etag", "BusinessPartner"}


@pytest.mark.parametrize(
    "flt",
    [
        "Nope eq 'x'",
        "BusinessPartner eq",
        "BusinessPartner eq 5",
        "BusinessPartnerStatus eq 'Active'",
        "LastModificationDateTime ge '2024-01-01'",
        "(BusinessPartner eq 'x'",
        "contains(Name,'a')",
    ],
)
async def test_bad_filters_are_400_in_the_odata_error_shape(ln: LnTenant, flt: str) -> None:
    """Unknown properties, wrong literal types, syntax errors and functions are refused."""
    status, body, _ = await ln.call("GET", BP, params={"$filter": flt})
    assert status == 400
    assert body["error"]["code"] and body["error"]["message"]


async def test_error_style_knob_gives_the_admin_guides_shape(ln: LnTenant) -> None:
    """error_style "ln": top-level Code/Message/Details/InnerError."""
    await ln.tenant.admin("POST", "seed", {"line": "LN", "error_style": "ln"})
    status, body, _ = await ln.call("GET", BP, params={"$filter": "Nope eq 'x'"})
    assert status == 400 and set(body) == {"Code", "Message", "Details", "InnerError"}


async def test_unknown_query_options_select_and_orderby_are_refused(ln: LnTenant) -> None:
    """$skip, $select and $orderby naming unknown properties are 400s."""
    for params in ({"$skip": "2"}, {"$select": "Nope"}, {"$orderby": "Nope desc"}):
        status, _, _ = await ln.call("GET", BP, params=params)
        assert status == 400, params


async def test_orderby_desc_and_modification_filter_for_incremental_reads(ln: LnTenant) -> None:
    """Rows changed at or after a time come back; $orderby ... desc reverses order."""
    everything = await ln.get(BP, **{"$orderby": "LastModificationDateTime desc", "$top": "3"})
    newest = [row["BusinessPartner"] for row in everything["value"]]
    assert newest == ["BP0000025", "BP0000024", "BP0000023"]
    since = everything["value"][1]["LastModificationDateTime"]
    body = await ln.get(BP, **{"$filter": f"LastModificationDateTime ge {since}"})
    assert [row["BusinessPartner"] for row in body["value"]] == ["BP0000024", "BP0000025"]


async def test_entity_by_key_has_etag_and_missing_key_is_404(ln: LnTenant) -> None:
    """BusinessPartners('BP0000001') answers the entity with its ETag; unknown key 404."""
    status, body, headers = await ln.call("GET", f"{BP}('BP0000001')")
    assert status == 200 and body["Name"]
    assert headers["etag"] == body["@odata.etag"] and body["@odata.etag"].startswith('W/"')
    status, body, _ = await ln.call("GET", f"{BP}('NOPE')")
    assert status == 404 and "does not exist" in body["error"]["message"]


async def test_create_then_duplicate_key_is_409(ln: LnTenant) -> None:
    """POST creates (201); the same key again is 409 Conflict."""
    partner = {"BusinessPartner": "NEW1", "Name": "New Supplier"}
    status, body, _ = await ln.call("POST", BP, body=partner)
    assert status == 201 and body["BusinessPartnerStatus"] == "Active"
    status, body, _ = await ln.call("POST", BP, body=partner)
    assert status == 409


async def test_create_validates_properties(ln: LnTenant) -> None:
    """Unknown, read-only, over-long, missing and mistyped properties are 400s."""
    for partner in (
        {"BusinessPartner": "X1", "Name": "n", "Nope": 1},
        {"BusinessPartner": "X1", "Name": "n", "LastModificationDateTime": "2024-01-01T00:00:00Z"},
        {"BusinessPartner": "X" * 10, "Name": "n"},
        {"BusinessPartner": "X1"},
        {"BusinessPartner": "X1", "Name": 5},
    ):
        status, body, _ = await ln.call("POST", BP, body=partner)
        assert status == 400, partner


async def test_patch_needs_if_match_and_a_stale_etag_is_412(ln: LnTenant) -> None:
    """PATCH without If-Match is 428; with the current ETag 200; with the old one 412."""
    path = f"{BP}('BP0000003')"
    _, before, _ = await ln.call("GET", path)
    status, _, _ = await ln.call("PATCH", path, body={"Name": "Renamed"})
    assert status == 428
    status, after, _ = await ln.call(
        "PATCH", path, body={"Name": "Renamed"}, headers={"If-Match": before["@odata.etag"]}
    )
    assert status == 200 and after["Name"] == "Renamed"
    assert after["@odata.etag"] != before["@odata.etag"]
    status, body, _ = await ln.call(
        "PATCH", path, body={"Name": "Again"}, headers={"If-Match": before["@odata.etag"]}
    )
    assert status == 412 and body["error"]["message"] == "Record modified by other user"


async def test_invoice_gets_a_server_document_number_and_lines_need_the_header(
    ln: LnTenant,
) -> None:
    """Invoices are numbered by LN; a line for a missing header or unknown BP is 422."""
    invoice = {
        "TransactionType": "PIN",
        "InvoicefromBusinessPartner": "BP0000001",
        "SupplierInvoice": "ST-1",
        "InvoiceDate": "2024-06-01",
        "Currency": "USD",
        "InvoiceAmount": 12.5,
    }
    status, first, _ = await ln.call("POST", INVOICES, body=invoice)
    status2, second, _ = await ln.call("POST", INVOICES, body=invoice)
    assert (status, status2) == (201, 201)
    assert second["Document"] == first["Document"] + 1
    line = {
        "TransactionType": "PIN",
        "Document": first["Document"],
        "LineNumber": 1,
        "Amount": 12.5,
        "LedgerAccount": "6000",
    }
    assert (await ln.call("POST", INVOICE_LINES, body=line))[0] == 201
    status, body, _ = await ln.call("POST", INVOICE_LINES, body={**line, "Document": 1})
    assert status == 422
    status, body, _ = await ln.call(
        "POST", INVOICES, body={**invoice, "InvoicefromBusinessPartner": "NOBODY"}
    )
    assert status == 422
    status, body, _ = await ln.call(
        "GET", f"{INVOICE_LINES}(TransactionType='PIN',Document={first['Document']},LineNumber=1)"
    )
    assert status == 200 and body["Amount"] == 12.5


async def test_order_lines_have_a_three_part_key_and_need_known_items(ln: LnTenant) -> None:
    """PO lines are keyed (PurchaseOrder, Line, Sequence) and refuse unknown items."""
    order = {
        "PurchaseOrder": "ST1",
        "BuyfromBusinessPartner": "BP0000001",
        "OrderDate": "2024-06-01",
    }
    assert (await ln.call("POST", ORDERS, body=order))[0] == 201
    line = {
        "PurchaseOrder": "ST1",
        "Line": 10,
        "Item": "ITM000001",
        "OrderedQuantity": 2,
        "Price": 3.25,
    }
    assert (await ln.call("POST", ORDER_LINES, body=line))[0] == 201
    status, _, _ = await ln.call("POST", ORDER_LINES, body={**line, "Line": 20, "Item": "NOPE"})
    assert status == 422
    body = await ln.get(ORDER_LINES, **{"$filter": "PurchaseOrder eq 'ST1'"})
    assert [(r["Line"], r["Sequence"]) for r in body["value"]] == [(10, 0)]
    status, _, _ = await ln.call("GET", f"{ORDER_LINES}(PurchaseOrder='ST1',Line=10)")
    assert status == 400


async def test_writes_land_in_the_company_and_state_shows_them(ln: LnTenant) -> None:
    """State lists records per company: a write with company 100 is not in 200."""
    await ln.call("POST", ITEMS, body={"Item": "NEWITEM", "Description": "Widget"})
    state = await ln.tenant.state()
    companies = state["lines"]["LN"]["companies"]
    assert "NEWITEM" in [row["Item"] for row in companies["100"]["Items"]]
    assert companies["200"]["Items"] == []


async def test_gateway_fault_knobs_reach_ln_and_writes_are_told_apart(ln: LnTenant) -> None:
    """A scripted write fault skips GETs and hits the next POST; rate_429 throttles LN too."""
    await ln.tenant.knobs(script=[{"fault": "5xx", "match": "write"}])
    status, _, _ = await ln.call("GET", BP)
    assert status == 200
    status, _, _ = await ln.call("POST", ITEMS, body={"Item": "F1", "Description": "d"})
    assert status == 503
    await ln.tenant.knobs(rate_429=1.0)
    status, _, _ = await ln.call("GET", BP)
    assert status == 429


async def test_expand_line_refs_brings_a_headers_lines_in_one_answer(ln: LnTenant) -> None:
    """$expand=LineRefs($select=Line) nests an order's lines; an unknown navigation is 400."""
    order = {
        "PurchaseOrder": "ST2",
        "BuyfromBusinessPartner": "BP0000001",
        "OrderDate": "2024-06-01",
    }
    await ln.call("POST", ORDERS, body=order)
    for number in (20, 10):
        line = {
            "PurchaseOrder": "ST2",
            "Line": number,
            "Item": "ITM000001",
            "OrderedQuantity": 1,
            "Price": 1,
        }
        await ln.call("POST", ORDER_LINES, body=line)
    body = await ln.get(
        ORDERS, **{"$filter": "PurchaseOrder eq 'ST2'", "$expand": "LineRefs($select=Line)"}
    )
    assert [ref["Line"] for ref in body["value"][0]["LineRefs"]] == [10, 20]
    assert set(body["value"][0]["LineRefs"][0]) == {"@odata.etag", "Line"}
    status, _, _ = await ln.call("GET", ORDERS, params={"$expand": "Nope"})
    assert status == 400
