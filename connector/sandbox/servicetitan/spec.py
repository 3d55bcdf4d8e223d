"""The GET operations of ServiceTitan's OpenAPI documents, as the simulator reads them.

Loaded once from the cut documents in :mod:`.openapi`. An :class:`Operation` knows its
query parameters (name → :class:`Param`, with the JSON type, format and enum the vendor
documents) and the schema of its 200 body, so listing and the generic endpoints are driven
by the vendor's words rather than by a table transcribed by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from connector.sandbox.servicetitan.openapi import MODULES

Schema = dict[str, Any]
Shape = Literal["page", "export", "array", "object"]

_TEMPLATE = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Param:
    """One documented query parameter: ``kind`` is the scalar JSON type (``string``,
    ``integer``, ``number``, ``boolean``, ``object``), ``many`` marks an array, ``fmt`` the
    format (``date-time``, ``guid``…) and ``enum`` the allowed values when there are some."""

    name: str
    kind: str
    many: bool
    fmt: str | None
    enum: tuple[str, ...] | None
    description: str


@dataclass(frozen=True)
class Operation:
    module: str
    path: str  # after /tenant/{tenant}/, with the vendor's {name} placeholders
    params: dict[str, Param]
    path_params: tuple[str, ...]
    integer_path_params: frozenset[str]
    body: Schema | None  # the 200 application/json schema ($refs unresolved)

    @property
    def shape(self) -> Shape:
        schema = resolve(self.module, self.body or {})
        props = schema.get("properties", {})
        if "continueFrom" in props:
            return "export"
        if "hasMore" in props and "data" in props:
            return "page"
        if schema.get("type") == "array":
            return "array"
        return "object"

    def item_schema(self) -> Schema:
        """The schema of one row (a page's or feed's ``data`` item, an array's item) or of
        the whole body for single-object replies."""
        schema = resolve(self.module, self.body or {})
        if self.shape in ("page", "export"):
            return resolve(self.module, schema["properties"]["data"]["items"])
        if self.shape == "array":
            return resolve(self.module, schema["items"])
        return schema


@cache
def document(module: str) -> dict[str, Any]:
    text = resources.files("connector.sandbox.servicetitan.openapi").joinpath(f"{module}.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def schema_named(module: str, name: str) -> Schema:
    found: Schema = document(module)["components"]["schemas"][name]
    return found


def resolve(module: str, schema: Schema) -> Schema:
    """Follow ``$ref`` and the single-member ``oneOf``/``allOf`` wrappers the vendor uses to
    attach descriptions to references."""
    seen = 0
    while seen < 32:
        seen += 1
        if "$ref" in schema:
            schema = schema_named(module, schema["$ref"].rsplit("/", 1)[-1])
        elif len(schema.get("oneOf", ())) == 1 and "properties" not in schema:
            schema = schema["oneOf"][0]
        elif len(schema.get("allOf", ())) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        else:
            return schema
    return schema


def types_of(schema: Schema) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return {str(k) for k in kind}
    return {str(kind)} if kind else set()


def _param(module: str, raw: dict[str, Any]) -> Param:
    schema = resolve(module, raw.get("schema", {}))
    many = "array" in types_of(schema)
    if many:
        schema = resolve(module, schema.get("items", {}))
    kinds = types_of(schema) - {"null"}
    enum = schema.get("enum")
    return Param(
        name=raw["name"],
        kind=next(iter(kinds)) if kinds else "string",
        many=many,
        fmt=schema.get("format"),
        enum=tuple(str(value) for value in enum) if enum else None,
        description=str(raw.get("description") or ""),
    )


@cache
def operations() -> dict[tuple[str, str], Operation]:
    """Every documented GET, keyed by (module, path after ``/tenant/{tenant}/``)."""
    found: dict[tuple[str, str], Operation] = {}
    for module in MODULES:
        for full_path, item in document(module)["paths"].items():
            if "get" not in item:
                continue
            get = item["get"]
            path = full_path.removeprefix("/tenant/{tenant}/")
            raw_params = [*item.get("parameters", []), *get.get("parameters", [])]
            content = get.get("responses", {}).get("200", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            found[(module, path)] = Operation(
                module=module,
                path=path,
                params={p["name"]: _param(module, p) for p in raw_params if p.get("in") == "query"},
                path_params=tuple(
                    p["name"] for p in raw_params if p.get("in") == "path" and p["name"] != "tenant"
                ),
                integer_path_params=frozenset(
                    p["name"]
                    for p in raw_params
                    if p.get("in") == "path"
                    and "integer" in types_of(resolve(module, p.get("schema", {})))
                ),
                body=body,
            )
    return found


WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class WriteOperation:
    """One documented write: its request body schema (None when it takes none) and, per
    documented status, the JSON body schema (None for an empty body)."""

    module: str
    method: str  # upper case
    path: str
    path_params: tuple[str, ...]
    integer_path_params: frozenset[str]
    request: Schema | None
    request_required: bool
    responses: dict[str, Schema | None]

    @property
    def success(self) -> str:
        """The documented 2xx status the operation answers on success."""
        return min(code for code in self.responses if code.startswith("2"))


@cache
def write_operations() -> dict[tuple[str, str, str], WriteOperation]:
    """Every documented write, keyed by (module, METHOD, path after ``/tenant/{tenant}/``)."""
    found: dict[tuple[str, str, str], WriteOperation] = {}
    for module in MODULES:
        for full_path, item in document(module)["paths"].items():
            path = full_path.removeprefix("/tenant/{tenant}/")
            for method in WRITE_METHODS:
                raw = item.get(method)
                if raw is None:
                    continue
                raw_params = [*item.get("parameters", []), *raw.get("parameters", [])]
                body = raw.get("requestBody") or {}
                request = (body.get("content") or {}).get("application/json", {}).get("schema")
                responses: dict[str, Schema | None] = {}
                for code, answer in raw.get("responses", {}).items():
                    content = (answer or {}).get("content") or {}
                    responses[code] = content.get("application/json", {}).get("schema")
                found[(module, method.upper(), path)] = WriteOperation(
                    module=module,
                    method=method.upper(),
                    path=path,
                    path_params=tuple(
                        p["name"]
                        for p in raw_params
                        if p.get("in") == "path" and p["name"] != "tenant"
                    ),
                    integer_path_params=frozenset(
                        p["name"]
                        for p in raw_params
                        if p.get("in") == "path"
                        and "integer" in types_of(resolve(module, p.get("schema", {})))
                    ),
                    request=request,
                    request_required=bool(body.get("required")),
                    responses=responses,
                )
    return found


def template_key(path: str) -> str:
    """A route path with every placeholder reduced to ``{}``, to match ours to the vendor's."""
    return _TEMPLATE.sub("{}", path)


@cache
def _by_template() -> dict[tuple[str, str], Operation]:
    return {(op.module, template_key(op.path)): op for op in operations().values()}


def operation_for(module: str, route_path: str) -> Operation | None:
    """The documented GET behind one of our route paths (``invoices``, ``ap-bills/{billId:…}``)."""
    return _by_template().get((module, template_key(route_path)))
