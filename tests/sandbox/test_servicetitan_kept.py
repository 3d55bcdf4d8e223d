"""Writes whose effect lands on other records read back through the documented GETs
(connector/sandbox/servicetitan/kept.py): payment status, budget codes, client-specific
pricing, pricebook images and the bulk pricebook writes. Every reply, read or write, is
validated against the vendor's OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from openapi_core.testing import MockRequest, MockResponse

from connector.sandbox.servicetitan import spec
from tests.conftest import StartSimulator
from tests.sandbox.test_servicetitan import ST, connect
from tests.sandbox.test_servicetitan_contract import HOST, openapi
from tests.sandbox.test_servicetitan_writes_contract import _links, _rows, _send, valid_body

CODES = "work-breakdown-structure/budget-codes"


async def _read(st: ST, module: str, path: str, **params: Any) -> Any:
    """A documented GET's 200 body, validated against the documented response schema."""
    url = st.url(module, path)
    async with st.session.get(url, params=params or None, headers=st.headers()) as reply:
        raw, status = await reply.read(), reply.status
    assert status == 200, raw[:300]
    request = MockRequest(HOST, "get", f"/{module}/v2/tenant/{st.tenant}/{path}", args=params)
    openapi(module).validate_response(
        request, MockResponse(raw, status_code=200, content_type="application/json")
    )
    return json.loads(raw)


async def _write(
    st: ST, module: str, method: str, template: str, body: Any, path: str | None = None
) -> tuple[int, Any]:
    """A documented write (``path`` fills ``template``'s ids), status and body checked."""
    op = spec.write_operations()[(module, method, template)]
    return await _send(st, op, path or template, body)


async def test_payment_status_shows_on_the_payments(start_simulator: StartSimulator) -> None:
    """Payments given a status read it back (syncStatus in the list, statuses filter and
    export; status in a payment update's reply); one unknown id refuses the batch."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        listed = _rows(await _read(st, "accounting", "payments", pageSize=50))
        payments = [p for p in listed if p["syncStatus"] != "Posted"][:3]
        ids = [p["id"] for p in payments[:2]]
        status, _ = await _write(
            st, "accounting", "POST", "payments/status", {"paymentIds": ids, "status": "Posted"}
        )
        assert status == 200
        listed = _rows(await _read(st, "accounting", "payments", statuses="Posted", pageSize=5000))
        found = {p["id"]: p for p in listed}
        assert set(ids) <= set(found), found.keys()
        assert all(found[i]["syncStatus"] == "Posted" for i in ids)
        assert all(
            found[i]["modifiedOn"] > p["modifiedOn"] for i, p in zip(ids, payments, strict=False)
        )
        update = spec.write_operations()[("accounting", "PATCH", "payments/{id}")]
        body = valid_body("accounting", update.request, "payment", _links(st))
        path = f"payments/{ids[0]}"
        status, patched = await _write(st, "accounting", "PATCH", update.path, body, path)
        assert status == 200 and patched["status"] == body["status"], patched
        after = _rows(await _read(st, "accounting", "payments", ids=str(ids[0])))
        assert after[0]["syncStatus"] == body["status"], after
        body["status"] = "Posted"
        status, patched = await _write(st, "accounting", "PATCH", update.path, body, path)
        assert status == 200 and patched["status"] == "Posted", patched
        feed = _rows(await _read(st, "accounting", "export/payments"))
        assert {p["id"]: p["syncStatus"] for p in feed if p["id"] in ids} == dict.fromkeys(
            ids, "Posted"
        )
        body = {"paymentIds": [payments[2]["id"], 987654321], "status": "Exported"}
        status, problem = await _write(st, "accounting", "POST", "payments/status", body)
        assert status == 400 and "paymentIds[1]" in problem["errors"], problem
        assert "987654321" in problem["errors"]["paymentIds[1]"][0]
        again = _rows(await _read(st, "accounting", "payments", ids=str(payments[2]["id"])))
        assert again[0]["syncStatus"] == payments[2]["syncStatus"]


async def test_budget_codes_created_singly_or_in_batches_are_listed(
    start_simulator: StartSimulator,
) -> None:
    """Partial, full and batch budget-code creates are listed with the segments they were
    given; a batch with one bad entry names it and creates nothing."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        before = len(_rows(await _read(st, "jpm", CODES, pageSize=5000)))
        binding = {"segments": [{"segmentId": 41, "segmentItemId": 4107}]}
        status, made = await _write(st, "jpm", "POST", f"{CODES}/partial", binding)
        assert status == 200, made
        code = made["code"]
        listed = _rows(await _read(st, "jpm", CODES, budgetCodeIds=str(code["id"])))
        assert listed == [code], listed
        assert [(s["segmentId"], s["segmentItemId"]) for s in code["segments"]] == [(41, 4107)]
        by_item = _rows(await _read(st, "jpm", CODES, segmentItemIds="4107", pageSize=5000))
        assert code["id"] in {c["id"] for c in by_item}

        batch = [{"segments": [{"segmentId": 42, "segmentItemId": n}]} for n in (1, 2)]
        status, made = await _write(st, "jpm", "POST", f"{CODES}/partial/batch", batch)
        assert status == 200 and len(made["codes"]) == 2, made
        status, made = await _write(st, "jpm", "POST", f"{CODES}/batch", [{"segmentItemIds": [9]}])
        assert status == 200 and len(made["codes"]) == 1, made
        status, made = await _write(st, "jpm", "POST", f"{CODES}/batch", None)
        assert status == 200 and made == {"codes": []}, made
        assert len(_rows(await _read(st, "jpm", CODES, pageSize=5000))) == before + 4

        bad = [*batch, {"segments": [{"segmentId": "x"}]}]
        status, problem = await _write(st, "jpm", "POST", f"{CODES}/partial/batch", bad)
        assert status == 400 and "[2].segments[0].segmentId" in problem["errors"], problem
        assert len(_rows(await _read(st, "jpm", CODES, pageSize=5000))) == before + 4


