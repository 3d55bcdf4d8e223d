"""The simulated LN services' ways to write a document in one request, over raw loopback
HTTP: deep insert (a header POSTed with its lines in ``LineRefs``), the JSON ``$batch`` of
OData 4.01 (atomicity groups, per-request answers, ``$<id>`` references), and the
``$metadata`` capability annotations that say which of the two a service offers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_infor_ln import INVOICE_LINES, INVOICES, ORDER_LINES, ORDERS, LnTenant
from tests.sandbox.test_infor_sso import InforTenant

SERVICE = "tfapi.acpInvoice"
CAPS = "@Org.OData.Capabilities.V1."


async def open_ln(start_simulator: StartSimulator, **knobs: Any) -> AsyncIterator[LnTenant]:
    sim = await start_simulator("infor")
    async with aiohttp.ClientSession() as session:
        tenant = await InforTenant.open(session, sim.base_url)
        await tenant.admin(
            "POST", "seed", {"line": "LN", "seed": 3, "suppliers": 5, "items": 5, **knobs}
        )
        await tenant.login()
        yield LnTenant(tenant)


@pytest.fixture
async def ln(start_simulator: StartSimulator) -> AsyncIterator[LnTenant]:
    """LN company 100 with 5 partners and 5 items, deep insert and $batch both offered."""
    async for tenant in open_ln(start_simulator, deep_insert=True, batch=True):
        yield tenant


@pytest.fixture
async def plain(start_simulator: StartSimulator) -> AsyncIterator[LnTenant]:
    """The same, with the knobs at their defaults (neither offered)."""
    async for tenant in open_ln(start_simulator):
        yield tenant


def invoice(number: str = "SI-1", lines: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "TransactionType": "PIN",
        "InvoicefromBusinessPartner": "BP0000001",
        "SupplierInvoice": number,
        "InvoiceDate": "2024-06-12",
        "Currency": "USD",
        "InvoiceAmount": 10 * lines,
        **extra,
    }


def line(number: int, **extra: Any) -> dict[str, Any]:
    return {"LineNumber": number, "Amount": 10, "LedgerAccount": "6000", **extra}


async def rows(ln: LnTenant, entity_set: str) -> list[dict[str, Any]]:
    state = await ln.tenant.admin("GET", "state")
    found: list[dict[str, Any]] = state["lines"]["LN"]["companies"]["100"][entity_set]
    return found


async def test_deep_insert_creates_header_and_lines_in_one_request(ln: LnTenant) -> None:
    """One POST with LineRefs: 201, the header numbered by LN and its lines (keys inherited)
    in the answer, with Location; both tables hold them."""
    body = invoice(LineRefs=[line(1), line(2, CostCenter="CC10")])
    status, created, headers = await ln.call(
        "POST", INVOICES, body=body, headers={"Prefer": "return=representation"}
    )
    assert status == 201, created
    document = created["Document"]
    assert [(r["Document"], r["LineNumber"]) for r in created["LineRefs"]] == [
        (document, 1),
        (document, 2),
    ]
    assert headers["location"].endswith(f"Invoices(TransactionType='PIN',Document={document})")
    assert headers["preference-applied"] == "return=representation"
    assert [r["Document"] for r in await rows(ln, "Invoices")] == [document]
    assert len(await rows(ln, "InvoiceLines")) == 2


async def test_deep_insert_is_atomic_a_bad_line_stores_nothing(ln: LnTenant) -> None:
    """A line with an unknown item (422) or a duplicate key (400) refuses the whole
    document in LN's error shape; neither header nor any line is stored, and the document
    number is not used up."""
    lines = [{"Line": 10, "Item": "ITM000001", "OrderedQuantity": 1, "Price": 2}]
    order = {
        "PurchaseOrder": "PO1",
        "BuyfromBusinessPartner": "BP0000001",
        "OrderDate": "2024-06-12",
    }
    bad = [*lines, {"Line": 20, "Item": "NOPE", "OrderedQuantity": 1, "Price": 2}]
    status, body, _ = await ln.call("POST", ORDERS, body={**order, "LineRefs": bad})
    assert status == 422 and "NOPE" in body["error"]["message"]
    twice = invoice(LineRefs=[line(1), line(1)])
    status, body, _ = await ln.call("POST", INVOICES, body=twice)
    assert status == 400 and "appears twice" in body["error"]["message"]
    assert await rows(ln, "Orders") == [] and await rows(ln, "Lines") == []
    assert await rows(ln, "Invoices") == [] and await rows(ln, "InvoiceLines") == []
    status, created, _ = await ln.call("POST", INVOICES, body=invoice(LineRefs=[line(1)]))
    assert status == 201 and created["Document"] == 1000001


async def test_deep_insert_line_naming_another_header_is_refused(ln: LnTenant) -> None:
    """A nested line whose PurchaseOrder differs from its header's is a 400."""
    order = {
        "PurchaseOrder": "PO1",
        "BuyfromBusinessPartner": "BP0000001",
        "OrderDate": "2024-06-12",
    }
    nested = [
        {"PurchaseOrder": "PO2", "Line": 10, "Item": "ITM000001", "OrderedQuantity": 1, "Price": 2}
    ]
    status, body, _ = await ln.call("POST", ORDERS, body={**order, "LineRefs": nested})
    assert status == 400 and "differs from the header" in body["error"]["message"]


