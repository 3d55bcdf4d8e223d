"""POST (create), PATCH (update), DELETE and bound actions, with IFS's preconditions.

PATCH, DELETE and actions need ``If-Match`` with the row's current ETag (sheet §5): a stale
one is 412, a missing one ``ODP_MISSING_PRECONDITION`` (428; knob: upsert instead on PATCH),
``*`` skips the check. Bodies must be ``application/json`` objects of known attributes of the
right type (400 ``ODP_DESERIALIZATION_ERROR`` naming the attribute). A POST is never
deduplicated: sent twice, it creates two rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from aiohttp import web

from connector.sandbox.ifs import rules
from connector.sandbox.ifs.knobs import IfsKnobs
from connector.sandbox.ifs.responses import deserialization_error, odata_error
from connector.sandbox.ifs.schema import EntitySet
from connector.sandbox.ifs.store import Row, Store, Table
from connector.sandbox.ifs.values import ValueProblem, check_value

_INITIAL_STATE = {"PurchaseOrder": "Planned", "PurchaseOrderLine": "Planned"}


class Refused(Exception):
    """A write the tenant refuses; ``response`` is what it answers."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def business(error: rules.BusinessError, knobs: IfsKnobs) -> Refused:
    return Refused(
        odata_error(
            knobs.business_error_status, knobs.business_error_code, str(error), target=error.target
        )
    )


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or Refused with ``ODP_DESERIALIZATION_ERROR``."""
    if request.content_type != "application/json":
        raise Refused(deserialization_error("The Content-Type must be application/json."))
    try:
        body = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        raise Refused(deserialization_error("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise Refused(deserialization_error("The body must be a JSON object."))
    return {k: v for k, v in body.items() if not k.startswith("@odata.")}


def _checked(spec: EntitySet, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in body.items():
        attr = spec.attrs.get(name)
        if attr is None:
            raise Refused(
                deserialization_error(f"{name} is not an attribute of {spec.entity}.", target=name)
            )
        allowed = attr.insertable if creating else attr.editable and name not in spec.keys
        if not allowed and value is not None:
            verb = "inserted" if creating else "updated"
            raise Refused(
                deserialization_error(
                    f"Attribute {name} of {spec.entity} cannot be {verb}.", target=name
                )
            )
        try:
            values[name] = check_value(name, attr, value)
        except ValueProblem as exc:
            raise Refused(deserialization_error(str(exc), target=name)) from None
    return values


def create(store: Store, table: Table, body: dict[str, Any], knobs: IfsKnobs) -> Row:
    spec = table.spec
    values = _checked(spec, body, creating=True)
    for name, attr in spec.attrs.items():
        if attr.required and values.get(name) in (None, "") and name not in spec.server_keys:
            raise business(rules.mandatory(spec.entity, name), knobs)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=knobs.site_utc_offset_h)
    for name, attr in spec.attrs.items():
        if not attr.insertable:
            if attr.type == "timestamp":
                values[name] = now.replace(tzinfo=None, microsecond=0)
            elif attr.type == "date":
                values[name] = now.date().isoformat()
            elif name == "Objstate":
                values[name] = _INITIAL_STATE.get(spec.entity)
    for name in spec.attrs:
        values.setdefault(name, None)
    try:
        rules.before_insert(store, spec.path, values, knobs.create_unknown_loads)
    except rules.BusinessError as exc:
        raise business(exc, knobs) from None
    if table.key_of(values) in table.rows:
        raise business(
            rules.BusinessError(
                spec.entity,
                "FND_RECORD_EXIST",
                f"The {spec.entity} object {', '.join(map(str, table.key_of(values)))} already "
                "exists.",
                ora=20112,
            ),
            knobs,
        )
    return store.insert(spec.path, values)


def update(store: Store, table: Table, row: Row, body: dict[str, Any], knobs: IfsKnobs) -> None:
    spec = table.spec
    values = _checked(spec, body, creating=False)
    if spec.entity == "ExtTransactions":
        if row.values.get("Objstate") == "Updated":
            raise business(
                rules.BusinessError(
                    "ExtTransactions",
                    "UPDATED",
                    "The row is already updated to a voucher and cannot be changed.",
                ),
                knobs,
            )
        try:
            rules.check_coding(store, row.values | values)
        except rules.BusinessError as exc:
            raise business(exc, knobs) from None
    row.values.update(values)
    store.touch(row)


def precondition(request: web.Request, row: Row | None, knobs: IfsKnobs) -> web.Response | None:
    """None when the request may change ``row``; else the 428 or 412 to answer."""
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return odata_error(
            knobs.missing_precondition_status,
            "ODP_MISSING_PRECONDITION",
            "If-Match header is required for this request.",
        )
    if wanted.strip() == "*" or row is None:
        return None
    if row.etag not in (tag.strip() for tag in wanted.split(",")):
        return odata_error(
            412, knobs.precondition_failed_code, "The entity was modified by another user."
        )
    return None
