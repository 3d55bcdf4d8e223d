"""``/entity/Default/{version}/{Entity}…``: list, get, upsert, delete, actions, inquiries.

Handlers receive the path segments after ``/entity/Default/{version}/`` and the caller's
branch; the simulator has already checked the endpoint, the caller and the licence limits.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from aiohttp import web

from connector.sandbox.acumatica import actions
from connector.sandbox.acumatica.action_call import ActionCall, plain_parameters
from connector.sandbox.acumatica.discovery import (
    AD_HOC_SCHEMA,
    SERVED,
    definition_response,
    split_keys,
)
from connector.sandbox.acumatica.knobs import COMPANY, AcumaticaKnobs
from connector.sandbox.acumatica.odata import FilterError, compile_filter
from connector.sandbox.acumatica.responses import (
    bad_request,
    http_error,
    no_route,
    not_found,
    query_error,
)
from connector.sandbox.acumatica.schema import COMPANIES_STRUCTURE, ENTITIES
from connector.sandbox.acumatica.store import Record
from connector.sandbox.acumatica.tenant import Invalid, NotFound, PreconditionFailed, Tenant
from connector.sandbox.acumatica.values import FieldError, Shape, annotate, decode, render
from connector.sandbox.base import json_response


class Operation(msgspec.Struct):
    """A long-running action the client polls through its ``Location``."""

    entity: str
    record_id: str
    pending_polls: int
    made: str = ""
    """The entity of ``record_id`` when the action made another one (an invoice)."""


class EntityRoutes:
    """Mixin of the simulator: the contract-based entity handlers."""

    knobs: AcumaticaKnobs
    tenant: Tenant
    operations: dict[str, Operation]

    def instance_url(self) -> str:
        raise NotImplementedError

    async def entity_call(
        self, request: web.Request, version: str, entity: str, rest: list[str], branch: str
    ) -> web.Response:
        """Route one entity request by method and the segments after the entity name."""
        base = f"{self.knobs.instance_path()}/entity/Default/{version}/{entity}"
        method = request.method
        if entity == "swagger.json" and not rest and method == "GET":
            return definition_response(version, self.instance_url())
        if rest == [AD_HOC_SCHEMA] and method == "GET" and entity in SERVED:
            return json_response(render(entity, {}, Shape(), 1))
        if entity == COMPANIES_STRUCTURE and not rest and method in ("GET", "PUT"):
            return self._companies_structure(request)
        if entity == COMPANIES_STRUCTURE and rest:
            return await self._inquiry_record(request, rest)
        if entity == "files" and len(rest) == 1 and method == "GET":
            return self._file(rest[0])
        if entity not in ENTITIES:
            return no_route(
                request.path, f"The sandbox serves {', '.join(SERVED)} of the Default endpoint."
            )
        if method == "PUT" and len(rest) >= 3 and rest[-2] == "files":
            return await self._put_file(
                request, entity, split_keys(rest[:-2]), rest[-1], f"{base.rsplit('/', 1)[0]}/files"
            )
        rest = split_keys(rest)
        if method == "GET" and not rest:
            return self._list(request, entity, base)
        if method == "PUT" and not rest:
            return await self._put(request, entity, base, branch)
        if method == "POST" and len(rest) == 1:
            return await self._action(request, version, entity, rest[0], branch)
        if method == "GET" and len(rest) == 3 and rest[1] == "status":
            return self._poll(version, entity, rest[0], rest[2])
        if method == "GET" and rest:
            return self._get(request, entity, base, rest)
        if method == "DELETE" and rest:
            try:
                self.tenant.delete(entity, rest)
            except NotFound as exc:
                return not_found(str(exc))
            return web.Response(status=204)
        return http_error(
            405,
            f"The requested resource does not support http method '{method}'.",
            exception_type="System.NotSupportedException",
        )

    # -- reads --------------------------------------------------------------------------
    def _list(self, request: web.Request, entity: str, base: str) -> web.Response:
        query = request.query
        try:
            shape = Shape.parse(entity, query.get("$select"), query.get("$expand"))
            predicate = compile_filter(entity, query["$filter"]) if "$filter" in query else None
            skip = _count(query.get("$skip"), "$skip")
            top = _count(query.get("$top"), "$top")
        except (ValueError, FilterError) as exc:
            return query_error(str(exc))
        records = self.tenant.tables[entity].ordered()
        if predicate is not None:
            records = [r for r in records if predicate(r.values)]
        records = records[skip or 0 :]
        if top is not None:
            records = records[:top]
        body = [self._render(entity, r, shape, i, base) for i, r in enumerate(records, 1)]
        return json_response(body)

    def _get(self, request: web.Request, entity: str, base: str, parts: list[str]) -> web.Response:
        try:
            shape = Shape.parse(entity, request.query.get("$select"), request.query.get("$expand"))
        except ValueError as exc:
            return query_error(str(exc))
        try:
            record = self.tenant.find(entity, parts)
        except NotFound as exc:
            return not_found(str(exc))
        return json_response(self._render(entity, record, shape, 1, base))

    def _render(self, entity: str, record: Record, shape: Shape, row: int, base: str) -> Any:
        files = None
        if shape.files:
            # base is the instance path; FileLink.href is an absolute URI.
            files_url = f"{self.instance_url()}{base.removeprefix(self.knobs.instance_path())}"
            files = self.tenant.files.links(record.id, f"{files_url.rsplit('/', 1)[0]}/files")
        return render(entity, record.values, shape, row, {"self": f"{base}/{record.id}"}, files)

    # -- files --------------------------------------------------------------------------
    async def _put_file(
        self, request: web.Request, entity: str, keys: list[str], name: str, files_path: str
    ) -> web.Response:
        """Attach the body to the record (see :mod:`.files`): 204 with the file's URL."""
        try:
            record = self.tenant.find(entity, keys)
        except NotFound as exc:
            return not_found(str(exc))
        if not name.strip():
            return bad_request("The file name is empty; PUT …/files/{filename} with an extension.")
        content = await request.read()
        definition = ENTITIES[entity]
        shown = [str(record.values.get(k)) for k in definition.keys]
        attachment = self.tenant.files.attach(
            entity,
            record.id,
            shown,
            name,
            content,
            request.headers.get("Content-Type", "application/octet-stream"),
        )
        url = f"{self.instance_url()}{files_path.removeprefix(self.knobs.instance_path())}"
        return web.Response(status=204, headers={"Location": f"{url}/{attachment.id}"})

    def _file(self, file_id: str) -> web.Response:
        attachment = self.tenant.files.get(file_id)
        if attachment is None:
            return not_found(f"No file {file_id} is attached to any record.")
        return web.Response(body=attachment.content, content_type=attachment.content_type)

    # -- writes -------------------------------------------------------------------------
    async def _put(self, request: web.Request, entity: str, base: str, branch: str) -> web.Response:
        body = await _json_object(request)
        if isinstance(body, web.Response):
            return body
        try:
            shape = Shape.parse(entity, request.query.get("$select"), request.query.get("$expand"))
        except ValueError as exc:
            return bad_request(str(exc))
        plain, errors = decode(entity, body)
        if errors:
            errors += self.tenant.check_references(entity, plain, ())
            return _unprocessable(entity, body, errors)
        try:
            record = self.tenant.upsert(
                entity,
                plain,
                insert_only=request.headers.get("If-None-Match", "").strip() == "*",
                update_only=request.headers.get("If-Match", "").strip() == "*",
                branch=branch,
                rules=self.knobs.rules(),
            )
        except Invalid as exc:
            return _unprocessable(entity, body, exc.errors)
        except PreconditionFailed as exc:
            return http_error(
                412,
                "Precondition failed.",
                str(exc),
                "PX.Api.ContractBased.PreconditionFailedException",
            )
        except NotFound as exc:
            return not_found(str(exc))
        return json_response(self._render(entity, record, shape, 1, base))

    async def _action(
        self, request: web.Request, version: str, entity: str, action: str, branch: str
    ) -> web.Response:
        handler = actions.named(entity, action)
        if handler is None:
            try:
                handler = actions.custom(entity, action)
            except actions.UnknownAction as exc:
                return http_error(500, "An error has occurred.", str(exc))
        body = await _json_object(request)
        if isinstance(body, web.Response):
            return body
        target = body.get("entity")
        if not isinstance(target, dict):
            return bad_request(f'{action} needs a body {{"entity": {{...keys...}}}}.')
        keys, errors = decode(entity, target)
        if errors:
            return _unprocessable(entity, target, errors)
        try:
            found = self.tenant.locate(entity, keys)
            call = ActionCall(
                self.tenant,
                entity,
                found,
                plain_parameters(body.get("parameters")),
                self.knobs.rules(),
                branch,
            )
            record = handler(call)
        except NotFound as exc:
            return not_found(str(exc))
        except Invalid as exc:
            return _unprocessable(entity, target, exc.errors)
        operation_id = str(uuid.uuid4())
        # The finished operation points at what the action made (a reversing bill, an
        # invoice) or acted on; that can be another entity than the one invoked.
        made = next(
            (name for name, table in self.tenant.tables.items() if table.get(record.id) is record),
            entity,
        )
        self.operations[operation_id] = Operation(
            entity, record.id, self.knobs.action_pending_polls, made
        )
        location = (
            f"{self.instance_url()}/entity/Default/{version}/{entity}/{action}"
            f"/status/{operation_id}"
        )
        return web.Response(status=202, headers={"Location": location})

    def _poll(self, version: str, entity: str, action: str, operation_id: str) -> web.Response:
        operation = self.operations.get(operation_id)
        if operation is None or operation.entity != entity:
            return not_found(f"No {entity} {action} operation {operation_id} is known.")
        if operation.pending_polls > 0:
            operation.pending_polls -= 1
            location = (
                f"{self.instance_url()}/entity/Default/{version}/{entity}/{action}"
                f"/status/{operation_id}"
            )
            return web.Response(status=202, headers={"Location": location})
        del self.operations[operation_id]
        target = operation.made or entity
        location = f"{self.instance_url()}/entity/Default/{version}/{target}/{operation.record_id}"
        return web.Response(status=204, headers={"Location": location})

    # -- inquiries ----------------------------------------------------------------------
    async def _inquiry_record(self, request: web.Request, rest: list[str]) -> web.Response:
        """CompaniesStructure by id or keys, deleted, given a file, or sent an action.

        An inquiry is a form, not stored records: its one record is the form itself, read
        by the id its PUT returns; it has no key fields, cannot be deleted, holds no files
        and runs no actions. Those answer 500 with the exception the real system raises.
        """
        inquiry_id = str(uuid.uuid5(uuid.NAMESPACE_OID, COMPANY))
        method = request.method
        if method == "GET" and len(rest) == 1 and rest[0].casefold() == inquiry_id:
            return self._companies_structure(request, single=True)
        if method == "GET":
            return not_found(
                f"{COMPANIES_STRUCTURE} is an inquiry with no key fields; read "
                f"it by PUT, or GET it by the id {inquiry_id}."
            )
        what = {"DELETE": "deleted", "PUT": "given files", "POST": "sent actions"}
        return http_error(
            500,
            "An error has occurred.",
            f"{COMPANIES_STRUCTURE} is an inquiry; it cannot be {what.get(method, 'changed')}.",
        )

    def _companies_structure(self, request: web.Request, single: bool = False) -> web.Response:
        """The inquiry that lists branches: ``PUT`` with ``$expand=Results`` like the real one."""
        try:
            shape = Shape.parse(
                COMPANIES_STRUCTURE, request.query.get("$select"), request.query.get("$expand")
            )
        except ValueError as exc:
            return (bad_request if request.method == "PUT" else query_error)(str(exc))
        rows = [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_OID, code)),
                "BranchID": code,
                "BranchName": name,
                "BranchStatus": True,
                "BranchCountry": "US",
                "BaseCurrencyID": "USD",
                "CompanyID": COMPANY.upper(),
                "CompanyName": COMPANY,
                "CompanyStatus": True,
                "CompanyType": "With Branches Not Requiring Balancing",
            }
            for code, name in self.tenant.branches.items()
        ]
        inquiry = {"id": str(uuid.uuid5(uuid.NAMESPACE_OID, COMPANY)), "Results": rows}
        body = render(COMPANIES_STRUCTURE, inquiry, shape, 1)
        return json_response(body if request.method == "PUT" or single else [body])


async def _json_object(request: web.Request) -> dict[str, Any] | web.Response:
    raw = await request.read()
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        return bad_request(
            f"The request body is not valid JSON ({exc}); send one record as a "
            "JSON object of value objects."
        )
    if not isinstance(body, dict):
        return bad_request("The request body must be a JSON object (one record).")
    return body


def _unprocessable(entity: str, body: dict[str, Any], errors: list[FieldError]) -> web.Response:
    summary = f"{entity} record raised at least one error. Please review the errors."
    return json_response(annotate(body, errors, summary), 422)


def _count(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise ValueError(f"{name} must be a non-negative integer, got {text!r}")
    return int(text)