async def test_deep_insert_return_minimal_is_204_with_location(ln: LnTenant) -> None:
    """Prefer return=minimal: 204, no body, Location and OData-EntityId name the header."""
    status, body, headers = await ln.call(
        "POST", INVOICES, body=invoice(LineRefs=[line(1)]), headers={"Prefer": "return=minimal"}
    )
    assert status == 204 and body is None
    assert headers["location"] == headers["odata-entityid"]
    assert headers["location"].endswith("Document=1000001)")


async def test_deep_insert_when_not_offered_is_501_in_the_ln_shape(plain: LnTenant) -> None:
    """With the knob off a nested LineRefs is 501 NotImplemented (admin guide shape with
    error_style ln) and nothing is stored."""
    await plain.tenant.admin("POST", "seed", {"line": "LN", "suppliers": 2, "error_style": "ln"})
    status, body, _ = await plain.call("POST", INVOICES, body=invoice(LineRefs=[line(1)]))
    assert status == 501 and body["Code"] == "NotImplemented"
    assert "Deep insert is not supported" in body["Message"]
    assert await rows(plain, "Invoices") == []


async def test_metadata_announces_what_the_knobs_offer(ln: LnTenant, plain: LnTenant) -> None:
    """$metadata (CSDL JSON) carries BatchSupport/DeepInsertSupport on the container, true
    only where the service offers them, and LineRefs as a navigation property."""
    for tenant, offered in ((ln, True), (plain, False)):
        body = await tenant.get(f"{SERVICE}/$metadata")
        container = body[SERVICE]["Container"]
        assert container[f"{CAPS}DeepInsertSupport"]["Supported"] is offered
        assert container[f"{CAPS}BatchSupport"]["Supported"] is offered
        assert body[SERVICE]["Invoice"]["LineRefs"]["$Kind"] == "NavigationProperty"


async def batch(ln: LnTenant, requests: list[dict[str, Any]], service: str = SERVICE) -> Any:
    status, body, _ = await ln.call("POST", f"{service}/$batch", body={"requests": requests})
    assert status == 200, body
    return body["responses"]


async def test_batch_group_creates_header_and_lines_by_content_id(ln: LnTenant) -> None:
    """One $batch: the header (id h) and lines POSTed to $h/LineRefs in one atomicity group;
    every request gets its own 201 answer, and the lines carry the new document number."""
    requests = [
        {"id": "h", "atomicityGroup": "g", "method": "POST", "url": "Invoices", "body": invoice()},
        *(
            {"id": f"l{n}", "atomicityGroup": "g", "method": "POST", "url": "$h/LineRefs",
             "body": line(n)}
            for n in (1, 2)
        ),
    ]  # fmt: skip
    responses = await batch(ln, requests)
    assert [(r["id"], r["status"]) for r in responses] == [("h", 201), ("l1", 201), ("l2", 201)]
    document = responses[0]["body"]["Document"]
    assert {r["body"]["Document"] for r in responses[1:]} == {document}
    assert len(await rows(ln, "InvoiceLines")) == 2


