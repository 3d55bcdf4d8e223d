"""Documented writes whose effect lands on records other than their path's own, kept where
the documented GETs read them (a client that reads back what it wrote sees it):

* ``POST accounting payments/status`` sets each named payment's status — the
  Pending/Posted/Exported state the payment model calls ``syncStatus`` — shown by
  ``GET payments`` (and its ``statuses`` filter) and ``export/payments``; an id naming no
  payment is a 400 naming ``paymentIds[i]`` and changes nothing;
* ``POST jpm work-breakdown-structure/budget-codes`` (full: ``segmentItemIds``),
  ``…/partial`` (``segments`` bindings) and their ``…/batch`` forms create budget codes
  listed by ``GET …/budget-codes``; a partial code keeps its bindings as its ``segments``
  (filterable by ``segmentIds``/``segmentItemIds``). A full code's segments are generated:
  the tenant has no segment catalogue (``GET segments`` is empty) to resolve item ids
  against. The documents give the batch operations no request body; the sandbox reads the
  natural batch form — a JSON array of the single create's body — and an absent body
  creates nothing;
* ``PATCH pricebook clientspecificpricing/{rateSheetId}`` replaces the rate sheet's
  exceptions (each SKU typed from the pricebook; a SKU that is not there is a 400 naming
  ``exceptions[i].skuId``), shown by ``GET clientspecificpricing``;
* ``POST pricebook images`` keeps the uploaded file (the documented JSON ``file`` string,
  or the ``file`` part of the multipart form ServiceTitan's upload also takes) under an
  ``Images/…`` path; ``GET images?path=`` answers the documented 302 to where the sandbox
  serves the bytes (``/_sandbox/files/…``, standing in for the storage URL), 404 for a
  path with no image, 400 for one not beginning ``Images/``;
* ``POST``/``PATCH pricebook pricebook`` (bulk) create or update the services, equipment,
  materials and discounts-and-fees they list, with the checks of the single writes (each
  problem named ``materials[i].code``…; nothing is written when one entry is refused);
  the create answers each entry's ``customId`` with its new id.
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.servicetitan import api_reference, records, spec, validation
from connector.sandbox.servicetitan.generic import path_number
from connector.sandbox.servicetitan.procurement import find_sku
from connector.sandbox.servicetitan.store import store_external
from connector.sandbox.servicetitan.wire import ApiError, Record
from connector.sandbox.servicetitan.writes import INVALID, Errors, body_errors, request_body

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.simulator import Route, ServiceTitanSimulator

BUDGET_CODES = "work-breakdown-structure/budget-codes"
SEGMENT_ITEMS = "work-breakdown-structure/segments/items"
#: Bulk pricebook sections → the hand-built table each lands in (None: spec-driven rows).
BULK_SECTIONS: dict[str, str | None] = {
    "services": "services",
    "equipment": "equipment",
    "materials": "materials",
    "discountAndFees": None,
}
DISCOUNTS = "discounts-and-fees"
#: Bulk-create fields that link to other SKUs, by ``skuId`` or by an entry's ``customId``.
LINK_FIELDS = (
    "serviceMaterials",
    "serviceEquipment",
    "equipmentMaterials",
    "recommendations",
    "upgrades",
)
SKU_TYPES = {"services": "Service", "materials": "Material", "equipment": "Equipment"}
FILES_PREFIX = "/_sandbox/files/"


def _op(module: str, method: str, path: str) -> spec.WriteOperation:
    return spec.write_operations()[(module, method, path)]


def _prefixed(prefix: str, errors: Errors) -> Errors:
    return {f"{prefix}.{field}" if field != "$" else prefix: m for field, m in errors.items()}


class KeptWrites:
    """Handlers for the writes above, bound to one simulator; uploaded images live here
    until the next seed or reset."""

    def __init__(self, sim: ServiceTitanSimulator) -> None:
        self.sim = sim
        self.images: dict[str, tuple[bytes, str]] = {}

    def clear(self) -> None:
        self.images.clear()

    def routes(self) -> list[Route]:
        return [
            ("POST", "accounting", "payments/status", self.payment_status),
            ("POST", "jpm", BUDGET_CODES, self.budget_code),
            ("POST", "jpm", f"{BUDGET_CODES}/partial", self.budget_code),
            ("POST", "jpm", f"{BUDGET_CODES}/batch", self.budget_codes),
            ("POST", "jpm", f"{BUDGET_CODES}/partial/batch", self.budget_codes),
            ("PATCH", "pricebook", "clientspecificpricing/{rateSheetId}", self.rate_sheet),
            ("POST", "pricebook", "images", self.upload_image),
            ("GET", "pricebook", "images", self.image),
            ("POST", "pricebook", "pricebook", self.bulk_create),
            ("PATCH", "pricebook", "pricebook", self.bulk_update),
        ]

    # -- payments -------------------------------------------------------------------------
    async def payment_status(self, request: web.Request) -> web.StreamResponse:
        op = _op("accounting", "POST", "payments/status")
        body = await request_body(request, op)
        table = self.sim.store.table("payments")
        missing = {
            f"paymentIds[{index}]": [
                f"The paymentIds[{index}] {payment_id} names no payment in this tenant; "
                "send ids GET payments lists."
            ]
            for index, payment_id in enumerate(body["paymentIds"])
            if table.get(payment_id) is None
        }
        if missing:
            raise ApiError(400, INVALID, missing)
        status_schema = spec.schema_named("accounting", "Accounting.V2.PaymentStatus")
        wanted = str(body["status"]).lower()
        status = next(e for e in status_schema["enum"] if str(e).lower() == wanted)
        for payment_id in body["paymentIds"]:
            payment = table.get(payment_id)
            if payment is not None and payment.get("syncStatus") != status:
                payment["syncStatus"] = status
                self.sim.store.touch("payments", payment)
        return web.Response(status=200)

    # -- budget codes ---------------------------------------------------------------------
    def _new_budget_code(self, partial: bool, args: Record) -> Record:
        """A budget code from one create's (checked) args, as GET budget-codes lists it."""
        if not partial:
            created = self.sim.writes.create(_op("jpm", "POST", BUDGET_CODES), {}, args)
            return {key: created[key] for key in ("id", "code", "description", "segments")}
        sources = self.sim.generic.sources
        segments = []
        for binding in args["segments"]:
            item_id = binding.get("segmentItemId")
            parent = ("segments", binding["segmentId"], None)
            known = item_id is not None
            item = sources.find("jpm", SEGMENT_ITEMS, parent, item_id) if known else None
            segments.append(
                {
                    "segmentId": binding["segmentId"],
                    "segmentItemId": item_id,
                    "code": (item or {}).get("code"),
                    "description": (item or {}).get("description"),
                    "path": (item or {}).get("path"),
                }
            )
        parts = [s["code"] or str(s["segmentItemId"] or s["segmentId"]) for s in segments]
        stamp = self.sim.store.stamp()
        fields = {
            "code": "-".join(parts),
            "description": " / ".join(s["description"] or s["code"] or "" for s in segments),
            "segments": segments,
            "createdOn": stamp,
            "modifiedOn": stamp,
        }
        listed = spec.operations()[("jpm", BUDGET_CODES)].item_schema()
        created = sources.add("jpm", BUDGET_CODES, None, listed, fields)
        return {key: created[key] for key in ("id", "code", "description", "segments")}

    async def budget_code(self, request: web.Request) -> web.StreamResponse:
        partial = request.path.endswith("/partial")
        op = _op("jpm", "POST", f"{BUDGET_CODES}/partial" if partial else BUDGET_CODES)
        body = await request_body(request, op)
        return json_response({"code": self._new_budget_code(partial, body)})

    async def budget_codes(self, request: web.Request) -> web.StreamResponse:
        partial = "/partial/" in request.path
        single = _op("jpm", "POST", f"{BUDGET_CODES}/partial" if partial else BUDGET_CODES)
        raw = await request.read()
        entries: Any = []
        if raw.strip():
            try:
                entries = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                problem = {"$": ["The request body is not valid JSON."]}
                raise ApiError(400, INVALID, problem) from None
        if not isinstance(entries, list):
            raise ApiError(
                400,
                INVALID,
                {"$": ["Send a JSON array of budget codes, each the body of the single create."]},
            )
        errors: Errors = {}
        for index, entry in enumerate(entries):
            problems = body_errors("jpm", single.request or {}, entry, f"[{index}]")
            if not isinstance(entry, dict):
                problems = {f"[{index}]": ["Each budget code must be a JSON object."]}
            errors.update(problems)
        if errors:
            raise ApiError(400, INVALID, errors)
        return json_response({"codes": [self._new_budget_code(partial, e) for e in entries]})

    # -- client-specific pricing ----------------------------------------------------------
    async def rate_sheet(self, request: web.Request) -> web.StreamResponse:
        op = _op("pricebook", "PATCH", "clientspecificpricing/{rateSheetId}")
        sheet_id = path_number(request, "rateSheetId")
        body = await request_body(request, op)
        sources = self.sim.generic.sources
        sheet = sources.find("pricebook", "clientspecificpricing", None, sheet_id)
        if sheet is None:
            raise ApiError(
                404,
                "Not Found",
                {"rateSheetId": [f"No rate sheet with id {sheet_id} exists in this tenant."]},
            )
        sent = body.get("exceptions")
        if sent is None:
            kept = sheet.get("exceptions") or []
        else:
            kept = []
            errors: Errors = {}
            for index, exception in enumerate(sent):
                found = find_sku(self.sim.store, exception["skuId"], tuple(SKU_TYPES))
                if found is None:
                    errors[f"exceptions[{index}].skuId"] = [
                        f"The exceptions[{index}].skuId {exception['skuId']} names no "
                        "service, material or equipment in the pricebook."
                    ]
                    continue
                kept.append(
                    {
                        "skuId": exception["skuId"],
                        "skuType": SKU_TYPES[found[1]],
                        "value": exception["value"],
                        "valueType": exception["valueType"],
                    }
                )
            if errors:
                raise ApiError(400, INVALID, errors)
            fields = {"exceptions": kept, "modifiedOn": self.sim.store.stamp()}
            sources.change("pricebook", "clientspecificpricing", sheet_id, fields)
        reply = [{k: e[k] for k in ("skuId", "value", "valueType")} for e in kept]
        return json_response({"exceptions": reply})

    # -- images ---------------------------------------------------------------------------
    async def upload_image(self, request: web.Request) -> web.StreamResponse:
        name = "upload"
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = form.get("file")
            if not isinstance(part, web.FileField):
                raise ApiError.invalid("file", "The file field is required: attach the image.")
            content, name = part.file.read(), part.filename or name
            kind = part.content_type
        else:
            body = await request_body(request, _op("pricebook", "POST", "images"))
            if not isinstance(body.get("file"), str) or not body["file"]:
                raise ApiError.invalid("file", "The file field is required: send the image.")
            content, kind = body["file"].encode(), "application/octet-stream"
        path = f"Images/Pricebook/{len(self.images) + 1}/{name}"
        guessed = mimetypes.guess_type(name)[0]
        self.images[path] = (content, guessed or kind or "application/octet-stream")
        return json_response({"path": path}, 201)

    async def image(self, request: web.Request) -> web.StreamResponse:
        path = request.query.get("path", "")
        if not path.startswith("Images/"):
            raise ApiError.invalid(
                "path", f"The path '{path}' is not an image path; it must begin with 'Images/'."
            )
        if path not in self.images:
            raise ApiError(404, "Not Found", {"path": [f"No image is stored at '{path}'."]})
        location = f"{request.url.origin()}{FILES_PREFIX}{path}"
        return web.Response(status=302, headers={"Location": location})

    async def serve_file(self, request: web.Request) -> web.StreamResponse:
        """The bytes behind an image's 302 (the sandbox's stand-in for the storage URL)."""
        found = self.images.get(request.match_info["path"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    # -- bulk pricebook -------------------------------------------------------------------
    def _entries(self, body: Record) -> list[tuple[str, int, Record]]:
        return [
            (section, index, entry)
            for section in BULK_SECTIONS
            for index, entry in enumerate(body.get(section) or [])
        ]

    def _sku_problems(self, section: str, index: int, entry: Record, own: int | None) -> Errors:
        shape = validation.sku_create if own is None else validation.sku_patch
        found = validation.check(entry, shape(section))
        found.update(api_reference.sku_errors(self.sim.store, section, entry, own))
        return _prefixed(f"{section}[{index}]", found)

    @staticmethod
    def _duplicate_codes(entries: list[tuple[str, int, Record]]) -> Errors:
        errors: Errors = {}
        seen: dict[tuple[str, str], int] = {}
        for section, index, entry in entries:
            code = str(entry.get("code") or "").lower()
            if not code:
                continue
            first = seen.setdefault((section, code), index)
            if first != index:
                errors[f"{section}[{index}].code"] = [
                    f"Code '{entry['code']}' is also sent by {section}[{first}]; codes are unique."
                ]
        return errors

    @staticmethod
    def _link_errors(entries: list[tuple[str, int, Record]]) -> Errors:
        """Links (``serviceMaterials``, ``recommendations``…) must name a SKU by ``skuId``
        or by the ``customId`` of another entry of the same body."""
        known = {str(e["customId"]) for _, _, e in entries if e.get("customId") is not None}
        errors: Errors = {}
        for section, index, entry in entries:
            for field in LINK_FIELDS:
                for at, link in enumerate(entry.get(field) or []):
                    if link.get("skuId") is None and str(link.get("customId")) not in known:
                        where = f"{section}[{index}].{field}[{at}]"
                        errors[f"{where}.customId"] = [
                            f"{where} names no SKU: send its skuId, or the customId of "
                            "another entry of this body."
                        ]
        return errors

    @staticmethod
    def _resolved(section: str, entry: Record, ids: dict[str, int]) -> Record:
        """``entry``'s links in the single create's form, customIds replaced by new ids."""
        single = spec.write_operations()[("pricebook", "POST", section)].request or {}
        props = spec.resolve("pricebook", single).get("properties", {})
        resolved = dict(entry)
        for field in LINK_FIELDS:
            if entry.get(field) is None or field not in props:
                continue
            item = spec.resolve("pricebook", props[field].get("items", {}))
            links = []
            for link in entry[field]:
                sku_id = link.get("skuId")
                sku_id = sku_id if sku_id is not None else ids[str(link["customId"])]
                plain = {k: v for k, v in link.items() if k != "customId"} | {"skuId": sku_id}
                links.append(sku_id if "integer" in spec.types_of(item) else plain)
            resolved[field] = links
        return resolved

    async def bulk_create(self, request: web.Request) -> web.StreamResponse:
        body = await request_body(request, _op("pricebook", "POST", "pricebook"))
        entries = self._entries(body)
        errors = self._duplicate_codes(entries) | self._link_errors(entries)
        for section, index, entry in entries:
            if BULK_SECTIONS[section] is not None:
                without_links = {k: v for k, v in entry.items() if k not in LINK_FIELDS}
                errors.update(self._sku_problems(section, index, without_links, None))
        if errors:
            raise ApiError(400, INVALID, errors)
        store = self.sim.store
        reply: dict[str, list[Record]] = {section: [] for section in BULK_SECTIONS}
        made: list[tuple[str, Record, Record]] = []
        ids: dict[str, int] = {}
        for section, _, entry in entries:
            table = BULK_SECTIONS[section]
            plain = {k: v for k, v in entry.items() if k not in LINK_FIELDS}
            if table is None:
                stamp = store.stamp()
                fields = {"active": True} | plain | {"createdOn": stamp, "modifiedOn": stamp}
                listed = spec.operations()[("pricebook", DISCOUNTS)].item_schema()
                record = self.sim.generic.sources.add("pricebook", DISCOUNTS, None, listed, fields)
            else:
                sku = api_reference.category_links(self.sim, table, plain)
                record = records.sku(store, store.stamp(), table, sku)
                if entry.get("externalData") is not None:
                    store_external(record, entry["externalData"], patch=False)
                store.insert(table, record)
                made.append((table, record, entry))
            if entry.get("customId") is not None:
                ids[str(entry["customId"])] = record["id"]
            custom_id = str(entry.get("customId") or "")
            reply[section].append({"customId": custom_id, "id": record["id"]})
        # Links go on once every entry has its id: one may name another by customId.
        for table, record, entry in made:
            links = {k: v for k, v in entry.items() if k in LINK_FIELDS}
            records.apply_sku_fields(store, table, record, self._resolved(table, links, ids))
        return json_response({k: v for k, v in reply.items() if v}, 201)

    async def bulk_update(self, request: web.Request) -> web.StreamResponse:
        body = await request_body(request, _op("pricebook", "PATCH", "pricebook"))
        entries = self._entries(body)
        errors = self._duplicate_codes(entries)
        found: dict[tuple[str, int], Record] = {}
        sources = self.sim.generic.sources
        for section, index, entry in entries:
            table = BULK_SECTIONS[section]
            if table is None:
                record = sources.find("pricebook", DISCOUNTS, None, entry["id"])
            else:
                record = self.sim.store.table(table).get(entry["id"])
            if record is None:
                label = "discount or fee" if table is None else SKU_TYPES[section].lower()
                errors[f"{section}[{index}].id"] = [
                    f"The {section}[{index}].id {entry['id']} names no {label} in this tenant."
                ]
            elif table is not None:
                errors.update(self._sku_problems(section, index, entry, entry["id"]))
            if record is not None:
                found[(section, index)] = record
        if errors:
            raise ApiError(400, INVALID, errors)
        store = self.sim.store
        for section, index, entry in entries:
            record, table = found[(section, index)], BULK_SECTIONS[section]
            changes = {k: v for k, v in entry.items() if k not in ("id", "externalData")}
            if table is None:
                fields = changes | {"modifiedOn": store.stamp()}
                sources.change("pricebook", DISCOUNTS, entry["id"], fields)
                continue
            sku = api_reference.category_links(self.sim, table, changes)
            records.apply_sku_fields(store, table, record, sku)
            if entry.get("externalData") is not None:
                store_external(record, entry["externalData"], patch=True)
            store.touch(table, record)
        return web.Response(status=200)