async def test_client_specific_pricing_exceptions_are_kept(
    start_simulator: StartSimulator,
) -> None:
    """A rate sheet's new exceptions are listed with each SKU's type; an exception for a
    SKU not in the pricebook is a 400 naming it and changes nothing."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        sheet = _rows(await _read(st, "pricebook", "clientspecificpricing", pageSize=1))[0]
        material = _rows(await _read(st, "pricebook", "materials", pageSize=1))[0]
        service = _rows(await _read(st, "pricebook", "services", pageSize=1))[0]
        sent = [
            {"skuId": material["id"], "value": 12.5, "valueType": "Percent"},
            {"skuId": service["id"], "value": 99, "valueType": "FlatPrice"},
        ]
        template, path = (
            "clientspecificpricing/{rateSheetId}",
            f"clientspecificpricing/{sheet['id']}",
        )
        status, reply = await _write(st, "pricebook", "PATCH", template, {"exceptions": sent}, path)
        assert status == 200 and reply == {"exceptions": sent}, reply
        listed = _rows(await _read(st, "pricebook", "clientspecificpricing", ids=str(sheet["id"])))
        assert listed[0]["exceptions"] == [
            sent[0] | {"skuType": "Material"},
            sent[1] | {"skuType": "Service"},
        ]
        wrong = {"exceptions": [{"skuId": 987654321, "value": 1, "valueType": "Dollar"}]}
        status, problem = await _write(st, "pricebook", "PATCH", template, wrong, path)
        assert status == 400 and "exceptions[0].skuId" in problem["errors"], problem
        again = _rows(await _read(st, "pricebook", "clientspecificpricing", ids=str(sheet["id"])))
        assert again[0]["exceptions"] == listed[0]["exceptions"]


async def test_uploaded_images_are_downloadable(start_simulator: StartSimulator) -> None:
    """An uploaded image (JSON or multipart) answers the documented 302 to its bytes; an
    unknown path is a 404 problem and a path outside Images/ a 400 naming it."""
    async with connect(start_simulator) as st:
        status, reply = await _write(st, "pricebook", "POST", "images", {"file": "GIF89a-bytes"})
        assert status == 201 and reply["path"].startswith("Images/"), reply
        form = aiohttp.FormData()
        form.add_field("file", b"\x89PNG\r\n", filename="unit.png", content_type="image/png")
        url = st.url("pricebook", "images")
        async with st.session.post(url, data=form, headers=st.headers()) as answer:
            assert answer.status == 201
            png_path = (await answer.json())["path"]
        for path, content, kind in (
            (reply["path"], b"GIF89a-bytes", "application/octet-stream"),
            (png_path, b"\x89PNG\r\n", "image/png"),
        ):
            async with st.session.get(
                url, params={"path": path}, headers=st.headers(), allow_redirects=False
            ) as answer:
                assert answer.status == 302
                location = answer.headers["Location"]
            async with st.session.get(location) as download:
                assert download.status == 200 and download.content_type == kind
                assert await download.read() == content
        for path, status in (("Images/none.png", 404), ("elsewhere.png", 400)):
            async with st.session.get(url, params={"path": path}, headers=st.headers()) as answer:
                assert answer.status == status
                assert "path" in (await answer.json())["errors"]


def _bulk_entry(st: ST, method: str, section: str, seed: str, **fields: Any) -> Any:
    """One generated entry of a bulk pricebook body, with ``fields`` set."""
    op = spec.write_operations()[("pricebook", method, "pricebook")]
    item = spec.resolve("pricebook", op.request or {})["properties"][section]["items"]
    return valid_body("pricebook", item, seed, _links(st)) | fields


async def test_bulk_pricebook_writes_show_on_the_items(start_simulator: StartSimulator) -> None:
    """A bulk create answers each customId with its new id, links resolve customIds, and the
    items read back as sent; a bulk update changes them; a duplicate code, a dangling link
    or an unknown id refuses the whole body."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        material = _rows(await _read(st, "pricebook", "materials", pageSize=1))[0]
        # The service links a seeded material by id and the one created here by customId.
        links = [{"skuId": material["id"], "quantity": 2.0}, {"customId": "m1", "quantity": 3.0}]
        body = {
            "materials": [_bulk_entry(st, "POST", "materials", "m", code="BLK-M1", customId="m1")],
            "services": [
                _bulk_entry(
                    st,
                    "POST",
                    "services",
                    "s",
                    code="BLK-S1",
                    customId="s1",
                    serviceMaterials=links,
                )
            ],
            "discountAndFees": [
                _bulk_entry(st, "POST", "discountAndFees", "d", code="BLK-D1", customId="d1")
            ],
        }
        status, made = await _write(st, "pricebook", "POST", "pricebook", body)
        assert status == 201, made
        assert [m["customId"] for m in made["materials"]] == ["m1"], made
        material_id = made["materials"][0]["id"]
        assert (await _read(st, "pricebook", f"materials/{material_id}"))["code"] == "BLK-M1"
        service = await _read(st, "pricebook", f"services/{made['services'][0]['id']}")
        assert service["code"] == "BLK-S1", service
        assert service["serviceMaterials"] == [
            links[0],
            {"skuId": material_id, "quantity": 3.0},
        ], service
        fee = await _read(st, "pricebook", f"discounts-and-fees/{made['discountAndFees'][0]['id']}")
        assert fee["code"] == "BLK-D1", fee

        count = len(_rows(await _read(st, "pricebook", "materials", pageSize=5000)))
        twice = [_bulk_entry(st, "POST", "materials", n, code="BLK-TWICE") for n in "ab"]
        status, problem = await _write(st, "pricebook", "POST", "pricebook", {"materials": twice})
        assert status == 400 and "materials[1].code" in problem["errors"], problem
        dangling = _bulk_entry(
            st, "POST", "services", "x", serviceMaterials=[{"customId": "nope", "quantity": 1}]
        )
        status, problem = await _write(
            st, "pricebook", "POST", "pricebook", {"services": [dangling]}
        )
        assert status == 400, problem
        assert "services[0].serviceMaterials[0].customId" in problem["errors"], problem
        assert len(_rows(await _read(st, "pricebook", "materials", pageSize=5000))) == count

        update = _bulk_entry(
            st, "PATCH", "materials", "u", id=material_id, code="BLK-M1-R", price=42.0
        )
        status, _ = await _write(st, "pricebook", "PATCH", "pricebook", {"materials": [update]})
        assert status == 200
        found = await _read(st, "pricebook", f"materials/{material_id}")
        assert (found["code"], found["price"]) == ("BLK-M1-R", 42.0), found
        unknown = update | {"id": 987654321}
        status, problem = await _write(
            st, "pricebook", "PATCH", "pricebook", {"materials": [unknown]}
        )
        assert status == 400 and "materials[0].id" in problem["errors"], problem