async def test_batch_group_failure_rolls_back_and_answers_once(ln: LnTenant) -> None:
    """A failing line undoes the group's header and earlier lines; the group answers with
    the one failed response (in the OData error shape), and later requests get none."""
    requests = [
        {"id": "h", "atomicityGroup": "g", "method": "POST", "url": "Invoices", "body": invoice()},
        {"id": "l1", "atomicityGroup": "g", "method": "POST", "url": "$h/LineRefs",
         "body": line(1)},
        {"id": "l2", "atomicityGroup": "g", "method": "POST", "url": "$h/LineRefs",
         "body": line(2, LedgerAccount=None)},
        {"id": "after", "method": "GET", "url": "Invoices"},
    ]  # fmt: skip
    responses = await batch(ln, requests)
    assert [(r["id"], r["status"], r["atomicityGroup"]) for r in responses] == [("l2", 400, "g")]
    assert "LedgerAccount" in responses[0]["body"]["error"]["message"]
    assert await rows(ln, "Invoices") == [] and await rows(ln, "InvoiceLines") == []


async def test_batch_outside_a_group_answers_each_request(ln: LnTenant) -> None:
    """Requests without a group run in order, each answered by id with its own status."""
    order = {
        "PurchaseOrder": "PO7",
        "BuyfromBusinessPartner": "BP0000001",
        "OrderDate": "2024-06-12",
    }
    requests = [
        {"id": "1", "method": "POST", "url": "Orders", "body": order},
        {"id": "2", "method": "POST", "url": "Lines",
         "body": {"PurchaseOrder": "PO7", "Line": 10, "Item": "ITM000002", "OrderedQuantity": 3,
                  "Price": 1.5}},
        {"id": "3", "method": "GET", "url": "Orders('PO7')?$expand=LineRefs", "dependsOn": ["2"]},
    ]  # fmt: skip
    responses = await batch(ln, requests, "tdapi.purPurchaseOrder")
    assert [(r["id"], r["status"]) for r in responses] == [("1", 201), ("2", 201), ("3", 200)]
    assert [r["Line"] for r in responses[2]["body"]["LineRefs"]] == [10]


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([{"id": "1", "method": "POST"}], "url is required"),
        ([{"id": "1", "method": "GET", "url": "Invoices"}] * 2, "unique"),
        ([{"id": "1", "method": "GET", "url": "Invoices", "dependsOn": ["9"]}], "dependsOn"),
        ([{"id": "1", "method": "POST", "url": "$9/LineRefs", "body": line(1)}], "$9"),
        (
            [
                {"id": "1", "atomicityGroup": "g", "method": "GET", "url": "Invoices"},
                {"id": "2", "method": "GET", "url": "Invoices"},
                {"id": "3", "atomicityGroup": "g", "method": "GET", "url": "Invoices"},
            ],
            "adjacent",
        ),
        (
            [{"id": "1", "method": "GET", "url": "../tdapi.purPurchaseOrder/Orders"}],
            "not a resource",
        ),
    ],
)
async def test_malformed_batches_are_400(
    ln: LnTenant, requests: list[dict[str, Any]], message: str
) -> None:
    """Missing url, duplicate ids, unknown dependencies or references, split groups and
    another service's URL make the whole batch a 400 in the OData error shape."""
    status, body, _ = await ln.call("POST", f"{SERVICE}/$batch", body={"requests": requests})
    assert status == 400 and message in body["error"]["message"], body


async def test_batch_wants_json_and_is_absent_when_not_offered(
    ln: LnTenant, plain: LnTenant
) -> None:
    """A multipart batch is 415; a service not offering $batch answers 404 for it."""
    status, body, _ = await ln.call(
        "POST",
        f"{SERVICE}/$batch",
        body=None,
        headers={"Content-Type": "multipart/mixed;boundary=b"},
    )
    assert status == 415 and "JSON batch format" in body["error"]["message"]
    status, body, _ = await plain.call("POST", f"{SERVICE}/$batch", body={"requests": []})
    assert status == 404


async def test_lines_can_be_created_under_an_existing_header(ln: LnTenant) -> None:
    """POST Invoices(...)/LineRefs adds a line to that header; an unknown header is 404."""
    status, created, _ = await ln.call("POST", INVOICES, body=invoice())
    path = f"{INVOICES}(TransactionType='PIN',Document={created['Document']})/LineRefs"
    status, added, _ = await ln.call("POST", path, body=line(1))
    assert status == 201 and added["Document"] == created["Document"]
    status, body, _ = await ln.call(
        "POST", f"{INVOICES}(TransactionType='PIN',Document=1)/LineRefs", body=line(1)
    )
    assert status == 404
    assert [r["LineNumber"] for r in await rows(ln, "InvoiceLines")] == [1]
    assert ORDER_LINES and INVOICE_LINES
