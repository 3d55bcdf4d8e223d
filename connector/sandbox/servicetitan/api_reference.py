"""Pricebook (materials, equipment, services), CRM customers, JPM jobs, settings business
units: ``/{pricebook,crm,jpm,settings}/v2/tenant/{tenant}/…``.

Pricebook creates answer 201 with the full record, customer creates 200 with the record
plus its locations and contacts, business-unit PATCH only writes externalData — each as
its spec says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.servicetitan import catalog, records, relations, sales, spec, validation
from connector.sandbox.servicetitan.listing import (
    Filter,
    ListRule,
    export_response,
    find,
    json_body,
    nested,
    one_response,
    page_response,
    path_id,
)
from connector.sandbox.servicetitan.store import Store, public, store_external, with_active
from connector.sandbox.servicetitan.validation import Errors
from connector.sandbox.servicetitan.wire import ApiError, Record
from connector.sandbox.servicetitan.writes import body_errors

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.simulator import Handler, Route, ServiceTitanSimulator

SKUS = {
    kind: ListRule(kind, label, external="filter")
    for kind, label in (
        ("materials", "Material"),
        ("equipment", "Equipment"),
        ("services", "Service"),
    )
}
CUSTOMERS = ListRule("customers", "Customer", external="filter")
JOBS = ListRule(
    "jobs",
    "Job",
    active="none",
    external="filter",
    filters=(
        Filter("customerId", "int", nested("customerId")),
        Filter("businessUnitId", "int", nested("businessUnitId")),
        Filter("invoiceId", "int", nested("invoiceId")),
        Filter("jobStatus", "str", nested("jobStatus")),
        Filter("number", "str", nested("jobNumber")),
        # A job has one appointment (relations): its status, technicians and use.
        Filter("appointmentStatus", "str", relations.appointment_status),
        Filter("technicianId", "int", relations.technician_ids),
        Filter("hasUnusedAppointments", "str", relations.appointment_unused),
    ),
)
BUSINESS_UNITS = ListRule(
    "business_units",
    "Business unit",
    external="guid",
    filters=(Filter("name", "str", nested("name")),),
)


def routes(sim: ServiceTitanSimulator) -> list[Route]:
    store = sim.store
    table: list[Route] = []
    for kind in ("materials", "equipment", "services"):
        table.extend(_sku_routes(sim, kind))

    async def list_customers(request: web.Request) -> web.StreamResponse:
        return page_response(store, CUSTOMERS, request)

    async def get_customer(request: web.Request) -> web.StreamResponse:
        return one_response(store, CUSTOMERS, request)

    async def create_customer(request: web.Request) -> web.StreamResponse:
        body = validation.require(await json_body(request), validation.CUSTOMER_CREATE)
        stamp = store.stamp()
        record = sales.customer(store, stamp, body, created_by=50_000)
        if body.get("externalData") is not None:
            store_external(record, body["externalData"], patch=False)
        for place in body["locations"]:
            location = sales.location(
                store, stamp, record["id"], place, _zone_for(store, place["address"])
            )
            if place.get("externalData") is not None:
                store_external(location, place["externalData"], patch=False)
            record["_locations"].append(location)
        store.insert("customers", record)
        guid = (body.get("externalData") or {}).get("applicationGuid")
        reply = public(record, guid) | {
            "locations": [public(place, guid) for place in record["_locations"]],
            "contacts": record["_contacts"],
        }
        return json_response(reply)

    async def patch_customer(request: web.Request) -> web.StreamResponse:
        record = find(store, "customers", path_id(request), "Customer")
        body = validation.require(await json_body(request), validation.CUSTOMER_PATCH)
        for key in (
            "name",
            "type",
            "doNotMail",
            "doNotService",
            "nationalAccount",
            "active",
            "tagTypeIds",
            "taxExempt",
            "paymentTermId",
            "creditLimit",
            "creditLimitBalance",
        ):
            if key in body:
                record[key] = body[key]
        if "address" in body:
            record["address"] = sales.customer_address(body["address"])
        if body.get("externalData") is not None:
            store_external(record, body["externalData"], patch=True)
        store.touch("customers", record)
        return json_response(
            public(record, (body.get("externalData") or {}).get("applicationGuid"))
        )

    async def export_customers(request: web.Request) -> web.StreamResponse:
        return export_response(store, "customers", request, sim.knobs.export_chunk)

    async def list_jobs(request: web.Request) -> web.StreamResponse:
        return page_response(store, JOBS, request)

    async def get_job(request: web.Request) -> web.StreamResponse:
        return one_response(store, JOBS, request)

    async def export_jobs(request: web.Request) -> web.StreamResponse:
        return export_response(store, "jobs", request, sim.knobs.export_chunk, with_active)

    async def list_units(request: web.Request) -> web.StreamResponse:
        return page_response(store, BUSINESS_UNITS, request)

    async def get_unit(request: web.Request) -> web.StreamResponse:
        return one_response(store, BUSINESS_UNITS, request)

    async def patch_unit(request: web.Request) -> web.StreamResponse:
        record = find(store, "business_units", path_id(request), "Business unit")
        body = validation.require(await json_body(request), validation.EXTERNAL_DATA_ONLY_PATCH)
        if body.get("externalData") is not None:
            store_external(record, body["externalData"], patch=True)
        store.touch("business_units", record)
        return json_response({"id": record["id"]})

    async def export_units(request: web.Request) -> web.StreamResponse:
        return export_response(store, "business_units", request, sim.knobs.export_chunk)

    return [
        *table,
        ("GET", "crm", "customers", list_customers),
        ("POST", "crm", "customers", create_customer),
        ("GET", "crm", "customers/{id:\\d+}", get_customer),
        ("PATCH", "crm", "customers/{id:\\d+}", patch_customer),
        ("GET", "crm", "export/customers", export_customers),
        ("GET", "jpm", "jobs", list_jobs),
        ("GET", "jpm", "jobs/{id:\\d+}", get_job),
        ("GET", "jpm", "export/jobs", export_jobs),
        ("GET", "settings", "business-units", list_units),
        ("GET", "settings", "business-units/{id:\\d+}", get_unit),
        ("PATCH", "settings", "business-units/{id:\\d+}", patch_unit),
        ("GET", "settings", "export/business-units", export_units),
    ]


def _sku_routes(sim: ServiceTitanSimulator, kind: str) -> list[Route]:
    store = sim.store
    rule = SKUS[kind]

    async def list_skus(request: web.Request) -> web.StreamResponse:
        return page_response(store, _priced(rule, request), request)

    async def get_sku(request: web.Request) -> web.StreamResponse:
        return one_response(store, _priced(rule, request), request)

    async def create_sku(request: web.Request) -> web.StreamResponse:
        body = _documented(kind, "POST", kind, await json_body(request), validation.sku_create)
        check_sku(store, kind, body, None)
        record = records.sku(store, store.stamp(), kind, category_links(sim, kind, body))
        if body.get("externalData") is not None:
            store_external(record, body["externalData"], patch=False)
        store.insert(kind, record)
        return json_response(
            written(record, (body.get("externalData") or {}).get("applicationGuid")), 201
        )

    async def patch_sku(request: web.Request) -> web.StreamResponse:
        record = find(store, kind, path_id(request), rule.label)
        body = _documented(
            kind, "PATCH", f"{kind}/{{id}}", await json_body(request), validation.sku_patch
        )
        check_sku(store, kind, body, record["id"])
        records.apply_sku_fields(store, kind, record, category_links(sim, kind, body))
        if body.get("externalData") is not None:
            store_external(record, body["externalData"], patch=True)
        store.touch(kind, record)
        return json_response(
            written(record, (body.get("externalData") or {}).get("applicationGuid"))
        )

    async def export_skus(request: web.Request) -> web.StreamResponse:
        return export_response(store, kind, request, sim.knobs.export_chunk)

    handlers: list[tuple[str, str, Handler]] = [
        ("GET", kind, list_skus),
        ("POST", kind, create_sku),
        ("GET", f"{kind}/{{id:\\d+}}", get_sku),
        ("PATCH", f"{kind}/{{id:\\d+}}", patch_sku),
        ("GET", f"export/{kind}", export_skus),
    ]
    return [(method, "pricebook", path, handler) for method, path, handler in handlers]


def _documented(
    kind: str, method: str, path: str, body: object, shape: Callable[[str], validation.Obj]
) -> Record:
    """``body`` checked against the transcribed shape (messages, business-minded bounds) and
    against the vendor's documented request schema, so nested arrays the transcription does
    not spell out (``equipmentMaterials``, ``serviceMaterials``, ``assets``…) are typed as
    strictly as the spec-driven writes; every problem of both in one 400."""
    errors = validation.check(body, shape(kind))
    op = spec.write_operations()[("pricebook", method, path)]
    if op.request is not None and isinstance(body, dict):
        for field, messages in body_errors("pricebook", op.request, body).items():
            errors.setdefault(field, messages)
    if errors:
        raise ApiError(400, "One or more validation errors occurred.", errors)
    return dict(body) if isinstance(body, dict) else {}


def category_links(sim: ServiceTitanSimulator, kind: str, body: Record) -> Record:
    """A service reads its categories back as ``{id, name, active}`` (the category record);
    materials and equipment keep the ids they were sent."""
    ids = body.get("categories")
    if kind != "services" or not isinstance(ids, list):
        return body
    sources = sim.generic.sources
    linked = []
    for category_id in ids:
        found = sources.find("pricebook", "categories", None, category_id) or {}
        linked.append(
            {
                "id": category_id,
                "name": str(found.get("name") or ""),
                "active": bool(found.get("active", False)),
            }
        )
    return body | {"categories": linked}


def _priced(rule: ListRule, request: web.Request) -> ListRule:
    """Services with ``calculatePrices=true``: ``calculatedPrice`` filled in.

    The tenant has no dynamic pricing rules, so the calculated price is the static one;
    without the flag ServiceTitan leaves ``calculatedPrice`` null.
    """
    if rule.table != "services" or request.query.get("calculatePrices", "").lower() != "true":
        return rule

    def view(record: Record, guid: str | None) -> Record:
        return public(record, guid) | {"calculatedPrice": record["price"]}

    return dataclasses.replace(rule, view=view)


def check_sku(store: Store, kind: str, body: Record, own_id: int | None) -> None:
    errors = sku_errors(store, kind, body, own_id)
    if errors:
        raise ApiError(400, "One or more validation errors occurred.", errors)


def sku_errors(store: Store, kind: str, body: Record, own_id: int | None) -> Errors:
    """The business problems of a SKU body: a code another SKU of ``kind`` uses, a vendor
    link to no vendor."""
    errors: Errors = {}
    code = body.get("code")
    if code is not None:
        for other in store.table(kind).rows.values():
            if other["id"] != own_id and str(other["code"]).lower() == str(code).lower():
                errors["code"] = [
                    f"Code '{code}' is already used by {kind} {other['id']}; codes are unique."
                ]
                break
    links = [("primaryVendor", body.get("primaryVendor"))] + [
        (f"otherVendors[{i}]", link) for i, link in enumerate(body.get("otherVendors") or [])
    ]
    for path, link in links:
        if link is not None and store.table("vendors").get(link["vendorId"]) is None:
            errors[f"{path}.vendorId"] = [
                f"No vendor with id {link['vendorId']} exists in this tenant."
            ]
    return errors


def _zone_for(store: Store, address: Record) -> int | None:
    """The tax zone of a new location (by city, the way the seeded tenant is laid out)."""
    zones = store.table("tax_zones").all()
    for city, _, zone_index in catalog.CITIES:
        if zones and city.lower() == str(address.get("city", "")).lower():
            return int(zones[zone_index % len(zones)]["id"])
    return None


#: Fields of a single service's GET (``calculatePrices``) that the create and update replies'
#: documented schema does not have.
_GET_ONLY = ("calculatedPrice", "useStaticPrices")


def written(record: Record, guid: str | None) -> Record:
    """The reply of a pricebook create/update: the record without the GET-only fields."""
    reply = public(record, guid)
    return {key: value for key, value in reply.items() if key not in _GET_ONLY}
