"""The simulator's writes against the vendor's own OpenAPI documents.

For every documented POST/PUT/PATCH/DELETE of the six simulated modules (hand-built or
served from the spec), a body generated from the documented request schema must answer a
documented 2xx with a body valid for the documented response schema (openapi-core); the
same body with one field of the wrong type must answer 400 naming that field. A created
record must then be readable through the documented GET by id, and a deleted one gone.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from openapi_core.testing import MockRequest, MockResponse

from connector.sandbox.servicetitan import spec
from connector.sandbox.servicetitan.fake import Links, Maker
from connector.sandbox.servicetitan.spec import Schema, WriteOperation
from tests.conftest import StartSimulator
from tests.sandbox.test_servicetitan import ST, connect
from tests.sandbox.test_servicetitan_contract import HOST, openapi

WRITES = sorted(spec.write_operations().values(), key=lambda op: (op.module, op.path, op.method))
#: Hand-built writes with a business rule a schema-only body can break; their generated
#: bodies are made to meet the documented precondition (:func:`_meet_rules`), and
#: ``test_business_rule_refusals_name_the_field`` pins the refusals themselves.
RULED = {
    "crm:POST:customers",
    "inventory:POST:purchase-orders",
    "inventory:PATCH:purchase-orders/{id}",
    "inventory:POST:receipts",
}
def _id(op: WriteOperation) -> str:
    return f"{op.module}:{op.method}:{op.path}"


def valid_body(module: str, schema: Schema | None, seed: str, links: Links | None = None) -> Any:
    """A body for ``schema``; foreign keys from ``links`` (the tenant's seeded records)."""
    if schema is None:
        return None
    return Maker(module, links or Links()).conform(schema, None, random.Random(seed))


def _links(st: ST) -> Links:
    sim: Any = st.sim
    links: Links = sim.generic.sources.links()
    return links


def _kinds(module: str, schema: Schema) -> set[str]:
    schema = spec.resolve(module, schema)
    members = schema.get("oneOf") or schema.get("anyOf") or ()
    kinds = set(spec.types_of(schema))
    for member in members:
        kinds |= _kinds(module, member)
    if not kinds and "properties" in schema:
        kinds.add("object")
    if not kinds and "items" in schema:
        kinds.add("array")
    if not kinds and "enum" in schema:
        kinds.add("string")
    return kinds


def wrong_body(module: str, schema: Schema | None, body: Any) -> tuple[Any, str] | None:
    """``body`` with one field of the wrong type, and the field's name ('$' for the root)."""
    if schema is None:
        return None
    resolved = spec.resolve(module, schema)
    kinds = _kinds(module, resolved)
    if "object" not in kinds or not isinstance(body, dict):
        return ("x" if "string" not in kinds else 12345), "$"
    props: dict[str, Schema] = resolved.get("properties", {})
    required = list(resolved.get("required", ()))
    for name in [*required, *(n for n in props if n not in required)]:
        prop_kinds = _kinds(module, props[name]) - {"null"}
        if prop_kinds and "string" not in prop_kinds:
            return body | {name: "x"}, name
    for name in [*required, *props]:
        prop_kinds = _kinds(module, props[name]) - {"null"}
        if prop_kinds == {"string"}:
            return body | {name: 12345}, name
    return None


def _rows(body: Any) -> list[Any]:
    rows = body.get("data") if isinstance(body, dict) else body
    return rows if isinstance(rows, list) else []


async def _first_id(st: ST, op: WriteOperation, collection: str, name: str) -> str | None:
    """The id of the first record ``collection`` lists (its ``id``, or the field the
    placeholder ``name`` names), if it lists any of the right type."""
    status, body = await st.call("GET", op.module, collection, pageSize=5)
    rows = _rows(body) if status == 200 else []
    first = rows[0] if rows and isinstance(rows[0], dict) else {}
    found = first.get("id", first.get(name))
    if found is not None and (name not in op.integer_path_params or isinstance(found, int)):
        return str(found)
    return None


async def _fill(st: ST, op: WriteOperation) -> str:
    """The path with real ids: each placeholder takes the first id its collection lists,
    else the id of a record created through the collection's documented POST, else 1."""
    template = op.path.split("/")
    parts = list(template)
    for index, part in enumerate(template):
        if not part.startswith("{"):
            continue
        name = part.strip("{}")
        collection = "/".join(parts[:index])
        value = await _first_id(st, op, collection, name)
        create = spec.write_operations().get((op.module, "POST", "/".join(template[:index])))
        if value is None and create is not None:
            made = valid_body(op.module, create.request, _id(create), _links(st))
            status, reply = await st.call("POST", op.module, collection, json=made)
            if status < 300 and isinstance(reply, dict) and "id" in reply:
                value = str(reply["id"])
            else:
                value = await _first_id(st, op, collection, name)
        parts[index] = value or "1"
    return "/".join(parts)


async def _send(st: ST, op: WriteOperation, path: str, body: Any) -> tuple[int, Any]:
    url = st.url(op.module, path)
    async with st.session.request(op.method, url, json=body, headers=st.headers()) as reply:
        raw = await reply.read()
        status, content_type = reply.status, reply.content_type
    where = f"{op.method} {op.module}/{path}"
    documented = spec.document(op.module)["paths"][f"/tenant/{{tenant}}/{op.path}"]
    assert str(status) in documented[op.method.lower()]["responses"], (
        f"{where}: undocumented status {status}: {raw[:300]!r}"
    )
    if raw:
        assert content_type == "application/json", f"{where}: {content_type}"
    request = MockRequest(HOST, op.method.lower(), f"/{op.module}/v2/tenant/{st.tenant}/{path}")
    response = MockResponse(raw, status_code=status, content_type=content_type)
    try:
        openapi(op.module).validate_response(request, response)
    except Exception as error:
        cause = getattr(error, "__cause__", None)
        details = [
            f"{list(e.absolute_path)}: {e.message}" for e in getattr(cause, "schema_errors", ())
        ]
        raise AssertionError(f"{where}: {error}; {details[:5]}; {raw[:300]!r}") from None
    return status, (json.loads(raw) if raw else None)


#: Bulk pricebook sections → the collection their entries' ids name.
BULK_SECTIONS = {
    "services": "services",
    "equipment": "equipment",
    "materials": "materials",
    "discountAndFees": "discounts-and-fees",
}


async def _existing(st: ST, op: WriteOperation, body: Any) -> Any:
    """A body naming records that exist: custom fields and export marks on the first
    record, a payment status on the first payment, a bulk pricebook update on the first
    records of each section."""
    if _id(op) == "accounting:POST:payments/status":
        first = await _first(st, "accounting", "payments")
        return body | {"paymentIds": [first["id"]]}
    if _id(op) == "pricebook:PATCH:pricebook":
        for section, collection in BULK_SECTIONS.items():
            rows = _rows(await st.get("pricebook", collection, pageSize=50))
            pairs = zip(body.get(section) or [], rows, strict=False)
            body[section] = [entry | {"id": row["id"]} for entry, row in pairs]
        return body
    last = op.path.rsplit("/", 1)[-1]
    if last not in ("custom-fields", "markasexported"):
        return body
    collection = op.path.rsplit("/", 1)[0]
    status, listed = await st.call("GET", op.module, collection, pageSize=5)
    rows = _rows(listed) if status == 200 else []
    if not rows:
        status, listed = await st.call("GET", op.module, f"export/{collection}")
        rows = _rows(listed) if status == 200 else []
    ids = [row["id"] for row in rows if isinstance(row, dict) and "id" in row]
    if not ids:
        return body
    if isinstance(body, dict) and isinstance(body.get("operations"), list):
        for operation in body["operations"]:
            operation["objectId"] = ids[0]
    if isinstance(body, list):
        for entry in body:
            for name in entry:
                if name.endswith("Id") and isinstance(entry[name], int):
                    entry[name] = ids[0]
    return body


OPEN_PO = ("Pending", "Sent", "PartiallyReceived")
EDITABLE_PO = ("Pending", "Sent")


async def _purchase_order(st: ST, statuses: tuple[str, ...]) -> dict[str, Any]:
    """The first seeded purchase order in one of ``statuses``."""
    orders = _rows(await st.get("inventory", "purchase-orders", pageSize=5000))
    return next(po for po in orders if po["status"] in statuses and po["items"])


async def _meet_rules(st: ST, op: WriteOperation, path: str, body: Any) -> tuple[str, Any]:
    """The path and body of a :data:`RULED` write made to meet its documented precondition:
    a customer gets a location, a purchase order a seeded type (and, patched, an editable
    order's own item ids), a receipt an open order and that order's lines."""
    name = _id(op)
    if name not in RULED:
        return path, body
    if name == "crm:POST:customers" and not body["locations"]:
        schema = spec.resolve("crm", spec.resolve("crm", op.request or {}))
        item = schema["properties"]["locations"]["items"]
        body["locations"] = [valid_body("crm", item, "location", _links(st))]
    elif name.startswith("inventory:") and "purchase-orders" in name:
        types = _rows(await st.get("inventory", "purchase-order-types", pageSize=50))
        body["typeId"] = next(t["id"] for t in types if t["active"])
        if op.method == "PATCH":
            po = await _purchase_order(st, EDITABLE_PO)
            path = f"purchase-orders/{po['id']}"
            lines = zip(body["items"], po["items"], strict=False)
            body["items"] = [item | {"id": line["id"]} for item, line in lines]
    elif name == "inventory:POST:receipts":
        po = await _purchase_order(st, OPEN_PO)
        body["purchaseOrderId"] = po["id"]
        lines = zip(body["items"], po["items"], strict=False)
        body["items"] = [
            item | {"purchaseOrderItemId": line["id"], "skuId": line["skuId"]}
            for item, line in lines
        ]
    return path, body


def _by_id(op: WriteOperation, path: str) -> str | None:
    """The documented GET by id for the record a write created or deleted, if any."""
    if op.method == "POST":
        template = spec.template_key(op.path + "/{id}")
    else:
        template = spec.template_key(op.path)
    for found in spec.operations().values():
        if found.module == op.module and spec.template_key(found.path) == template:
            last = found.path.rsplit("/", 1)[-1].strip("{}")
            if found.shape == "object" and last in found.integer_path_params:
                return found.path
    return None


@pytest.mark.parametrize("op", WRITES, ids=[_id(op) for op in WRITES])
async def test_write_answers_as_documented(
    start_simulator: StartSimulator, op: WriteOperation
) -> None:
    """A documented body answers a documented 2xx, a wrong-typed field a 400 naming it."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        await st.knobs(rate_limit_per_s=0)
        path = await _fill(st, op)
        body = await _existing(st, op, valid_body(op.module, op.request, _id(op), _links(st)))
        path, body = await _meet_rules(st, op, path, body)
        wrong = wrong_body(op.module, op.request, body)
        if wrong is not None:
            status, reply = await _send(st, op, path, wrong[0])
            assert status == 400, f"{op.method} {path} accepted {wrong[1]} of the wrong type"
            assert any(wrong[1] in key for key in reply["errors"]), reply
        listed = spec.operations().get((op.module, op.path))
        counts = op.method == "POST" and listed is not None and listed.shape in ("page", "array")
        before = len(_rows(await st.get(op.module, path, pageSize=5000))) if counts else 0
        status, reply = await _send(st, op, path, body)
        assert 200 <= status < 300, f"{op.method} {path}: {status} {reply}"
        if counts:
            after = len(_rows(await st.get(op.module, path, pageSize=5000)))
            assert after == before + 1, f"{path}: {before} rows before the POST, {after} after"
        by_id = _by_id(op, path)
        if by_id is None:
            return
        if op.method == "POST" and isinstance(reply, dict) and isinstance(reply.get("id"), int):
            status, found = await st.call("GET", op.module, f"{path}/{reply['id']}")
            assert status == 200 and found["id"] == reply["id"], (status, found)
        elif op.method == "DELETE":
            status, found = await st.call("GET", op.module, path)
            assert status == 404, f"{path} still readable after DELETE: {found}"


async def _first(st: ST, module: str, path: str) -> Any:
    return _rows(await st.get(module, path, pageSize=1))[0]


async def test_spec_driven_writes_share_storage_with_the_reads(
    start_simulator: StartSimulator,
) -> None:
    """A created lead is listed and read by id, patched, and its dismissal sets its status;
    a deleted category is gone from the list; an absent record is a 404 problem."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        await st.knobs(rate_limit_per_s=0)
        create = spec.write_operations()[("crm", "POST", "leads")]
        body = valid_body("crm", create.request, "lead", _links(st))
        status, lead = await st.call("POST", "crm", "leads", json=body)
        assert status == 200, lead
        listed = _rows(await st.get("crm", "leads", pageSize=5000))
        assert lead["id"] in {row["id"] for row in listed}
        found = await st.get("crm", f"leads/{lead['id']}")
        assert found["createdOn"] == found["modifiedOn"] == lead["createdOn"]
        assert found["summary"] == body["summary"]

        status, patched = await st.call(
            "PATCH", "crm", f"leads/{lead['id']}", json={"summary": "Furnace quote"}
        )
        assert status == 200 and patched["summary"] == "Furnace quote", patched
        found = await st.get("crm", f"leads/{lead['id']}")
        assert found["summary"] == "Furnace quote"
        assert found["modifiedOn"] > found["createdOn"]

        status, _ = await st.call(
            "POST", "crm", f"leads/{lead['id']}/dismiss", json={"dismissingReasonId": 1}
        )
        assert status == 200
        assert (await st.get("crm", f"leads/{lead['id']}"))["status"] == "Dismissed"

        status, form = await st.call("POST", "crm", "leads/form", json={"name": "Ana Ruiz"})
        assert status == 200, form
        found = await st.get("crm", f"leads/{form['leadId']}")
        assert found["leadCustomerName"] == "Ana Ruiz" and found["status"] == "Open", found

        status, problem = await st.call("PATCH", "crm", "leads/987654321", json={})
        assert status == 404 and problem["status"] == 404 and problem["errors"], problem

        reason = {"reasonId": 1, "memo": "Customer asked"}
        appointment = await _first(st, "jpm", "appointments")
        status, _ = await st.call(
            "PUT", "jpm", f"appointments/{appointment['id']}/hold", json=reason
        )
        assert status == 200
        assert (await st.get("jpm", f"appointments/{appointment['id']}"))["status"] == "Hold"
        status, _ = await st.call("DELETE", "jpm", f"appointments/{appointment['id']}/hold")
        assert status == 200
        found = await st.get("jpm", f"appointments/{appointment['id']}")
        assert found["status"] == "Scheduled"
        for method, confirmed in (("PUT", True), ("DELETE", False)):
            status, _ = await st.call(
                method, "jpm", f"appointments/{appointment['id']}/confirmation"
            )
            assert status == 200
            found = await st.get("jpm", f"appointments/{appointment['id']}")
            assert found["isConfirmed"] is confirmed

        job = await _first(st, "jpm", "jobs")
        status, _ = await st.call("PUT", "jpm", f"jobs/{job['id']}/cancel", json=reason)
        assert status == 200
        assert (await st.get("jpm", f"jobs/{job['id']}"))["jobStatus"] == "Canceled"
        status, _ = await st.call("PUT", "jpm", f"jobs/{job['id']}/remove-cancellation")
        assert status == 200
        assert (await st.get("jpm", f"jobs/{job['id']}"))["jobStatus"] == "Scheduled"

        category = await _first(st, "pricebook", "categories")
        status, _ = await st.call("DELETE", "pricebook", f"categories/{category['id']}")
        assert status == 204
        listed = _rows(await st.get("pricebook", "categories", pageSize=5000))
        assert category["id"] not in {row["id"] for row in listed}
        status, _ = await st.call("DELETE", "pricebook", f"categories/{category['id']}")
        assert status == 404


async def test_a_bad_body_is_a_problem_naming_every_field(
    start_simulator: StartSimulator,
) -> None:
    """Every wrong-typed or missing field of one body is named in a single 400 problem."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        status, problem = await st.call(
            "POST", "jpm", "projects", json={"customerId": "x", "name": 5}
        )
        assert status == 400, problem
        assert {"customerId", "name"} <= set(problem["errors"]), problem
        assert problem["title"] == "One or more validation errors occurred."
        status, problem = await st.call("POST", "crm", "leads", json={})
        assert status == 400
        required = spec.resolve(
            "crm", spec.write_operations()[("crm", "POST", "leads")].request or {}
        ).get("required", [])
        assert set(required) <= set(problem["errors"]), problem


async def test_custom_fields_and_export_marks_reach_the_records(
    start_simulator: StartSimulator,
) -> None:
    """Custom fields and export marks written in bulk show on the records' GET."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        memo = await _first(st, "accounting", "credit-memos")
        change = {
            "operations": [{"objectId": memo["id"], "customFields": [{"name": "PO", "value": "7"}]}]
        }
        status, _ = await st.call("PATCH", "accounting", "credit-memos/custom-fields", json=change)
        assert status == 200
        status, reply = await st.call(
            "POST", "accounting", "credit-memos/markasexported", json=[{"creditMemoId": memo["id"]}]
        )
        assert status == 200 and reply[0]["success"] is True, reply
        listed = _rows(await st.get("accounting", "credit-memos", pageSize=5000))
        found = next(row for row in listed if row["id"] == memo["id"])
        assert {"name": "PO", "value": "7"} in found["customFields"], found
        assert found["syncStatus"] == "Exported", found
        status, problem = await st.call(
            "PATCH",
            "accounting",
            "credit-memos/custom-fields",
            json={"operations": [{"objectId": 987654321, "customFields": []}]},
        )
        assert status == 400 and "operations[0].objectId" in problem["errors"], problem


async def test_job_attachment_and_customer_tags_change_those_records(
    start_simulator: StartSimulator,
) -> None:
    """Attaching a job to a project and tagging customers show on the job and customers."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        job = await _first(st, "jpm", "jobs")
        project = await _first(st, "jpm", "projects")
        status, _ = await st.call("POST", "jpm", f"projects/detach-job/{job['id']}")
        assert status == 200
        assert (await st.get("jpm", f"jobs/{job['id']}"))["projectId"] is None
        status, _ = await st.call("POST", "jpm", f"projects/{project['id']}/attach-job/{job['id']}")
        assert status == 200
        assert (await st.get("jpm", f"jobs/{job['id']}"))["projectId"] == project["id"]

        customer = await _first(st, "crm", "customers")
        tags = {"customerIds": [customer["id"]], "tagTypeIds": [4242]}
        status, _ = await st.call("PUT", "crm", "tags", json=tags)
        assert status == 200
        assert 4242 in (await st.get("crm", f"customers/{customer['id']}"))["tagTypeIds"]
        status, _ = await st.call("DELETE", "crm", "tags", json=tags)
        assert status == 200
        assert 4242 not in (await st.get("crm", f"customers/{customer['id']}"))["tagTypeIds"]


async def test_business_rule_refusals_name_the_field(start_simulator: StartSimulator) -> None:
    """A documented body that breaks a business rule (no location, an unknown purchase-order
    type, a receipt on a received order) is a 400 ApiErrorResponse naming the field."""
    async with connect(start_simulator) as st:
        await st.seed(1)
        await st.knobs(rate_limit_per_s=0)
        writes = spec.write_operations()
        received = next(
            po
            for po in _rows(await st.get("inventory", "purchase-orders", pageSize=5000))
            if po["status"] == "Received"
        )
        editable = await _purchase_order(st, EDITABLE_PO)
        cases = [
            (("crm", "POST", "customers"), "customers", {"locations": []}, "locations"),
            (("inventory", "POST", "purchase-orders"), None, {"typeId": 987654}, "typeId"),
            (("inventory", "PATCH", "purchase-orders/{id}"), None, {"typeId": 987654}, "typeId"),
            (
                ("inventory", "POST", "receipts"),
                "receipts",
                {"purchaseOrderId": received["id"]},
                "purchaseOrderId",
            ),
        ]
        for key, path, breaking, field in cases:
            op = writes[key]
            meet_path, body = await _meet_rules(
                st, op, path or op.path, valid_body(op.module, op.request, _id(op), _links(st))
            )
            if op.method == "PATCH":
                meet_path = f"purchase-orders/{editable['id']}"
            status, problem = await _send(st, op, meet_path, body | breaking)
            assert status == 400, (key, status, problem)
            assert problem["title"] == "One or more validation errors occurred.", problem
            assert problem["status"] == 400 and problem["traceId"], problem
            messages = problem["errors"].get(field)
            assert messages and field in messages[0], (key, problem)
